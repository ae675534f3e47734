package maintenance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/ticket"
	"fieldsvc/internal/valid"
)

// Plan is the preventive maintenance of one asset: what is done, on which schedule, by
// whom, and where the generator stands.
type Plan struct {
	ID              uuid.UUID   `json:"id"`
	AssetID         uuid.UUID   `json:"asset_id"`
	AssetType       string      `json:"asset_type"`
	SiteID          uuid.UUID   `json:"site_id"`
	ClientID        uuid.UUID   `json:"client_id"`
	TimeZone        string      `json:"time_zone"`
	Name            string      `json:"name"`
	Description     string      `json:"description"`
	Cron            *string     `json:"cron"`
	IntervalDays    *int        `json:"interval_days"`
	TimeOfDay       *string     `json:"time_of_day"` // interval plans' due time; null for cron plans
	HorizonDays     int         `json:"horizon_days"`
	LeadHours       int         `json:"lead_hours"`
	DurationMinutes int         `json:"duration_minutes"`
	Priority        string      `json:"priority"`
	SkillIDs        []uuid.UUID `json:"skill_ids"`
	TemplateID      *uuid.UUID  `json:"template_id"`
	StartsOn        string      `json:"starts_on"`
	EndsOn          *string     `json:"ends_on"`
	Active          bool        `json:"active"`
	// NextDueAt is the next occurrence not yet made a work order: null once the plan has
	// ended, or while an interval plan's work order is open.
	NextDueAt  *time.Time `json:"next_due_at"`
	LastDueAt  *time.Time `json:"last_due_at"`
	LastDoneAt *time.Time `json:"last_done_at"`
	Version    int        `json:"version"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// PlanInput creates a plan or replaces one. Exactly one of Cron (5 fields, or @daily,
// @weekly, @monthly, @yearly; "L" as day of month is the last day) and IntervalDays
// (days after the last completion) is given.
type PlanInput struct {
	ID              *string  `json:"id"`
	AssetID         string   `json:"asset_id"`
	Name            string   `json:"name"`
	Description     string   `json:"description"`
	Cron            *string  `json:"cron"`
	IntervalDays    *int     `json:"interval_days"`
	TimeOfDay       *string  `json:"time_of_day"`
	HorizonDays     *int     `json:"horizon_days"`
	LeadHours       *int     `json:"lead_hours"`
	DurationMinutes int      `json:"duration_minutes"`
	Priority        *string  `json:"priority"`
	SkillIDs        []string `json:"skill_ids"`
	TemplateID      *string  `json:"template_id"`
	StartsOn        string   `json:"starts_on"`
	EndsOn          *string  `json:"ends_on"`
	// Version is the plan's version the editor read; a replace without it, or with an
	// older one, is refused.
	Version *int `json:"version"`
}

// planFields is a PlanInput that passed validation.
type planFields struct {
	id            uuid.UUID
	assetID       uuid.UUID
	name, desc    string
	cron          *string
	intervalDays  *int
	timeOfDay     int // minutes after midnight
	horizon, lead int
	duration      int
	priority      string
	skillIDs      []uuid.UUID
	templateID    *uuid.UUID
	startsOn      time.Time
	endsOn        *time.Time
	version       *int
	rule          rule
}

func (in PlanInput) validate(o Options, assetRequired bool) (planFields, error) {
	var errs valid.Errors
	f := planFields{
		name:       errs.Text("name", in.Name, true, 200),
		desc:       errs.Text("description", in.Description, false, 10000),
		templateID: errs.OptionalUUID("template_id", in.TemplateID),
		startsOn:   errs.Date("starts_on", in.StartsOn),
		endsOn:     errs.OptionalDate("ends_on", in.EndsOn),
		duration:   in.DurationMinutes,
		horizon:    o.HorizonDays,
		lead:       o.LeadHours,
		priority:   "normal",
		timeOfDay:  9 * 60,
		version:    in.Version,
	}
	if assetRequired {
		f.assetID = errs.UUID("asset_id", in.AssetID)
	} else if in.AssetID != "" {
		errs.Add("asset_id", "is chosen by the selection, not given")
	}
	f.id = uuid.Must(uuid.NewV7())
	if in.ID != nil {
		f.id = errs.UUID("id", *in.ID)
	}
	switch {
	case (in.Cron == nil) == (in.IntervalDays == nil):
		errs.Add("cron", "give either cron or interval_days")
	case in.Cron != nil:
		r, err := parseRule(*in.Cron)
		if err != nil {
			errs.Add("cron", err.Error())
		}
		c := strings.TrimSpace(*in.Cron)
		f.cron, f.rule = &c, r
		errs.Check(in.TimeOfDay == nil, "time_of_day", "is for interval plans: a cron expression has its own time")
	default:
		errs.Check(*in.IntervalDays >= 1 && *in.IntervalDays <= 3660, "interval_days", "must be 1–3660")
		f.intervalDays = in.IntervalDays
	}
	if in.TimeOfDay != nil {
		t, err := time.Parse("15:04", *in.TimeOfDay)
		errs.Check(err == nil, "time_of_day", "must be HH:MM")
		f.timeOfDay = t.Hour()*60 + t.Minute()
	}
	if in.HorizonDays != nil {
		f.horizon = *in.HorizonDays
		errs.Check(f.horizon >= 1 && f.horizon <= 366, "horizon_days", "must be 1–366")
	}
	if in.LeadHours != nil {
		f.lead = *in.LeadHours
		errs.Check(f.lead >= 0 && f.lead <= 2160, "lead_hours", "must be 0–2160 (90 days)")
	}
	errs.Check(f.duration >= 1 && f.duration <= 10080, "duration_minutes", "must be 1–10080 (a week)")
	if in.Priority != nil {
		f.priority = errs.OneOf("priority", *in.Priority, ticket.Priorities...)
	}
	if f.endsOn != nil && !f.startsOn.IsZero() && f.endsOn.Before(f.startsOn) {
		errs.Add("ends_on", "is before starts_on")
	}
	for i, raw := range in.SkillIDs {
		id := errs.UUID(fmt.Sprintf("skill_ids[%d]", i), raw)
		if slices.Contains(f.skillIDs, id) {
			errs.Add(fmt.Sprintf("skill_ids[%d]", i), "is listed twice")
		}
		f.skillIDs = append(f.skillIDs, id)
	}
	return f, errs.Err()
}

// Filter narrows the list of plans.
type Filter struct {
	Active   *bool
	AssetID  *uuid.UUID
	SiteID   *uuid.UUID
	ClientID *uuid.UUID
}

const planSelect = `SELECT p.id, p.asset_id, a.asset_type, a.site_id, s.client_id, s.time_zone, p.name, p.description,
	p.cron, p.interval_days, to_char(p.time_of_day, 'HH24:MI'), p.horizon_days, p.lead_hours, p.duration_minutes,
	p.priority, ARRAY(SELECT k.skill_id FROM pm_plan_skills k WHERE k.plan_id = p.id ORDER BY k.skill_id),
	p.template_id, p.starts_on::text, p.ends_on::text, p.active, p.next_due_at, p.last_due_at, p.last_done_at,
	p.version, p.created_at, p.updated_at
	FROM pm_plans p JOIN assets a ON a.id = p.asset_id JOIN sites s ON s.id = a.site_id`

func scanPlan(row pgx.Row) (Plan, error) {
	var p Plan
	err := row.Scan(&p.ID, &p.AssetID, &p.AssetType, &p.SiteID, &p.ClientID, &p.TimeZone, &p.Name, &p.Description,
		&p.Cron, &p.IntervalDays, &p.TimeOfDay, &p.HorizonDays, &p.LeadHours, &p.DurationMinutes,
		&p.Priority, &p.SkillIDs, &p.TemplateID, &p.StartsOn, &p.EndsOn, &p.Active, &p.NextDueAt, &p.LastDueAt, &p.LastDoneAt,
		&p.Version, &p.CreatedAt, &p.UpdatedAt)
	if p.Cron != nil {
		p.TimeOfDay = nil
	}
	return p, err
}

// Plan returns one plan.
func (s *Service) Plan(ctx context.Context, id uuid.UUID) (Plan, error) {
	return postgres.GetByID(ctx, postgres.Q(ctx, s.pool), "plan", planSelect+" WHERE p.id = $1", id, scanPlan)
}

// Plans lists plans, oldest first.
func (s *Service) Plans(ctx context.Context, f Filter, pr page.Request) (page.Page[Plan], error) {
	var w postgres.Where
	if f.Active != nil {
		w.Add("p.active = %s", *f.Active)
	}
	if f.AssetID != nil {
		w.Add("p.asset_id = %s", *f.AssetID)
	}
	if f.SiteID != nil {
		w.Add("a.site_id = %s", *f.SiteID)
	}
	if f.ClientID != nil {
		w.Add("s.client_id = %s", *f.ClientID)
	}
	return postgres.ListPage(ctx, s.pool, planSelect, w, postgres.Key{Column: "p.id"}, pr, scanPlan,
		func(p Plan) uuid.UUID { return p.ID })
}

// CreatePlan adds a plan and makes the work orders its horizon already covers.
func (s *Service) CreatePlan(ctx context.Context, in PlanInput) (Plan, error) {
	f, err := in.validate(s.opts, true)
	if err != nil {
		return Plan{}, err
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.insertPlans(ctx, tx, f, []uuid.UUID{f.id}, []uuid.UUID{f.assetID}); err != nil {
			return err
		}
		return s.reschedule(ctx, tx, []uuid.UUID{f.id})
	})
	if err != nil {
		return Plan{}, fmt.Errorf("maintenance: create plan: %w", postgres.MapError(err))
	}
	return s.Plan(ctx, f.id)
}

// BulkInput creates the same plan for every active asset of a type at a site or of a
// client.
type BulkInput struct {
	AssetType string    `json:"asset_type"`
	SiteID    *string   `json:"site_id"`
	ClientID  *string   `json:"client_id"`
	Plan      PlanInput `json:"plan"`
}

// BulkResult names the plans a bulk creation made. Assets that already have an active
// plan of the same name are skipped, so a retried request makes nothing twice.
type BulkResult struct {
	Created []uuid.UUID `json:"created"`
	Skipped int         `json:"skipped"`
}

// maxBulk bounds one bulk creation (each plan may make work orders at once).
const maxBulk = 5000

// CreatePlans bulk-creates plans, one per matching asset, in one transaction.
func (s *Service) CreatePlans(ctx context.Context, in BulkInput) (BulkResult, error) {
	var errs valid.Errors
	site, client := errs.OptionalUUID("site_id", in.SiteID), errs.OptionalUUID("client_id", in.ClientID)
	assetType := errs.Slug("asset_type", in.AssetType)
	errs.Check(site != nil || client != nil, "site_id", "give a site_id or a client_id")
	errs.Check(in.Plan.ID == nil, "plan.id", "is assigned per asset")
	f, err := in.Plan.validate(s.opts, false)
	var ae *apperr.Error
	if errors.As(err, &ae) {
		for k, v := range ae.Fields {
			errs.Add("plan."+k, v)
		}
	}
	if err := errs.Err(); err != nil {
		return BulkResult{}, err
	}
	var r BulkResult
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		// One bulk creation at a time, so that two identical requests at once cannot both
		// find an asset without the plan.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('fieldsvc.maintenance.bulk'))`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT a.id, EXISTS (SELECT 1 FROM pm_plans p WHERE p.asset_id = a.id AND p.active AND lower(p.name) = lower($4))
			FROM assets a JOIN sites s ON s.id = a.site_id
			WHERE a.active AND s.active AND a.asset_type = $1 AND ($2::uuid IS NULL OR a.site_id = $2)
				AND ($3::uuid IS NULL OR s.client_id = $3)
			ORDER BY a.id FOR SHARE OF a`, assetType, site, client, f.name)
		if err != nil {
			return err
		}
		var assets []uuid.UUID
		for rows.Next() {
			var id uuid.UUID
			var planned bool
			if err := rows.Scan(&id, &planned); err != nil {
				return err
			}
			if planned {
				r.Skipped++
			} else {
				assets = append(assets, id)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(assets) > maxBulk {
			return apperr.New(apperr.Invalid, "the selection has %d assets; at most %d at once", len(assets), maxBulk)
		}
		r.Created = make([]uuid.UUID, len(assets))
		for i := range assets {
			r.Created[i] = uuid.Must(uuid.NewV7())
		}
		if err := s.insertPlans(ctx, tx, f, r.Created, assets); err != nil {
			return err
		}
		return s.reschedule(ctx, tx, r.Created)
	})
	if err != nil {
		return BulkResult{}, fmt.Errorf("maintenance: bulk create: %w", postgres.MapError(err))
	}
	return r, nil
}

// insertPlans writes plans with fields f, one per asset.
func (s *Service) insertPlans(ctx context.Context, tx pgx.Tx, f planFields, ids, assets []uuid.UUID) error {
	by := actor(ctx)
	_, err := tx.Exec(ctx, `
		INSERT INTO pm_plans (id, asset_id, name, description, cron, interval_days, time_of_day, horizon_days, lead_hours,
			duration_minutes, priority, template_id, starts_on, ends_on, created_by, created_at, updated_at)
		SELECT x.id, x.asset_id, $3, $4, $5, $6, make_interval(mins => $7)::time, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16
		FROM unnest($1::uuid[], $2::uuid[]) AS x (id, asset_id)`,
		ids, assets, f.name, f.desc, f.cron, f.intervalDays, f.timeOfDay, f.horizon, f.lead, f.duration, f.priority,
		f.templateID, f.startsOn, f.endsOn, by, s.now())
	if err != nil {
		return err
	}
	return setSkills(ctx, tx, ids, f.skillIDs)
}

// setSkills replaces the required skills of plans.
func setSkills(ctx context.Context, tx pgx.Tx, plans, skills []uuid.UUID) error {
	if _, err := tx.Exec(ctx, `DELETE FROM pm_plan_skills WHERE plan_id = ANY ($1)`, plans); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO pm_plan_skills (plan_id, skill_id)
		SELECT p, k FROM unnest($1::uuid[]) AS p, unnest($2::uuid[]) AS k`, plans, skills)
	if postgres.Violates(err, "pm_plan_skills_skill_id_fkey") {
		return apperr.Field("skill_ids", "names a skill that does not exist")
	}
	return err
}

