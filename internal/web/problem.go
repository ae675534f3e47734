package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sort"

	"github.com/gofiber/fiber/v2"

	"fieldsvc/internal/apperr"
)

// Problem is an RFC 7807 problem document, the one shape of every error response.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance,omitempty"`
	Code      apperr.Code    `json:"code"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []FieldProblem `json:"errors,omitempty"`
	Current   any            `json:"current,omitempty"`
}

// FieldProblem names one invalid request field.
type FieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// statusOf is the one table from error code to HTTP status.
var statusOf = map[apperr.Code]int{
	apperr.NotFound:        http.StatusNotFound,
	apperr.Invalid:         http.StatusBadRequest,
	apperr.Conflict:        http.StatusConflict,
	apperr.Forbidden:       http.StatusForbidden,
	apperr.Unauthenticated: http.StatusUnauthorized,
	apperr.Unavailable:     http.StatusServiceUnavailable,
	apperr.RateLimited:     http.StatusTooManyRequests,
	apperr.Internal:        http.StatusInternalServerError,
}

// codeOfStatus classifies Fiber's own errors (unknown route, body too large…).
func codeOfStatus(status int) apperr.Code {
	for code, s := range statusOf {
		if s == status {
			return code
		}
	}
	if status >= 500 {
		return apperr.Internal
	}
	return apperr.Invalid
}

// errorHandler writes every error as problem+json. 5xx errors are logged once, here,
// and their detail never leaves the server.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		p := Problem{Instance: c.Path(), RequestID: requestID(c)}
		var ae *apperr.Error
		var fe *fiber.Error
		switch {
		case errors.As(err, &ae):
			p.Code, p.Detail, p.Current = ae.Code, ae.Message, ae.Current
			p.Status = statusOf[ae.Code]
			names := make([]string, 0, len(ae.Fields))
			for name := range ae.Fields {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				p.Errors = append(p.Errors, FieldProblem{Field: name, Message: ae.Fields[name]})
			}
		case errors.As(err, &fe):
			p.Status, p.Code, p.Detail = fe.Code, codeOfStatus(fe.Code), fe.Message
			if fe.Code == fiber.StatusRequestEntityTooLarge {
				p.Detail = "the request body is larger than the server accepts"
			}
		case errors.Is(err, context.DeadlineExceeded):
			p.Status, p.Code, p.Detail = http.StatusServiceUnavailable, apperr.Unavailable, "the request took too long; try again"
		default:
			p.Status, p.Code = http.StatusInternalServerError, apperr.Internal
		}
		if p.Status == 0 {
			p.Status = http.StatusInternalServerError
		}
		if p.Status >= 500 {
			log.ErrorContext(c.UserContext(), "request failed", "error", err.Error(),
				"request_id", p.RequestID, "method", c.Method(), "path", c.Path())
			if p.Code == apperr.Internal {
				p.Detail = "something went wrong on our side; the request id identifies it in our logs"
			}
		}
		p.Title = http.StatusText(p.Status)
		p.Type = "urn:fieldsvc:problem:" + string(p.Code)
		if p.Status == http.StatusUnauthorized {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="fieldsvc"`)
		}
		c.Status(p.Status)
		return c.JSON(p, "application/problem+json")
	}
}
