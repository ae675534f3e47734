package maintenance

import (
	"github.com/gofiber/fiber/v2"

	"fieldsvc/internal/auth"
	"fieldsvc/internal/web"
)

// Routes registers the maintenance API on api: staff read plans and the calendar,
// managers (and admins) keep the plans, and a client user sees how their own company's
// plans are kept.
func (s *Service) Routes(api fiber.Router, authn fiber.Handler) {
	read, write := auth.Require(auth.Staff...), auth.Require(auth.Manager, auth.Admin)
	m := api.Group("/maintenance", authn)
	m.Post("/plans/bulk", write, func(c *fiber.Ctx) error {
		var in BulkInput
		if err := web.DecodeJSON(c, &in); err != nil {
			return err
		}
		out, err := s.CreatePlans(c.UserContext(), in)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(out)
	})
	web.Mount(m, "/plans", read, write, web.Resource[PlanInput, Plan, Filter]{
		Create: s.CreatePlan, Get: s.Plan, List: s.Plans, Update: s.UpdatePlan, SetActive: s.SetPlanActive,
		Filter: parseFilter,
	})
	m.Get("/forecast", read, func(c *fiber.Ctx) error {
		q, err := parseForecast(c)
		if err != nil {
			return err
		}
		out, err := s.Forecast(c.UserContext(), q)
		if err != nil {
			return err
		}
		return c.JSON(out)
	})
	m.Get("/load", read, func(c *fiber.Ctx) error {
		r, err := ParseRange(c.Query("from"), c.Query("to"))
		if err != nil {
			return err
		}
		out, err := s.Load(c.UserContext(), r)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": out})
	})
	m.Get("/compliance", auth.Require(auth.Admin, auth.Dispatcher, auth.Manager, auth.Client), func(c *fiber.Ctx) error {
		q, err := parseCompliance(c)
		if err != nil {
			return err
		}
		out, err := s.Compliance(c.UserContext(), q)
		if err != nil {
			return err
		}
		return c.JSON(out)
	})
}

func parseFilter(c *fiber.Ctx) (Filter, error) {
	var f Filter
	var err error
	if f.Active, err = web.QueryBool(c, "active"); err != nil {
		return f, err
	}
	if f.AssetID, err = web.QueryUUID(c, "asset_id"); err != nil {
		return f, err
	}
	if f.SiteID, err = web.QueryUUID(c, "site_id"); err != nil {
		return f, err
	}
	f.ClientID, err = web.QueryUUID(c, "client_id")
	return f, err
}

func parseForecast(c *fiber.Ctx) (ForecastQuery, error) {
	var q ForecastQuery
	var err error
	if q.Range, err = ParseRange(c.Query("from"), c.Query("to")); err != nil {
		return q, err
	}
	if q.Group, err = web.QueryOneOf(c, "group", Groups); err != nil {
		return q, err
	}
	if q.Group == "" {
		q.Group = "day"
	}
	if q.By, err = web.QueryOneOf(c, "by", Bys); err != nil {
		return q, err
	}
	if q.ClientID, err = web.QueryUUID(c, "client_id"); err != nil {
		return q, err
	}
	if q.SiteID, err = web.QueryUUID(c, "site_id"); err != nil {
		return q, err
	}
	q.SkillID, err = web.QueryUUID(c, "skill_id")
	return q, err
}

// parseCompliance reads the report's query; a client user's is held to their company.
func parseCompliance(c *fiber.Ctx) (ComplianceQuery, error) {
	var q ComplianceQuery
	var err error
	if q.Range, err = ParseRange(c.Query("from"), c.Query("to")); err != nil {
		return q, err
	}
	if q.Group, err = web.QueryOneOf(c, "group", ComplianceGroups); err != nil {
		return q, err
	}
	if q.ClientID, err = web.QueryUUID(c, "client_id"); err != nil {
		return q, err
	}
	if q.SiteID, err = web.QueryUUID(c, "site_id"); err != nil {
		return q, err
	}
	if q.Page, err = web.ParsePage(c); err != nil {
		return q, err
	}
	p, err := auth.FromContext(c.UserContext())
	if err != nil {
		return q, err
	}
	if p.ClientID != nil {
		q.ClientID = p.ClientID
	}
	return q, nil
}