// UpdatePlan replaces a plan. Its future work orders nobody has started are cancelled
// and made again from the new plan.
func (s *Service) UpdatePlan(ctx context.Context, id uuid.UUID, in PlanInput) (Plan, error) {
	f, err := in.validate(s.opts, true)
	if err != nil {
		return Plan{}, err
	}
	if f.version == nil {
		return Plan{}, apperr.Field("version", "is required: the version of the plan you edited")
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockPlan(ctx, tx, id, f.version, &f.assetID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			UPDATE pm_plans SET name = $2, description = $3, cron = $4, interval_days = $5,
				time_of_day = make_interval(mins => $6)::time, horizon_days = $7, lead_hours = $8, duration_minutes = $9,
				priority = $10, template_id = $11, starts_on = $12, ends_on = $13, version = version + 1, updated_at = $14
			WHERE id = $1`,
			id, f.name, f.desc, f.cron, f.intervalDays, f.timeOfDay, f.horizon, f.lead, f.duration, f.priority,
			f.templateID, f.startsOn, f.endsOn, s.now())
		if err != nil {
			return err
		}
		if err := setSkills(ctx, tx, []uuid.UUID{id}, f.skillIDs); err != nil {
			return err
		}
		return s.reschedule(ctx, tx, []uuid.UUID{id})
	})
	if err != nil {
		return Plan{}, fmt.Errorf("maintenance: update plan: %w", postgres.MapError(err))
	}
	return s.Plan(ctx, id)
}

// SetPlanActive pauses a plan (its future work orders nobody has started are cancelled)
// or resumes it (from now on: what fell due while paused is not made up).
func (s *Service) SetPlanActive(ctx context.Context, id uuid.UUID, active bool) (Plan, error) {
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockPlan(ctx, tx, id, nil, nil); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE pm_plans SET active = $2, version = version + 1, updated_at = $3
			WHERE id = $1 AND active <> $2`, id, active, s.now())
		if err != nil || tag.RowsAffected() == 0 { // already so: nothing to remake
			return err
		}
		return s.reschedule(ctx, tx, []uuid.UUID{id})
	})
	if err != nil {
		return Plan{}, fmt.Errorf("maintenance: set plan active: %w", postgres.MapError(err))
	}
	return s.Plan(ctx, id)
}

// lockPlan holds a plan for an edit, checking the version the editor read and that the
// asset stays the same.
func lockPlan(ctx context.Context, tx pgx.Tx, id uuid.UUID, version *int, asset *uuid.UUID) error {
	var v int
	var a uuid.UUID
	err := tx.QueryRow(ctx, `SELECT version, asset_id FROM pm_plans WHERE id = $1 FOR UPDATE`, id).Scan(&v, &a)
	if postgres.ErrNoRows(err) {
		return apperr.New(apperr.NotFound, "plan %s not found", id)
	}
	if err != nil {
		return err
	}
	if version != nil && *version != v {
		return &apperr.Error{Code: apperr.Conflict, Message: fmt.Sprintf("the plan changed meanwhile (now version %d)", v),
			Fields: map[string]string{"version": "is not the current version"}}
	}
	if asset != nil && *asset != a {
		return apperr.Field("asset_id", "cannot change: create a plan for the other asset")
	}
	return nil
}

// actor is the user acting, when ctx names one.
func actor(ctx context.Context) *uuid.UUID {
	if p, err := auth.FromContext(ctx); err == nil && p.UserID != uuid.Nil {
		return &p.UserID
	}
	return nil
}
