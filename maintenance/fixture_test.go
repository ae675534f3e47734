package maintenance

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/auth"
	"fieldsvc/internal/checklist"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/ticket"
)

// world is a desk with one client whose site is in Berlin (where clocks change) and a
// second in Tokyo, a chiller and two boilers, a skill, an engineer, staff, and the
// maintenance service wired to the real ticket and checklist services.
type world struct {
	t       *testing.T
	ctx     context.Context
	pool    *pgxpool.Pool
	clock   *dbtest.Clock
	tickets *ticket.Service
	s       *Service

	client, berlin, tokyo, chiller, boiler1, boiler2, skill, engineerID uuid.UUID
	manager, dispatcher, engineer, clientUser                           auth.Principal
}

func newWorld(t *testing.T, now time.Time) *world {
	t.Helper()
	w := &world{t: t, ctx: context.Background(), pool: dbtest.MustPool(t), clock: dbtest.NewClock(now)}
	w.tickets = ticket.NewService(w.pool, ticket.Options{Now: w.clock.Now})
	lists := checklist.NewService(w.pool, w.tickets, dbtest.MustStore(t), checklist.Options{Now: w.clock.Now})
	w.s = NewService(w.pool, w.tickets, lists, Options{Now: w.clock.Now})
	w.tickets.AddHooks(lists.Hooks())
	w.tickets.AddHooks(w.s.Hooks())
	w.client, w.berlin, w.tokyo = uuid.New(), uuid.New(), uuid.New()
	w.chiller, w.boiler1, w.boiler2, w.skill, w.engineerID = uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	w.exec(`INSERT INTO clients (id, name) VALUES ($1, 'Kälte GmbH')`, w.client)
	w.exec(`INSERT INTO sites (id, client_id, name, address, location, time_zone)
		VALUES ($1, $3, 'Berlin shop', 'Berlin, Unter den Linden 1', $4, 'Europe/Berlin'),
			($2, $3, 'Tokyo shop', 'Tokyo, Ginza 1', $5, 'Asia/Tokyo')`,
		w.berlin, w.tokyo, w.client, geo.Point{Lat: 52.517, Lng: 13.389}, geo.Point{Lat: 35.671, Lng: 139.765})
	w.exec(`INSERT INTO assets (id, site_id, asset_type) VALUES ($1, $4, 'chiller'), ($2, $4, 'boiler'), ($3, $5, 'boiler')`,
		w.chiller, w.boiler1, w.boiler2, w.berlin, w.tokyo)
	w.exec(`INSERT INTO skills (id, code, name) VALUES ($1, 'hvac', 'HVAC')`, w.skill)
	user := func(role auth.Role, client *uuid.UUID) auth.Principal {
		id := uuid.New()
		w.exec(`INSERT INTO users (id, email, full_name, role, client_id, password_hash) VALUES ($1, $2, $3, $4, $5, 'x')`,
			id, id.String()+"@example.com", "User "+string(role), role, client)
		return auth.Principal{UserID: id, Role: role, ClientID: client}
	}
	w.manager, w.dispatcher, w.engineer = user(auth.Manager, nil), user(auth.Dispatcher, nil), user(auth.Engineer, nil)
	w.clientUser = user(auth.Client, &w.client)
	calendar := uuid.New()
	w.exec(`INSERT INTO calendars (id, name, time_zone, weekly_hours) VALUES ($1, 'Weekdays', 'Europe/Berlin',
		'{"mon": [{"start": "08:00", "end": "17:00"}], "tue": [{"start": "08:00", "end": "17:00"}],
		  "wed": [{"start": "08:00", "end": "17:00"}], "thu": [{"start": "08:00", "end": "17:00"}],
		  "fri": [{"start": "08:00", "end": "17:00"}]}')`, calendar)
	w.exec(`INSERT INTO engineers (id, user_id, home_base, calendar_id, capacity) VALUES ($1, $2, $3, $4, 10)`,
		w.engineerID, w.engineer.UserID, geo.Point{Lat: 52.5, Lng: 13.4}, calendar)
	w.exec(`INSERT INTO engineer_skills (engineer_id, skill_id) VALUES ($1, $2)`, w.engineerID, w.skill)
	return w
}

func (w *world) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.pool.Exec(w.ctx, sql, args...); err != nil {
		w.t.Fatalf("%v\n%s", err, sql)
	}
}

// asManager is a context acting as the manager.
func (w *world) asManager() context.Context { return auth.WithPrincipal(w.ctx, w.manager) }

func (w *world) plan(in PlanInput) Plan {
	w.t.Helper()
	p, err := w.s.CreatePlan(w.asManager(), in)
	if err != nil {
		w.t.Fatalf("create plan: %v", err)
	}
	return p
}

// order is a work order as the tests read it.
type order struct {
	ID            uuid.UUID
	Due           time.Time
	Status        string
	DispatchAfter *time.Time
}

// orders lists a plan's work orders by due time, cancelled ones included.
func (w *world) orders(plan uuid.UUID) []order {
	w.t.Helper()
	rows, err := w.pool.Query(w.ctx, `
		SELECT t.id, t.scheduled_for, t.status, t.dispatch_after FROM tickets t
		WHERE t.kind = 'preventive' AND t.id IN (SELECT ticket_id FROM ticket_events
			WHERE kind = 'created' AND data->>'plan_id' = $1::text)
		ORDER BY t.scheduled_for, t.id`, plan)
	if err != nil {
		w.t.Fatal(err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[order])
	if err != nil {
		w.t.Fatal(err)
	}
	return list
}

// live keeps the orders not cancelled.
func live(list []order) []order {
	var out []order
	for _, o := range list {
		if o.Status != "cancelled" {
			out = append(out, o)
		}
	}
	return out
}

func (w *world) do(p auth.Principal, id uuid.UUID, a ticket.Action, cmd ticket.Command) {
	w.t.Helper()
	// As a request does: the caller is in the context too.
	if _, err := w.tickets.Do(auth.WithPrincipal(w.ctx, p), p, id, a, cmd); err != nil {
		w.t.Fatalf("%s: %v", a, err)
	}
}

func (w *world) generate() GenerateResult {
	w.t.Helper()
	r, err := w.s.Generate(w.ctx)
	if err != nil {
		w.t.Fatalf("generate: %v", err)
	}
	return r
}

func str(s string) *string { return &s }
func num(n int) *int       { return &n }

func mustParse(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
