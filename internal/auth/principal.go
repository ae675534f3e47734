// Package auth knows who is asking: users and their roles, password login, short-lived
// access tokens (JWT), rotating refresh tokens, and the middleware that puts the
// Principal in every request.
package auth

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/web"
)

// Role is what a user may do.
type Role string

const (
	Admin      Role = "admin"
	Dispatcher Role = "dispatcher"
	Manager    Role = "manager"
	Engineer   Role = "engineer"
	Client     Role = "client"
)

// Roles lists every role, for validation and documentation.
var Roles = []string{string(Admin), string(Dispatcher), string(Manager), string(Engineer), string(Client)}

// Staff are the roles of the service company's own office people.
var Staff = []Role{Admin, Dispatcher, Manager}

// Principal is the authenticated caller. Handlers take identity only from here, never
// from ids in a request body.
type Principal struct {
	UserID uuid.UUID
	Role   Role
	// ClientID is the client company a client user belongs to; nil for staff and engineers.
	ClientID *uuid.UUID
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller, or an Unauthenticated error when there is none.
func FromContext(ctx context.Context) (Principal, error) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	if !ok {
		return Principal{}, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	return p, nil
}

// Require lets the request through only for the given roles; it runs after Middleware.
func Require(roles ...Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := FromContext(c.UserContext())
		if err != nil {
			return err
		}
		for _, r := range roles {
			if p.Role == r {
				return c.Next()
			}
		}
		return apperr.New(apperr.Forbidden, "your role (%s) may not do this", p.Role)
	}
}

// ByID adapts a handler of one record, named by the :id path parameter, to Fiber, run
// as the authenticated caller (after Middleware).
func ByID(fn func(c *fiber.Ctx, p Principal, id uuid.UUID) (any, error)) fiber.Handler {
	return web.ByID(func(c *fiber.Ctx, id uuid.UUID) (any, error) {
		p, err := FromContext(c.UserContext())
		if err != nil {
			return nil, err
		}
		return fn(c, p, id)
	})
}
