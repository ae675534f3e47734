package mobileapi

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/attachment"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/valid"
	"fieldsvc/internal/web"
)

// HeaderDevice names the device a sync request comes from (the id it registered).
const HeaderDevice = "X-Device-ID"

// Routes registers the mobile API under /mobile/v1 on app, answers gzipped when the app
// accepts it.
func (s *Service) Routes(app fiber.Router, authn fiber.Handler) {
	m := app.Group("/mobile/v1", compress.New(compress.Config{Level: compress.LevelBestSpeed}))
	m.Post("/devices", authn, func(c *fiber.Ctx) error {
		var in NewDevice
		if err := web.DecodeJSON(c, &in); err != nil {
			return err
		}
		return as(c, func(p auth.Principal) error {
			reg, err := s.Register(c.UserContext(), p, in)
			if err != nil {
				return err
			}
			return c.Status(fiber.StatusCreated).JSON(reg)
		})
	})
	// Only engineers sync; others are refused before their input is read.
	engineer := auth.Require(auth.Engineer)
	m.Get("/sync/pull", authn, engineer, func(c *fiber.Ctx) error {
		return fromDevice(c, func(p auth.Principal, device uuid.UUID) error {
			page, err := s.Pull(c.UserContext(), p, device, c.Query("cursor"))
			if err != nil {
				return err
			}
			return c.JSON(page)
		})
	})
	m.Post("/sync/push", authn, engineer, func(c *fiber.Ctx) error {
		var in struct {
			Mutations []json.RawMessage `json:"mutations"`
		}
		if err := web.DecodeJSON(c, &in); err != nil {
			return err
		}
		return fromDevice(c, func(p auth.Principal, device uuid.UUID) error {
			results, err := s.Push(c.UserContext(), p, device, readMutations(in.Mutations))
			if err != nil {
				return err
			}
			return c.JSON(fiber.Map{"results": results})
		})
	})
	// Photos and signatures: a slot to put the bytes straight into storage, then the
	// check that they arrived whole.
	m.Post("/uploads", authn, func(c *fiber.Ctx) error {
		var in struct {
			TicketID string `json:"ticket_id"`
			attachment.NewSlot
		}
		if err := web.DecodeJSON(c, &in); err != nil {
			return err
		}
		var errs valid.Errors
		ticketID := errs.UUID("ticket_id", in.TicketID)
		if err := errs.Err(); err != nil {
			return err
		}
		return as(c, func(p auth.Principal) error {
			slot, created, err := s.Uploads.Slot(c.UserContext(), p, ticketID, in.NewSlot)
			if err != nil {
				return err
			}
			if created {
				c.Status(fiber.StatusCreated)
			}
			return c.JSON(slot)
		})
	})
	m.Post("/uploads/:id/confirm", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		return s.Uploads.Confirm(c.UserContext(), p, id)
	}))
}

// AdminRoutes lets admins see devices and revoke one (a lost phone).
func (s *Service) AdminRoutes(admin fiber.Router) {
	only := auth.Require(auth.Admin)
	admin.Get("/devices", only, func(c *fiber.Ctx) error {
		user, err := web.QueryUUID(c, "user_id")
		if err != nil {
			return err
		}
		pr, err := web.ParsePage(c)
		if err != nil {
			return err
		}
		out, err := s.ListDevices(c.UserContext(), user, pr)
		if err != nil {
			return err
		}
		return c.JSON(out)
	})
	admin.Post("/devices/:id/revoke", only, web.ByID(func(c *fiber.Ctx, id uuid.UUID) (any, error) {
		return s.RevokeDevice(c.UserContext(), id)
	}))
}

func as(c *fiber.Ctx, fn func(p auth.Principal) error) error {
	p, err := auth.FromContext(c.UserContext())
	if err != nil {
		return err
	}
	return fn(p)
}

// fromDevice runs fn for the caller and the device named in X-Device-ID.
func fromDevice(c *fiber.Ctx, fn func(p auth.Principal, device uuid.UUID) error) error {
	device, err := uuid.Parse(c.Get(HeaderDevice))
	if err != nil {
		return apperr.Field(HeaderDevice, "must be the id of a registered device")
	}
	return as(c, func(p auth.Principal) error { return fn(p, device) })
}

// readMutations decodes each mutation on its own: one the app got wrong is rejected with
// the field named, and the rest of the queue still applies. Only its id must be legible.
func readMutations(raw []json.RawMessage) []Mutation {
	out := make([]Mutation, len(raw))
	for i, r := range raw {
		if err := web.Unmarshal(r, &out[i]); err != nil {
			var head struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(r, &head)
			out[i] = Mutation{ID: head.ID, problem: err}
		}
	}
	return out
}
