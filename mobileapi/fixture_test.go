package mobileapi

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/dispatch"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/checklist"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/ticket"
)

// desk is a service company with one client, two engineers with a device each, and the
// services the mobile API works through.
type desk struct {
	t          *testing.T
	pool       *pgxpool.Pool
	tickets    *ticket.Service
	checklists *checklist.Service
	auth       *auth.Service
	m          *Service
	client     uuid.UUID
	calendar   uuid.UUID
	dispatch   auth.Principal
	eng        [2]engineer
}

type engineer struct {
	id     uuid.UUID
	p      auth.Principal
	device uuid.UUID
}

func newDesk(t *testing.T, o Options) *desk {
	t.Helper()
	pool := dbtest.MustPool(t)
	d := &desk{t: t, pool: pool, client: uuid.New(), calendar: uuid.New()}
	d.tickets = ticket.NewService(pool, ticket.Options{})
	var err error
	d.auth, err = auth.NewService(pool, auth.Options{Secret: []byte("test-secret-that-is-long-enough-for-hs256"),
		AccessTTL: 15 * time.Minute, RefreshTTL: 24 * time.Hour, BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	o.Secret = []byte("cursor-secret-that-is-long-enough-for-hmac")
	d.checklists = checklist.NewService(pool, d.tickets, dbtest.MustStore(t), checklist.Options{})
	d.tickets.AddHooks(d.checklists.Hooks())
	d.m = NewService(pool, Deps{Tickets: d.tickets, Locations: dispatch.NewService(pool, d.tickets, dispatch.Options{}),
		Sessions: d.auth, Checklists: d.checklists}, o)
	d.exec(`INSERT INTO calendars (id, name, time_zone, weekly_hours) VALUES ($1, 'Смена', 'Europe/Moscow', '{"mon": [{"start": "09:00", "end": "18:00"}]}')`, d.calendar)
	d.exec(`INSERT INTO clients (id, name, phone) VALUES ($1, 'ООО Клиент', '+7 495 000-00-00')`, d.client)
	dispatcher := uuid.New()
	d.exec(`INSERT INTO users (id, email, full_name, role, password_hash) VALUES ($1, 'desk@example.com', 'Диспетчер', 'dispatcher', 'x')`, dispatcher)
	d.dispatch = auth.Principal{UserID: dispatcher, Role: auth.Dispatcher}
	for i := range d.eng {
		user := uuid.New()
		d.eng[i] = engineer{id: uuid.New(), p: auth.Principal{UserID: user, Role: auth.Engineer}}
		d.exec(`INSERT INTO users (id, email, full_name, role, password_hash) VALUES ($1, $2, 'Инженер', 'engineer', 'x')`,
			user, user.String()+"@example.com")
		d.exec(`INSERT INTO engineers (id, user_id, home_base, calendar_id, capacity) VALUES ($1, $2, $3, $4, 100)`,
			d.eng[i].id, user, geo.Point{Lat: 55.7, Lng: 37.6}, d.calendar)
		reg, err := d.m.Register(context.Background(), d.eng[i].p, NewDevice{ID: uuid.NewString(), Platform: "android", AppVersion: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		d.eng[i].device = reg.Device.ID
	}
	return d
}

func (d *desk) exec(sql string, args ...any) {
	d.t.Helper()
	if _, err := d.pool.Exec(context.Background(), sql, args...); err != nil {
		d.t.Fatalf("%v\n%s", err, sql)
	}
}

// site adds a site with an asset and returns both.
func (d *desk) site() (site, asset uuid.UUID) {
	d.t.Helper()
	site, asset = uuid.New(), uuid.New()
	d.exec(`INSERT INTO sites (id, client_id, name, address, location, time_zone) VALUES ($1, $2, 'Магазин', 'Москва', $3, 'Europe/Moscow')`,
		site, d.client, geo.Point{Lat: 55.75, Lng: 37.62})
	d.exec(`INSERT INTO assets (id, site_id, asset_type, serial_number) VALUES ($1, $2, 'refrigeration', $3)`, asset, site, asset.String())
	return site, asset
}

// ticketFor files a ticket at the site (on the asset) and assigns it to engineer e.
func (d *desk) ticketFor(e int, site, asset uuid.UUID) uuid.UUID {
	d.t.Helper()
	tk, _, err := d.tickets.Create(context.Background(), d.dispatch, ticket.NewTicket{SiteID: str(site.String()),
		AssetID: str(asset.String()), Kind: "incident", Title: "Не работает"})
	if err != nil {
		d.t.Fatal(err)
	}
	d.assign(tk.ID, e)
	return tk.ID
}

func (d *desk) assign(id uuid.UUID, e int) {
	d.t.Helper()
	eng := d.eng[e].id.String()
	if _, err := d.tickets.Do(context.Background(), d.dispatch, id, ticket.Assign, ticket.Command{EngineerID: &eng}); err != nil {
		d.t.Fatal(err)
	}
}

func str(s string) *string { return &s }

// replica is what a device holds: table → id → row (as JSON), built only from pulls.
type replica struct {
	cursor string
	rows   map[string]map[uuid.UUID]json.RawMessage
	pulls  int
}

func newReplica() *replica { return &replica{rows: map[string]map[uuid.UUID]json.RawMessage{}} }

// sync pulls until nothing more is waiting, applying every page, and fails the test on
// a reset.
func (r *replica) sync(t *testing.T, d *desk, e int) {
	t.Helper()
	for {
		page, err := d.m.Pull(context.Background(), d.eng[e].p, d.eng[e].device, r.cursor)
		if err != nil {
			t.Fatal(err)
		}
		if page.Reset {
			t.Fatalf("reset: %s", page.Reason)
		}
		r.apply(t, page)
		if !page.HasMore {
			return
		}
	}
}

func (r *replica) apply(t *testing.T, page Page) {
	t.Helper()
	r.pulls++
	for name, ch := range page.Changes {
		if r.rows[name] == nil {
			r.rows[name] = map[uuid.UUID]json.RawMessage{}
		}
		for _, row := range ch.Upserted {
			var head struct {
				ID uuid.UUID `json:"id"`
			}
			if err := json.Unmarshal(row, &head); err != nil {
				t.Fatal(err)
			}
			r.rows[name][head.ID] = row
		}
		for _, id := range ch.Removed {
			delete(r.rows[name], id)
			if name == "tickets" { // a ticket's children leave with it
				for _, child := range []string{"comments", "time_entries", "checklists", "checklist_answers", "attachments"} {
					for cid, row := range r.rows[child] {
						var c struct {
							TicketID uuid.UUID `json:"ticket_id"`
						}
						_ = json.Unmarshal(row, &c)
						if c.TicketID == id {
							delete(r.rows[child], cid)
						}
					}
				}
			}
		}
	}
	r.cursor = page.NextCursor
}

func (r *replica) ids(table string) map[uuid.UUID]bool {
	out := map[uuid.UUID]bool{}
	for id := range r.rows[table] {
		out[id] = true
	}
	return out
}
