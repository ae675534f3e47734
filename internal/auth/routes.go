package auth

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/valid"
	"fieldsvc/internal/web"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// Routes registers sign-in under /auth on api.
func (s *Service) Routes(api fiber.Router) {
	// Failed sign-ins per address are limited, against password guessing (a person who
	// mistypes a few times is not affected; successes do not count).
	guard := limiter.New(limiter.Config{Max: 20, Expiration: 5 * time.Minute, SkipSuccessfulRequests: true,
		LimitReached: func(*fiber.Ctx) error {
			return apperr.New(apperr.RateLimited, "too many failed sign-ins from this address; try again later")
		}})
	api.Post("/auth/login", guard, web.Settled(func(c *fiber.Ctx) error {
		var req loginRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		t, err := s.Login(c.UserContext(), req.Email, req.Password)
		if err != nil {
			return err
		}
		return c.JSON(t)
	}))
	api.Post("/auth/refresh", func(c *fiber.Ctx) error {
		var req refreshRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		t, err := s.Refresh(c.UserContext(), req.RefreshToken)
		if err != nil {
			return err
		}
		return c.JSON(t)
	})
	api.Post("/auth/logout", func(c *fiber.Ctx) error {
		var req refreshRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if err := s.Logout(c.UserContext(), req.RefreshToken); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
	api.Get("/auth/me", s.Middleware(), func(c *fiber.Ctx) error {
		p, err := FromContext(c.UserContext())
		if err != nil {
			return err
		}
		u, err := s.GetUser(c.UserContext(), p.UserID)
		if err != nil {
			return err
		}
		return c.JSON(u)
	})
}

// AdminRoutes registers user administration on admin (already authenticated): admins only.
func (s *Service) AdminRoutes(admin fiber.Router) {
	adminOnly := Require(Admin)
	web.Mount(admin, "/users", adminOnly, adminOnly, web.Resource[UserInput, User, UserFilter]{
		Create:    s.CreateUser,
		Get:       s.GetUser,
		List:      s.ListUsers,
		Update:    s.UpdateUser,
		SetActive: s.SetUserActive,
		Filter: func(c *fiber.Ctx) (UserFilter, error) {
			f := UserFilter{Role: c.Query("role"), Query: c.Query("q")}
			var errs valid.Errors
			if f.Role != "" {
				errs.OneOf("role", f.Role, Roles...)
			}
			if err := errs.Err(); err != nil {
				return f, err
			}
			var err error
			if f.ClientID, err = web.QueryUUID(c, "client_id"); err != nil {
				return f, err
			}
			f.Active, err = web.QueryBool(c, "active")
			return f, err
		},
	})
}
