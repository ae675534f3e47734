package checklist

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/valid"
	"fieldsvc/internal/web"
)

// Routes registers the checklist API on api: templates for staff to read and managers to
// keep, and tickets' checklists, answers and archives for whoever may see the ticket.
func (s *Service) Routes(api fiber.Router, authn fiber.Handler) {
	templates := api.Group("/checklist-templates", authn)
	web.Mount(templates, "", auth.Require(auth.Staff...), auth.Require(auth.Manager, auth.Admin),
		web.Resource[TemplateInput, Template, Filter]{
			Create: s.CreateTemplate, List: s.Templates, Update: s.UpdateTemplate, SetActive: s.SetTemplateActive,
			Get:    func(ctx context.Context, id uuid.UUID) (Template, error) { return s.Template(ctx, id, nil) },
			Filter: parseFilter,
		})
	templates.Get("/:id/versions/:version", auth.Require(auth.Staff...), web.ByID(func(c *fiber.Ctx, id uuid.UUID) (any, error) {
		v, err := strconv.ParseInt(c.Params("version"), 10, 32)
		if err != nil || v < 1 {
			return nil, apperr.Field("version", "must be a version number")
		}
		version := int(v)
		return s.Template(c.UserContext(), id, &version)
	}))

	api.Get("/tickets/:id/checklists", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		return s.ForTicket(c.UserContext(), p, id)
	}))
	api.Post("/tickets/:id/checklists", authn, auth.Require(auth.Dispatcher, auth.Admin, auth.Manager), auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		var in struct {
			TemplateID string `json:"template_id"`
		}
		if err := web.DecodeJSON(c, &in); err != nil {
			return nil, err
		}
		var errs valid.Errors
		tpl := errs.UUID("template_id", in.TemplateID)
		if err := errs.Err(); err != nil {
			return nil, err
		}
		c.Status(fiber.StatusCreated)
		return s.Attach(c.UserContext(), p, id, tpl)
	}))
	api.Put("/tickets/:id/checklists/:checklist/answers/:item", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		checklist, err := uuid.Parse(c.Params("checklist"))
		if err != nil {
			return nil, apperr.New(apperr.NotFound, "the ticket has no checklist %q", c.Params("checklist"))
		}
		var in AnswerInput
		if err := web.DecodeJSON(c, &in); err != nil {
			return nil, err
		}
		return s.Answer(c.UserContext(), p, id, checklist, c.Params("item"), in)
	}))
	api.Get("/tickets/:id/checklist-archives", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		return s.Archives(c.UserContext(), p, id)
	}))
	api.Get("/checklist-archives/:id/url", authn, auth.ByID(func(c *fiber.Ctx, p auth.Principal, id uuid.UUID) (any, error) {
		return s.DocumentURL(c.UserContext(), p, id, c.Query("document", "act"))
	}))
}

func parseFilter(c *fiber.Ctx) (Filter, error) {
	var f Filter
	var err error
	if f.Active, err = web.QueryBool(c, "active"); err != nil {
		return f, err
	}
	if f.TicketKind, err = web.QueryOneOf(c, "ticket_kind", ticketKinds); err != nil {
		return f, err
	}
	var errs valid.Errors
	if f.AssetType = c.Query("asset_type"); f.AssetType != "" {
		errs.Slug("asset_type", f.AssetType)
	}
	return f, errs.Err()
}
