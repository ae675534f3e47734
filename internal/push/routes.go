package push

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"fieldsvc/internal/auth"
	"fieldsvc/internal/web"
)

// Routes registers on api the registration of devices for notifications: every signed-in
// user keeps their own (engineers register through the mobile API, and may only stop
// notifications here).
func (s *Service) Routes(api fiber.Router, authn fiber.Handler) {
	api.Put("/push/devices/:id", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		var in DeviceInput
		if err := web.DecodeJSON(c, &in); err != nil {
			return nil, err
		}
		return s.RegisterDevice(c.UserContext(), p, id, in)
	}))
	api.Delete("/push/devices/:id", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		return s.UnregisterDevice(c.UserContext(), p, id)
	}))
}

// AdminRoutes lets admins see the messages given up on and send them again.
func (s *Service) AdminRoutes(admin fiber.Router) {
	only := auth.Require(auth.Admin)
	admin.Get("/push/dead-letters", only, func(c *fiber.Ctx) error {
		pr, err := web.ParsePage(c)
		if err != nil {
			return err
		}
		out, err := s.DeadLetters(c.UserContext(), pr)
		if err != nil {
			return err
		}
		return c.JSON(out)
	})
	admin.Post("/push/dead-letters/retry", only, func(c *fiber.Ctx) error {
		since, err := web.QueryTime(c, "since")
		if err != nil {
			return err
		}
		n, err := s.RetryAll(c.UserContext(), since)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"retried": n})
	})
	admin.Post("/push/dead-letters/:id/retry", only, web.ByID(func(c *fiber.Ctx, id uuid.UUID) (any, error) {
		return s.Retry(c.UserContext(), id)
	}))
}
