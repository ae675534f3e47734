package catalog

import (
	"context"
	"slices"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/page"
	"fieldsvc/internal/web"
)

// Filter narrows a catalog list; each list uses the fields that apply to it
// (the OpenAPI description says which).
type Filter struct {
	Active   *bool
	Query    string // ?q=: part of a name, number, serial…
	ClientID *uuid.UUID
	SiteID   *uuid.UUID
	SkillID  *uuid.UUID
	Type     string // ?type=: asset type
}

func parseFilter(c *fiber.Ctx) (Filter, error) {
	f := Filter{Query: c.Query("q"), Type: c.Query("type")}
	var err error
	if f.Active, err = web.QueryBool(c, "active"); err != nil {
		return f, err
	}
	if f.ClientID, err = web.QueryUUID(c, "client_id"); err != nil {
		return f, err
	}
	if f.SiteID, err = web.QueryUUID(c, "site_id"); err != nil {
		return f, err
	}
	f.SkillID, err = web.QueryUUID(c, "skill_id")
	return f, err
}

// Routes registers the catalog on admin (already authenticated): staff read, admins write.
func (s *Service) Routes(admin fiber.Router) {
	read, write := auth.Require(auth.Staff...), auth.Require(auth.Admin)
	web.Mount(admin, "/clients", read, write, web.Resource[ClientInput, Client, Filter]{
		Create: s.CreateClient, Get: s.GetClient, List: s.ListClients, Update: s.UpdateClient,
		SetActive: s.SetClientActive, Filter: parseFilter,
	})
	web.Mount(admin, "/contracts", read, write, web.Resource[ContractInput, Contract, Filter]{
		Create: s.CreateContract, Get: s.GetContract, List: s.ListContracts, Update: s.UpdateContract,
		SetActive: s.SetContractActive, Filter: parseFilter,
	})
	web.Mount(admin, "/sla-policies", read, write, web.Resource[SLAPolicyInput, SLAPolicy, Filter]{
		Create: s.CreateSLAPolicy, Get: s.GetSLAPolicy, List: s.ListSLAPolicies, Update: s.UpdateSLAPolicy,
		SetActive: s.SetSLAPolicyActive, Filter: parseFilter,
	})
	web.Mount(admin, "/calendars", read, write, web.Resource[CalendarInput, Calendar, Filter]{
		Create: s.CreateCalendar, Get: s.GetCalendar, List: s.ListCalendars, Update: s.UpdateCalendar,
		SetActive: s.SetCalendarActive, Filter: parseFilter,
	})
	web.Mount(admin, "/sites", read, write, web.Resource[SiteInput, Site, Filter]{
		Create: s.CreateSite, Get: s.GetSite, List: s.ListSites, Update: s.UpdateSite,
		SetActive: s.SetSiteActive, Filter: parseFilter,
	})
	web.Mount(admin, "/assets", read, write, web.Resource[AssetInput, Asset, Filter]{
		Create: s.CreateAsset, Get: s.GetAsset, List: s.ListAssets, Update: s.UpdateAsset,
		SetActive: s.SetAssetActive, Filter: parseFilter,
	})
	web.Mount(admin, "/skills", read, write, web.Resource[SkillInput, Skill, Filter]{
		Create: s.CreateSkill, Get: s.GetSkill, List: s.ListSkills, Update: s.UpdateSkill,
		SetActive: s.SetSkillActive, Filter: parseFilter,
	})
	web.Mount(admin, "/engineers", read, write, web.Resource[EngineerInput, Engineer, Filter]{
		Create: s.CreateEngineer, Get: s.GetEngineer, List: s.ListEngineers, Update: s.UpdateEngineer,
		SetActive: s.SetEngineerActive, Filter: parseFilter,
	})
}

// DirectoryRoutes lets the people who file tickets find what to file them against:
// client users see their company's sites and assets (another company's are not found),
// staff see all.
func (s *Service) DirectoryRoutes(api fiber.Router, authn fiber.Handler) {
	// Per route, not per group: a group would also guard /assets/{id}/history.
	guard := []fiber.Handler{authn, auth.Require(auth.Client, auth.Admin, auth.Dispatcher, auth.Manager)}
	directory(api, "/sites", guard, s.ListSites, s.GetSite, func(x Site) uuid.UUID { return x.ClientID })
	directory(api, "/assets", guard, s.ListAssets, s.GetAsset, func(x Asset) uuid.UUID { return x.ClientID })
}

func directory[T any](r fiber.Router, path string, guard []fiber.Handler,
	list func(context.Context, Filter, page.Request) (page.Page[T], error),
	get func(context.Context, uuid.UUID) (T, error), owner func(T) uuid.UUID) {
	r.Get(path, slices.Concat(guard, []fiber.Handler{func(c *fiber.Ctx) error {
		p, err := auth.FromContext(c.UserContext())
		if err != nil {
			return err
		}
		f, err := parseFilter(c)
		if err != nil {
			return err
		}
		pr, err := web.ParsePage(c)
		if err != nil {
			return err
		}
		if p.ClientID != nil {
			f.ClientID = p.ClientID
		}
		out, err := list(c.UserContext(), f, pr)
		if err != nil {
			return err
		}
		return c.JSON(out)
	}})...)
	r.Get(path+"/:id", slices.Concat(guard, []fiber.Handler{func(c *fiber.Ctx) error {
		p, err := auth.FromContext(c.UserContext())
		if err != nil {
			return err
		}
		id, err := web.PathID(c)
		if err != nil {
			return err
		}
		x, err := get(c.UserContext(), id)
		if err == nil && p.ClientID != nil && owner(x) != *p.ClientID {
			err = apperr.New(apperr.NotFound, "%s not found", id)
		}
		if err != nil {
			return err
		}
		return c.JSON(x)
	}})...)
}
