// Package valid checks request input field by field and reports every problem at once,
// as one apperr.Invalid error whose Fields name them. Request structs carry ids and
// dates as strings so that a malformed one is reported against its field.
package valid

import (
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/geo"
)

// DateLayout is how calendar dates travel in the API.
const DateLayout = time.DateOnly

// Errors maps a field (JSON name, dotted for nesting) to what is wrong with it.
// The zero value is ready to use.
type Errors map[string]string

// Add records a problem with field unless one is already recorded.
func (e *Errors) Add(field, problem string) {
	if *e == nil {
		*e = Errors{}
	}
	if _, ok := (*e)[field]; !ok {
		(*e)[field] = problem
	}
}

// Check records problem for field when ok is false.
func (e *Errors) Check(ok bool, field, problem string) {
	if !ok {
		e.Add(field, problem)
	}
}

// Err returns an Invalid error listing the problems, or nil when there are none.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return &apperr.Error{Code: apperr.Invalid, Message: "the request has invalid fields", Fields: e}
}

// Text trims s and checks it is present (when required) and at most maxLen characters.
func (e *Errors) Text(field, s string, required bool, maxLen int) string {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		e.Add(field, "is required")
	case utf8.RuneCountInString(s) > maxLen:
		e.Add(field, "is too long")
	case !utf8.ValidString(s) || strings.ContainsFunc(s, control):
		e.Add(field, "contains control characters")
	}
	return s
}

// OptionalText is Text for a field that may be absent; an empty string becomes nil.
func (e *Errors) OptionalText(field string, s *string, maxLen int) *string {
	if s == nil {
		return nil
	}
	t := e.Text(field, *s, false, maxLen)
	if t == "" {
		return nil
	}
	return &t
}

// UUID parses a required id.
func (e *Errors) UUID(field, s string) uuid.UUID {
	if s == "" {
		e.Add(field, "is required")
		return uuid.Nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		e.Add(field, "must be a UUID")
	}
	return id
}

// OptionalUUID parses an id that may be absent.
func (e *Errors) OptionalUUID(field string, s *string) *uuid.UUID {
	if s == nil || *s == "" {
		return nil
	}
	id := e.UUID(field, *s)
	return &id
}

// Date parses a required YYYY-MM-DD date.
func (e *Errors) Date(field, s string) time.Time {
	if s == "" {
		e.Add(field, "is required")
		return time.Time{}
	}
	d, err := time.Parse(DateLayout, s)
	if err != nil {
		e.Add(field, "must be a date as YYYY-MM-DD")
	}
	return d
}

// OptionalDate parses a date that may be absent.
func (e *Errors) OptionalDate(field string, s *string) *time.Time {
	if s == nil || *s == "" {
		return nil
	}
	d := e.Date(field, *s)
	return &d
}

// Point checks a required position, naming field.lat or field.lng when one is missing.
func (e *Errors) Point(field string, in *geo.Input) geo.Point {
	if in == nil {
		e.Add(field, "is required")
		return geo.Point{}
	}
	if in.Lat == nil || in.Lng == nil {
		e.Check(in.Lat != nil, field+".lat", "is required")
		e.Check(in.Lng != nil, field+".lng", "is required")
		return geo.Point{}
	}
	p := geo.Point{Lat: *in.Lat, Lng: *in.Lng}
	if problem := p.Problem(); problem != "" {
		e.Add(field, problem)
	}
	return p
}

// TimeZone checks an IANA time zone name such as Europe/Moscow.
func (e *Errors) TimeZone(field, s string) string {
	if s == "" {
		e.Add(field, "is required")
		return s
	}
	if _, err := time.LoadLocation(s); err != nil || s == "Local" {
		e.Add(field, "must be an IANA time zone such as Europe/Moscow")
	}
	return s
}

// OneOf checks that s is one of the allowed values.
func (e *Errors) OneOf(field, s string, allowed ...string) string {
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	e.Add(field, "must be one of "+strings.Join(allowed, ", "))
	return s
}

// slug is the rule for codes such as asset types and skill codes (the database's too).
var slug = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// Slug checks s is a code: 2 to 40 lower-case letters, digits or _, from a letter.
func (e *Errors) Slug(field, s string) string {
	e.Check(slug.MatchString(s), field, "must be 2 to 40 lower-case letters, digits or _, starting with a letter")
	return s
}

// Email is a light check that s looks like an address (the same rule as the database's).
func Email(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, " \t\r\n") && !strings.Contains(domain, "@")
}

// control reports characters no text field holds; tabs and line breaks are fine.
func control(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }
