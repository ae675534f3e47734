package attachment

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"fieldsvc/internal/auth"
	"fieldsvc/internal/web"
)

// Routes registers the attachment API on api. Every route needs authn; what a caller
// may see and do is decided per ticket by role and company.
func (s *Service) Routes(api fiber.Router, authn fiber.Handler) {
	// Per route, not a group middleware: /tickets/:id/… is shared with the ticket routes.
	api.Post("/tickets/:id/attachments", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		var in NewSlot
		if err := web.DecodeJSON(c, &in); err != nil {
			return nil, err
		}
		out, created, err := s.Slot(c.UserContext(), p, id, in)
		if created {
			c.Status(fiber.StatusCreated)
		}
		return out, err
	}))
	api.Get("/tickets/:id/attachments", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		return s.List(c.UserContext(), p, id)
	}))
	api.Post("/attachments/:id/confirm", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		return s.Confirm(c.UserContext(), p, id)
	}))
	api.Get("/attachments/:id/url", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		return s.URL(c.UserContext(), p, id)
	}))
}
