package push_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"fieldsvc/internal/auth"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/page"
	"fieldsvc/internal/push"
	"fieldsvc/internal/ticket"
)

// world is a service desk with one client company, a user of every role (two
// engineers), the client user's ticket waiting for an engineer, and a fake FCM.
type world struct {
	t       *testing.T
	pool    *pgxpool.Pool
	clock   *dbtest.Clock
	tickets *ticket.Service
	fcm     *fakeFCM

	client, site, engineer1, engineer2 uuid.UUID // engineers' ids (not their users')

	admin, dispatcher, manager, tech1, tech2, clientUser auth.Principal

	ticket  uuid.UUID
	numbers int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	pool := dbtest.MustPool(t)
	w := &world{t: t, pool: pool, clock: dbtest.NewClock(time.Now().UTC().Truncate(time.Microsecond)), fcm: newFakeFCM(t)}
	w.tickets = ticket.NewService(pool, ticket.Options{Now: w.clock.Now})
	calendar := uuid.New()
	w.client, w.site = uuid.New(), uuid.New()
	w.exec(`INSERT INTO calendars (id, name, time_zone, weekly_hours) VALUES ($1, 'Смена', 'Europe/Moscow', '{}')`, calendar)
	w.exec(`INSERT INTO clients (id, name) VALUES ($1, 'ООО Альфа')`, w.client)
	w.exec(`INSERT INTO sites (id, client_id, name, address, location, time_zone)
		VALUES ($1, $2, 'Магазин', 'Москва, Тверская, 1', $3, 'Europe/Moscow')`, w.site, w.client, geo.Point{Lat: 55.76, Lng: 37.61})
	w.admin, w.dispatcher, w.manager = w.user(auth.Admin, nil), w.user(auth.Dispatcher, nil), w.user(auth.Manager, nil)
	w.tech1, w.tech2, w.clientUser = w.user(auth.Engineer, nil), w.user(auth.Engineer, nil), w.user(auth.Client, &w.client)
	w.engineer1, w.engineer2 = uuid.New(), uuid.New()
	for id, u := range map[uuid.UUID]auth.Principal{w.engineer1: w.tech1, w.engineer2: w.tech2} {
		w.exec(`INSERT INTO engineers (id, user_id, home_base, calendar_id, capacity) VALUES ($1, $2, $3, $4, 100)`,
			id, u.UserID, geo.Point{Lat: 55.7, Lng: 37.6}, calendar)
	}
	w.ticket = w.newTicket(ticket.New, nil)
	return w
}

// user adds a user of role (of client, for a client user).
func (w *world) user(role auth.Role, client *uuid.UUID) auth.Principal {
	w.t.Helper()
	id := uuid.New()
	w.exec(`INSERT INTO users (id, email, full_name, role, client_id, password_hash) VALUES ($1, $2, $3, $4, $5, 'x')`,
		id, id.String()+"@example.com", "User "+string(role), role, client)
	return auth.Principal{UserID: id, Role: role, ClientID: client}
}

func (w *world) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.pool.Exec(context.Background(), sql, args...); err != nil {
		w.t.Fatalf("%v\n%s", err, sql)
	}
}

// newTicket adds a ticket the client user filed, in status, assigned to engineer (or nobody).
func (w *world) newTicket(status ticket.Status, engineer *uuid.UUID) uuid.UUID {
	w.t.Helper()
	id := uuid.New()
	w.numbers++
	w.exec(`INSERT INTO tickets (id, number, client_id, site_id, kind, priority, status, title, assignee_id, created_by)
		VALUES ($1, $2, $3, $4, 'incident', 'normal', $5, 'Не охлаждает витрина', $6, $7)`,
		id, fmt.Sprintf("2026-%06d", w.numbers), w.client, w.site, status, engineer, w.clientUser.UserID)
	return id
}

// device registers a device of user's with a push token (none when token is ""), and
// returns its id.
func (w *world) device(user auth.Principal, token string) uuid.UUID {
	w.t.Helper()
	id := uuid.New()
	var push *string
	if token != "" {
		push = &token
	}
	w.exec(`INSERT INTO devices (id, user_id, platform, app_version, push_token) VALUES ($1, $2, 'android', '1.0', $3)`,
		id, user.UserID, push)
	return id
}

// service is a push service on the fake FCM (without credentials when off), on the
// world's clock, with options changed by tune.
func (w *world) service(on bool, tune ...func(*push.Options)) (*push.Service, *prometheus.Registry) {
	w.t.Helper()
	reg := prometheus.NewRegistry()
	o := push.Options{Transport: w.fcm.transport(), Now: w.clock.Now, Registry: reg, Backoff: time.Second}
	if on {
		o.CredentialsFile = w.fcm.credentials()
	}
	for _, f := range tune {
		f(&o)
	}
	s, err := push.New(context.Background(), w.pool, o)
	if err != nil {
		w.t.Fatal(err)
	}
	return s, reg
}

// deliver runs one batch and returns how many messages it claimed.
func deliver(t *testing.T, s *push.Service) int {
	t.Helper()
	n, err := s.Deliver(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// row is an outbox row as the tests check it.
type row struct {
	Device   uuid.UUID
	Reason   string
	Event    string
	Status   string
	Attempts int
	Next     *time.Time // nil: due at once
	Error    *string
}

// outbox lists the outbox, oldest first.
func (w *world) outbox() []row {
	w.t.Helper()
	rows, err := w.pool.Query(context.Background(), `SELECT device_id, reason, payload->>'event', status, attempts,
		nullif(next_attempt_at, '-infinity'), last_error FROM push_outbox ORDER BY id`)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.Device, &r.Reason, &r.Event, &r.Status, &r.Attempts, &r.Next, &r.Error); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// counted reads a message counter of the service's registry.
func counted(t *testing.T, reg *prometheus.Registry, outcome string) int {
	t.Helper()
	families, err := reg.Gather()
	must(t, err)
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if f.GetName() == "fieldsvc_push_messages_total" && m.GetLabel()[0].GetValue() == outcome {
				return int(m.GetCounter().GetValue())
			}
		}
	}
	return 0
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func pageOf(limit int) page.Request { return page.Request{Limit: limit} }

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
