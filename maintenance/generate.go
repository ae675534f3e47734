package maintenance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/postgres"
	"fieldsvc/internal/ticket"
)

// due is what the generator needs of a plan.
type due struct {
	id, asset    uuid.UUID
	name, desc   string
	cron         *string
	intervalDays *int
	timeOfDay    int
	horizon      int
	lead         int
	priority     string
	template     *uuid.UUID
	skills       []uuid.UUID
	startsOn     time.Time
	endsOn       *time.Time
	nextDue      *time.Time
	loc          *time.Location
	usable       bool // the plan is active and its asset and site are in service
	rule         rule // cron plans' compiled expression (see compile)
}

const dueSelect = `SELECT p.id, p.asset_id, p.name, p.description, p.cron, p.interval_days,
	(extract(epoch FROM p.time_of_day) / 60)::int, p.horizon_days, p.lead_hours, p.priority, p.template_id,
	ARRAY(SELECT k.skill_id FROM pm_plan_skills k WHERE k.plan_id = p.id ORDER BY k.skill_id),
	p.starts_on, p.ends_on, p.next_due_at, s.time_zone, p.active AND a.active AND s.active
	FROM pm_plans p JOIN assets a ON a.id = p.asset_id JOIN sites s ON s.id = a.site_id`

func scanDue(row pgx.CollectableRow) (due, error) {
	var d due
	var zone string
	err := row.Scan(&d.id, &d.asset, &d.name, &d.desc, &d.cron, &d.intervalDays, &d.timeOfDay, &d.horizon, &d.lead,
		&d.priority, &d.template, &d.skills, &d.startsOn, &d.endsOn, &d.nextDue, &zone, &d.usable)
	if err != nil {
		return d, err
	}
	if d.loc, err = time.LoadLocation(zone); err != nil {
		return d, fmt.Errorf("site time zone %q: %w", zone, err)
	}
	return d, nil
}

// loadDue reads the plans the conditions (after dueSelect) name, their rules compiled.
func (s *Service) loadDue(ctx context.Context, tx pgx.Tx, conds string, args ...any) ([]due, error) {
	rows, err := tx.Query(ctx, dueSelect+" "+conds, args...)
	if err != nil {
		return nil, err
	}
	plans, err := pgx.CollectRows(rows, scanDue)
	if err != nil {
		return nil, err
	}
	return plans, s.compile(plans)
}

// compile sets the compiled rule of the cron plans: plans share a few expressions, each
// compiled once per Service.
func (s *Service) compile(plans []due) error {
	s.rulesMu.Lock()
	defer s.rulesMu.Unlock()
	for i := range plans {
		if plans[i].cron == nil {
			continue
		}
		var err error
		if plans[i].rule, err = s.rules.get(*plans[i].cron); err != nil {
			return err
		}
	}
	return nil
}

// before reports whether t falls on or before the plan's last day.
func (d due) before(t time.Time) bool {
	return d.endsOn == nil || t.Before(dayStart(d.endsOn.AddDate(0, 0, 1), d.loc))
}

// GenerateResult counts what a generator run did.
type GenerateResult struct {
	Plans      int // plans read
	WorkOrders int // work orders made
}

// Generate makes work orders for every plan whose horizon has reached its next
// occurrence. It reads only those plans, through their generate_at index. Plans are
// claimed with SKIP LOCKED, so concurrent generators (and this one's workers, which keep
// the database's cores busy) share the work, and the (plan, due) key makes each
// occurrence one work order whatever runs at once.
func (s *Service) Generate(ctx context.Context) (GenerateResult, error) {
	var mu sync.Mutex
	var r GenerateResult
	var errs []error
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Go(func() {
			for {
				batch, err := s.generateBatch(ctx)
				mu.Lock()
				r.Plans += batch.Plans
				r.WorkOrders += batch.WorkOrders
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if err != nil || batch.Plans < s.opts.BatchSize {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("maintenance: generate: %w", err)
	}
	return r, nil
}

// generateBatch claims up to BatchSize plans that are due and generates them.
func (s *Service) generateBatch(ctx context.Context) (GenerateResult, error) {
	var r GenerateResult
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		plans, err := s.loadDue(ctx, tx, `WHERE p.active AND p.generate_at <= $1
			ORDER BY p.generate_at LIMIT $2 FOR UPDATE OF p SKIP LOCKED`, s.now(), s.opts.BatchSize)
		if err != nil {
			return err
		}
		r.Plans = len(plans)
		r.WorkOrders, err = s.advance(ctx, tx, plans)
		return err
	})
	if err != nil {
		return GenerateResult{}, err
	}
	return r, nil
}

// occurrence is one due time of a plan, on its way to becoming a work order.
type occurrence struct {
	plan *due
	at   time.Time
}

// maxPerRun bounds the occurrences one plan makes in a run; the next run goes on.
const maxPerRun = 400

// advance makes work orders for the plans' occurrences up to their horizons and moves
// each plan's place on. The plans are locked by the caller.
func (s *Service) advance(ctx context.Context, tx pgx.Tx, plans []due) (int, error) {
	now := s.now()
	var occs []occurrence
	ids, next, gen, last := make([]uuid.UUID, len(plans)), make([]*time.Time, len(plans)), make([]*time.Time, len(plans)), make([]*time.Time, len(plans))
	for i := range plans {
		d := &plans[i]
		ids[i] = d.id
		if !d.usable { // out of service: look again tomorrow
			next[i], gen[i] = d.nextDue, ptr(now.Add(24*time.Hour))
			continue
		}
		made, after := d.expand(now)
		for _, at := range made {
			occs = append(occs, occurrence{plan: d, at: at})
		}
		if len(made) > 0 {
			last[i] = &made[len(made)-1]
		}
		if after != nil {
			next[i], gen[i] = after, ptr(after.AddDate(0, 0, -d.horizon))
		}
	}
	made, err := s.makeWorkOrders(ctx, tx, occs)
	if err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `
		UPDATE pm_plans p SET next_due_at = x.next, generate_at = x.gen, last_due_at = coalesce(x.last, p.last_due_at)
		FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[]) AS x (id, next, gen, last)
		WHERE p.id = x.id`, ids, next, gen, last)
	return made, err
}

// expand returns the plan's occurrences from its next due time up to the horizon, and
// the next due time after them (nil when the plan has ended, or an interval plan now
// waits for its work order to be done). A cron plan's occurrences already past are
// skipped: they fell due while the plan could not run, and nobody can do work in the
// past. An interval plan's is made even when past: the asset is due since.
func (d *due) expand(now time.Time) ([]time.Time, *time.Time) {
	if d.nextDue == nil {
		return nil, nil
	}
	until := now.AddDate(0, 0, d.horizon)
	at := *d.nextDue
	if d.intervalDays != nil {
		if at.After(until) {
			return nil, &at
		}
		if !d.before(at) {
			return nil, nil
		}
		return []time.Time{at}, nil
	}
	r := d.rule
	if at.Before(now) {
		at = r.next(now.Add(-time.Second), d.loc)
	}
	var made []time.Time
	for !at.IsZero() && !at.After(until) && d.before(at) && len(made) < maxPerRun {
		made = append(made, at)
		at = r.next(at, d.loc)
	}
	if at.IsZero() || !d.before(at) {
		return made, nil
	}
	return made, &at
}

// makeWorkOrders records the occurrences and files a work order for each that wins its
// (plan, due) key; an occurrence already recorded is left as it is.
func (s *Service) makeWorkOrders(ctx context.Context, tx pgx.Tx, occs []occurrence) (int, error) {
	if len(occs) == 0 {
		return 0, nil
	}
	plans, dues, tickets := make([]uuid.UUID, len(occs)), make([]time.Time, len(occs)), make([]uuid.UUID, len(occs))
	byTicket := make(map[uuid.UUID]occurrence, len(occs))
	for i, o := range occs {
		plans[i], dues[i], tickets[i] = o.plan.id, o.at, uuid.Must(uuid.NewV7())
		byTicket[tickets[i]] = o
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO pm_occurrences (plan_id, due_at, ticket_id)
		SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::uuid[])
		ON CONFLICT (plan_id, due_at) DO NOTHING
		RETURNING ticket_id`, plans, dues, tickets)
	if err != nil {
		return 0, fmt.Errorf("occurrences: %w", err)
	}
	won, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("occurrences: %w", err)
	}
	orders := make([]ticket.Planned, len(won))
	var withTemplate, templates []uuid.UUID
	for i, id := range won {
		o := byTicket[id]
		d := o.plan
		orders[i] = ticket.Planned{ID: id, AssetID: d.asset, Priority: d.priority, Title: d.name, Description: d.desc,
			SkillIDs: d.skills, ScheduledFor: o.at, DispatchAfter: o.at.Add(-time.Duration(d.lead) * time.Hour),
			Data: map[string]any{"plan_id": d.id}}
		if d.template != nil {
			withTemplate, templates = append(withTemplate, id), append(templates, *d.template)
		}
	}
	ctx = postgres.InTx(ctx, tx)
	if err := s.tickets.FilePlanned(ctx, actor(ctx), orders); err != nil {
		return 0, err
	}
	if len(withTemplate) > 0 {
		if err := s.checklists.AttachTemplates(ctx, withTemplate, templates); err != nil {
			return 0, err
		}
	}
	return len(won), nil
}

// reschedule sets where locked plans' generators stand after they were made or edited,
// or an interval plan's work order was finished: future work orders nobody has started
// are cancelled and forgotten, the next occurrence is worked out afresh, and the plans
// are generated up to their horizons.
func (s *Service) reschedule(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) error {
	now := s.now()
	rows, err := tx.Query(ctx, `
		SELECT o.ticket_id FROM pm_occurrences o JOIN tickets t ON t.id = o.ticket_id
		WHERE o.plan_id = ANY ($1) AND o.due_at > $2 AND t.status IN ('new', 'assigned')`, ids, now)
	if err != nil {
		return err
	}
	future, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return err
	}
	if len(future) > 0 {
		cancelled, err := s.tickets.CancelPlanned(postgres.InTx(ctx, tx), actor(ctx), future, "the maintenance plan changed")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM pm_occurrences WHERE ticket_id = ANY ($1)`, cancelled); err != nil {
			return err
		}
	}
	// Where each plan stands: its latest occurrence kept, and how that one ended.
	rows, err = tx.Query(ctx, `
		SELECT p.id, p.last_done_at, o.due_at, t.status
		FROM pm_plans p
			LEFT JOIN LATERAL (SELECT due_at, ticket_id FROM pm_occurrences WHERE plan_id = p.id
				ORDER BY due_at DESC LIMIT 1) o ON true
			LEFT JOIN tickets t ON t.id = o.ticket_id
		WHERE p.id = ANY ($1)`, ids)
	if err != nil {
		return err
	}
	stand := map[uuid.UUID]standing{}
	var id uuid.UUID
	var st standing
	if _, err := pgx.ForEachRow(rows, []any{&id, &st.lastDone, &st.latest, &st.status}, func() error {
		stand[id] = st
		return nil
	}); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE pm_plans p SET last_due_at = (SELECT max(due_at) FROM pm_occurrences WHERE plan_id = p.id)
		WHERE p.id = ANY ($1)`, ids); err != nil {
		return err
	}
	plans, err := s.loadDue(ctx, tx, `WHERE p.id = ANY ($1) ORDER BY p.id`, ids)
	if err != nil {
		return err
	}
	for i := range plans {
		plans[i].nextDue = plans[i].first(now, stand[plans[i].id])
	}
	_, err = s.advance(ctx, tx, plans)
	return err
}

// standing is where a plan stood before it was rescheduled.
type standing struct {
	lastDone *time.Time
	latest   *time.Time // the latest occurrence's due time
	status   *string    // and its work order's status
}

// first returns the plan's next occurrence from where it stands: a cron plan's next
// after now (an occurrence kept, under way, keeps its key); an interval plan's the interval after its
// last completion (or after its latest occurrence was due, when that was cancelled),
// nil while that work order is open, or the start date for a plan never done.
func (d due) first(now time.Time, st standing) *time.Time {
	if d.intervalDays != nil {
		var at time.Time
		switch {
		case st.status != nil && *st.status != "resolved" && *st.status != "closed" && *st.status != "cancelled":
			return nil
		case st.status != nil && *st.status == "cancelled":
			at = afterDays(*st.latest, *d.intervalDays, d.timeOfDay, d.loc)
		case st.lastDone != nil:
			at = afterDays(*st.lastDone, *d.intervalDays, d.timeOfDay, d.loc)
		default:
			at = afterDays(dayStart(d.startsOn, d.loc), 0, d.timeOfDay, d.loc)
		}
		if !d.before(at) {
			return nil
		}
		return &at
	}
	r := d.rule
	from := now
	if start := dayStart(d.startsOn, d.loc).Add(-time.Second); start.After(from) {
		from = start
	}
	at := r.next(from, d.loc)
	if at.IsZero() || !d.before(at) {
		return nil
	}
	return &at
}

func ptr[T any](v T) *T { return &v }
