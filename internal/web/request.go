package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/page"
)

// DecodeJSON reads the request body into v strictly: one JSON value, no unknown fields,
// and errors that name the offending field.
func DecodeJSON(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return apperr.Field("body", "a JSON body is required")
	}
	if ct := c.Get(fiber.HeaderContentType); ct != "" && !strings.Contains(strings.ToLower(ct), "json") {
		return apperr.Field("body", "must be sent as application/json")
	}
	return Unmarshal(body, v)
}

// Unmarshal decodes one JSON value strictly (no unknown fields), with errors that name
// the offending field, as DecodeJSON does for a request body.
func Unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apperr.Field("body", "must hold a single JSON value")
	}
	return nil
}

// DecodeOptionalJSON is DecodeJSON for a body that may be left out entirely.
func DecodeOptionalJSON(c *fiber.Ctx, v any) error {
	if len(bytes.TrimSpace(c.Body())) == 0 {
		return nil
	}
	return DecodeJSON(c, v)
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return apperr.Field("body", fmt.Sprintf("is not valid JSON (at byte %d)", syntax.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.Field("body", "is not valid JSON (it ends too early)")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return apperr.Field(field, "must be "+jsonKind(typ.Type))
	}
	// encoding/json reports an unknown field only as text: `json: unknown field "x"`.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return apperr.Field(strings.Trim(name, `"`), "is not a known field")
	}
	return apperr.Field("body", "is not valid JSON")
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// PathID parses the :id path parameter. A malformed id names nothing that exists, so it
// answers 404 like an unknown one.
func PathID(c *fiber.Ctx) (uuid.UUID, error) {
	return parseID(c.Params("id"))
}

func parseID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, apperr.New(apperr.NotFound, "not found")
	}
	return id, nil
}

// QueryUUID parses an optional id filter from the query string.
func QueryUUID(c *fiber.Ctx, name string) (*uuid.UUID, error) {
	s := c.Query(name)
	if s == "" {
		return nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return nil, apperr.Field(name, "must be a UUID")
	}
	return &id, nil
}

// QueryTime parses an optional RFC 3339 instant from the query string.
func QueryTime(c *fiber.Ctx, name string) (*time.Time, error) {
	s := c.Query(name)
	if s == "" {
		return nil, nil
	}
	// An offset's "+" left unencoded in the URL arrives as a space.
	t, err := time.Parse(time.RFC3339, strings.Replace(s, " ", "+", 1))
	if err != nil {
		return nil, apperr.Field(name, "must be an RFC 3339 time, such as 2026-11-23T09:00:00Z")
	}
	return &t, nil
}

// QueryList reads a filter given as ?name=a,b or ?name=a&name=b, each value one of allowed.
func QueryList(c *fiber.Ctx, name string, allowed []string) ([]string, error) {
	var out []string
	for _, raw := range c.Context().QueryArgs().PeekMulti(name) {
		for _, v := range strings.Split(string(raw), ",") {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			if !slices.Contains(allowed, v) {
				return nil, apperr.Field(name, "must be one of "+strings.Join(allowed, ", "))
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// QueryOneOf reads an optional filter that must be one of allowed.
func QueryOneOf(c *fiber.Ctx, name string, allowed []string) (string, error) {
	v := c.Query(name)
	if v != "" && !slices.Contains(allowed, v) {
		return "", apperr.Field(name, "must be one of "+strings.Join(allowed, ", "))
	}
	return v, nil
}

// QueryBool parses an optional true/false filter from the query string.
func QueryBool(c *fiber.Ctx, name string) (*bool, error) {
	s := c.Query(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, apperr.Field(name, "must be true or false")
	}
	return &b, nil
}

const maxLimit = 500

// ParsePage reads ?limit= and ?cursor= (the next_cursor of the previous page).
func ParsePage(c *fiber.Ctx) (page.Request, error) {
	p := page.Request{Limit: page.DefaultLimit}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return p, apperr.Field("limit", fmt.Sprintf("must be a whole number from 1 to %d", maxLimit))
		}
		p.Limit = n
	}
	if s := c.Query("cursor"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			return p, apperr.Field("cursor", "is not a cursor this server issued")
		}
		p.After = &id
	}
	return p, nil
}
