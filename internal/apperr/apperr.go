// Package apperr is the one error type that crosses layers: domain code returns it for
// anything a caller should see, and the web layer turns its Code into an HTTP status.
package apperr

import (
	"errors"
	"fmt"
	"sort"
)

// Code classifies an error by what the caller can do about it.
type Code string

const (
	NotFound        Code = "not_found"
	Invalid         Code = "invalid"
	Conflict        Code = "conflict"
	Forbidden       Code = "forbidden"
	Unauthenticated Code = "unauthenticated"
	Unavailable     Code = "unavailable"
	RateLimited     Code = "rate_limited"
	Internal        Code = "internal"
)

// Error is an error meant for the person or program making the request.
// Fields maps a request field (JSON name, dotted for nesting) to what is wrong with it.
type Error struct {
	Code    Code
	Message string
	Fields  map[string]string
	// Current optionally carries the current state of the thing a conflict is about.
	Current any
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	names := make([]string, 0, len(e.Fields))
	for name := range e.Fields {
		names = append(names, name)
	}
	sort.Strings(names)
	return fmt.Sprintf("%s: %s (%s: %s)", e.Code, e.Message, names[0], e.Fields[names[0]])
}

// New returns an Error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error about one field.
func Field(field, problem string) *Error {
	return &Error{Code: Invalid, Message: "the request has invalid fields", Fields: map[string]string{field: problem}}
}

// CodeOf returns the Code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}
