package ticket

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/geo"
)

var moscow = mustZone("Europe/Moscow")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// msk is a Moscow wall-clock time, so test tables read like the calendar.
func msk(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, moscow)
	if err != nil {
		panic(err)
	}
	return t
}

// world is a service desk with two client companies. Company A has a contract (SLA
// policy "normal": react in 60, resolve in 480 business minutes, 09:00–18:00 on
// weekdays) and a site in Moscow; company B has a site but no contract.
type world struct {
	t     *testing.T
	s     *Service
	pool  *pgxpool.Pool
	clock *dbtest.Clock

	clientA, clientB, contractA uuid.UUID
	siteA, siteB, assetA        uuid.UUID
	engineerID, engineer2ID     uuid.UUID
	skill                       uuid.UUID

	admin, dispatcher, manager, engineer, engineer2, clientUserA, clientUserB auth.Principal
}

func newWorld(t *testing.T) *world {
	t.Helper()
	pool := dbtest.MustPool(t)
	w := &world{t: t, pool: pool, clock: dbtest.NewClock(msk("2026-11-23 10:00"))} // a Monday
	w.s = NewService(pool, Options{AutoCloseAfter: 72 * time.Hour, ReopenWithin: 14 * 24 * time.Hour, Now: w.clock.Now})
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
	}
	ids := func(n int) []uuid.UUID {
		out := make([]uuid.UUID, n)
		for i := range out {
			out[i] = uuid.New()
		}
		return out
	}
	v := ids(12)
	calendar, policy := v[0], v[1]
	w.clientA, w.clientB, w.contractA, w.siteA, w.siteB, w.assetA = v[2], v[3], v[4], v[5], v[6], v[7]
	w.engineerID, w.engineer2ID, w.skill = v[8], v[9], v[10]
	office := `[{"start": "09:00", "end": "18:00"}]`
	exec(`INSERT INTO calendars (id, name, time_zone, weekly_hours, holidays) VALUES ($1, '5/2', 'Europe/Moscow',
		jsonb_build_object('mon', $2::jsonb, 'tue', $2::jsonb, 'wed', $2::jsonb, 'thu', $2::jsonb, 'fri', $2::jsonb), '{2026-12-31}')`,
		calendar, office)
	exec(`INSERT INTO sla_policies (id, name) VALUES ($1, 'Test')`, policy)
	exec(`INSERT INTO sla_targets (policy_id, priority, reaction_minutes, resolution_minutes) VALUES
		($1, 'low', 240, 1440), ($1, 'normal', 60, 480), ($1, 'high', 30, 240), ($1, 'critical', 15, 120)`, policy)
	exec(`INSERT INTO clients (id, name) VALUES ($1, 'ООО Альфа'), ($2, 'ООО Бета')`, w.clientA, w.clientB)
	exec(`INSERT INTO contracts (id, client_id, number, starts_on, sla_policy_id, calendar_id, default_priority)
		VALUES ($1, $2, 'A-1', '2026-01-01', $3, $4, 'normal')`, w.contractA, w.clientA, policy, calendar)
	exec(`INSERT INTO sites (id, client_id, name, address, location, time_zone) VALUES
		($1, $2, 'Магазин', 'Москва, Тверская, 1', $4, 'Europe/Moscow'),
		($3, $5, 'Банк', 'Москва, Арбат, 2', $4, 'Europe/Moscow')`,
		w.siteA, w.clientA, w.siteB, geo.Point{Lat: 55.76, Lng: 37.61}, w.clientB)
	exec(`INSERT INTO assets (id, site_id, asset_type, manufacturer, serial_number) VALUES ($1, $2, 'refrigeration', 'Carrier', 'SN-1')`,
		w.assetA, w.siteA)
	exec(`INSERT INTO skills (id, code, name) VALUES ($1, 'refrigeration', 'Холод')`, w.skill)

	user := func(role auth.Role, client *uuid.UUID) auth.Principal {
		id := uuid.New()
		exec(`INSERT INTO users (id, email, full_name, role, client_id, password_hash) VALUES ($1, $2, $3, $4, $5, 'x')`,
			id, id.String()+"@example.com", "User "+string(role), role, client)
		return auth.Principal{UserID: id, Role: role, ClientID: client}
	}
	w.admin, w.dispatcher, w.manager = user(auth.Admin, nil), user(auth.Dispatcher, nil), user(auth.Manager, nil)
	w.engineer, w.engineer2 = user(auth.Engineer, nil), user(auth.Engineer, nil)
	w.clientUserA, w.clientUserB = user(auth.Client, &w.clientA), user(auth.Client, &w.clientB)
	for eng, u := range map[uuid.UUID]auth.Principal{w.engineerID: w.engineer, w.engineer2ID: w.engineer2} {
		exec(`INSERT INTO engineers (id, user_id, home_base, calendar_id, capacity) VALUES ($1, $2, $3, $4, 100)`,
			eng, u.UserID, geo.Point{Lat: 55.7, Lng: 37.6}, calendar)
	}
	return w
}

func str(s string) *string { return &s }

// file files a ticket at company A's site as its client user.
func (w *world) file() Ticket {
	w.t.Helper()
	t, _, err := w.s.Create(context.Background(), w.clientUserA, NewTicket{SiteID: str(w.siteA.String()),
		Kind: "incident", Title: "Не охлаждает витрина"})
	if err != nil {
		w.t.Fatal(err)
	}
	return t
}

// do takes an action and fails the test unless it succeeds.
func (w *world) do(p auth.Principal, id uuid.UUID, a Action, cmd Command) Ticket {
	w.t.Helper()
	t, err := w.s.Do(context.Background(), p, id, a, cmd)
	if err != nil {
		w.t.Fatalf("%s as %s: %v", a, p.Role, err)
	}
	return t
}

// ticketIn files a ticket and drives it through real commands to status.
func (w *world) ticketIn(status Status) uuid.UUID {
	w.t.Helper()
	id := w.file().ID
	path := map[Status][]Action{
		New: {}, Assigned: {Assign}, Accepted: {Assign, Accept}, EnRoute: {Assign, Accept, StartTravel},
		InProgress: {Assign, Accept, StartWork}, Waiting: {Assign, Accept, StartWork, Wait},
		Resolved: {Assign, Accept, StartWork, Resolve}, Closed: {Assign, Accept, StartWork, Resolve, Close},
		Cancelled: {Cancel},
	}[status]
	for _, a := range path {
		w.do(w.actor(a), id, a, w.command(a))
	}
	return id
}

// actor is someone who may take a in the usual flow.
func (w *world) actor(a Action) auth.Principal {
	switch a {
	case Accept, StartTravel, StartWork, Wait, Resolve:
		return w.engineer
	}
	return w.dispatcher
}

// command is a valid command for a, assigning to the first engineer.
func (w *world) command(a Action) Command {
	switch a {
	case Assign:
		return Command{EngineerID: str(w.engineerID.String())}
	case Wait:
		return Command{WaitingOn: str("parts")}
	case Resolve:
		return Command{Note: str("Заменён вентилятор конденсатора")}
	case Cancel, Reopen, Unassign:
		return Command{Note: str("Клиент передумал")}
	}
	return Command{}
}

func codeOf(err error) apperr.Code {
	if err == nil {
		return ""
	}
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return apperr.Internal
}

func fieldsOf(err error) map[string]string {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
