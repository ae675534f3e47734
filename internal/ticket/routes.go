package ticket

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"fieldsvc/internal/auth"
	"fieldsvc/internal/valid"
	"fieldsvc/internal/web"
)

// Routes registers the ticket API on api. Every route needs authn; what a caller sees and
// may do is decided per ticket by role and company (see visible and rules).
func (s *Service) Routes(api fiber.Router, authn fiber.Handler) {
	// Per route, not a group middleware: other packages add /tickets/{id}/… routes with
	// their own authn, which a group would run a second time.
	t := api.Group("/tickets")
	t.Post("", authn, func(c *fiber.Ctx) error {
		var in NewTicket
		if err := web.DecodeJSON(c, &in); err != nil {
			return err
		}
		return with(c, func(p auth.Principal) error {
			tk, created, err := s.Create(c.UserContext(), p, in)
			if err != nil {
				return err
			}
			if created {
				c.Status(fiber.StatusCreated)
			}
			return c.JSON(tk)
		})
	})
	t.Get("", authn, func(c *fiber.Ctx) error {
		f, err := parseFilter(c)
		if err != nil {
			return err
		}
		pr, err := web.ParsePage(c)
		if err != nil {
			return err
		}
		return with(c, func(p auth.Principal) error {
			out, err := s.List(c.UserContext(), p, f, pr)
			if err != nil {
				return err
			}
			return c.JSON(out)
		})
	})
	t.Get("/:id", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		return s.Get(c.UserContext(), p, id)
	}))
	t.Patch("/:id", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		var in Edit
		if err := web.DecodeJSON(c, &in); err != nil {
			return nil, err
		}
		return s.Update(c.UserContext(), p, id, in)
	}))
	for _, action := range Actions {
		t.Post("/:id/"+string(action), authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
			var cmd Command
			if err := web.DecodeOptionalJSON(c, &cmd); err != nil {
				return nil, err
			}
			return s.Do(c.UserContext(), p, id, action, cmd)
		}))
	}
	t.Post("/:id/rate", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		var in RatingInput
		if err := web.DecodeJSON(c, &in); err != nil {
			return nil, err
		}
		return s.Rate(c.UserContext(), p, id, in)
	}))
	t.Get("/:id/comments", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		return s.Comments(c.UserContext(), p, id)
	}))
	t.Post("/:id/comments", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		var in NewComment
		if err := web.DecodeJSON(c, &in); err != nil {
			return nil, err
		}
		comment, created, err := s.AddComment(c.UserContext(), p, id, in)
		if created {
			c.Status(fiber.StatusCreated)
		}
		return comment, err
	}))
	t.Get("/:id/events", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		return s.History(c.UserContext(), p, id)
	}))
	api.Get("/assets/:id/history", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		pr, err := web.ParsePage(c)
		if err != nil {
			return nil, err
		}
		return s.AssetHistory(c.UserContext(), p, id, pr)
	}))
}

// with runs fn as the authenticated caller.
func with(c *fiber.Ctx, fn func(p auth.Principal) error) error {
	p, err := auth.FromContext(c.UserContext())
	if err != nil {
		return err
	}
	return fn(p)
}

func parseFilter(c *fiber.Ctx) (Filter, error) {
	var errs valid.Errors
	f := Filter{Query: errs.Text("q", c.Query("q"), false, 200)}
	if err := errs.Err(); err != nil {
		return f, err
	}
	var err error
	if f.Statuses, err = web.QueryList(c, "status", Statuses); err != nil {
		return f, err
	}
	if f.Priority, err = web.QueryOneOf(c, "priority", Priorities); err != nil {
		return f, err
	}
	if f.SLAState, err = web.QueryOneOf(c, "sla_state", []string{"ok", "at_risk", "breached"}); err != nil {
		return f, err
	}
	for name, dst := range map[string]**uuid.UUID{"client_id": &f.ClientID, "site_id": &f.SiteID,
		"asset_id": &f.AssetID, "assignee_id": &f.AssigneeID} {
		if *dst, err = web.QueryUUID(c, name); err != nil {
			return f, err
		}
	}
	return f, nil
}
