package checklist

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/objstore"
	"fieldsvc/internal/ticket"
)

// world is a desk with two client companies (A with a site and a chiller, B), staff, two
// engineers, and the checklist service on real PostgreSQL and MinIO.
type world struct {
	t       *testing.T
	pool    *pgxpool.Pool
	store   *objstore.Store
	clock   *dbtest.Clock
	tickets *ticket.Service
	s       *Service

	siteA, assetA, engineerID                                                 uuid.UUID
	admin, dispatcher, manager, engineer, engineer2, clientUserA, clientUserB auth.Principal
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, pool: dbtest.MustPool(t), store: dbtest.MustStore(t),
		clock: dbtest.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))}
	w.tickets = ticket.NewService(w.pool, ticket.Options{Now: w.clock.Now})
	w.s = NewService(w.pool, w.tickets, w.store, Options{Now: w.clock.Now})
	w.tickets.AddHooks(w.s.Hooks())
	clientA, clientB := uuid.New(), uuid.New()
	w.siteA, w.assetA, w.engineerID = uuid.New(), uuid.New(), uuid.New()
	w.exec(`INSERT INTO clients (id, name) VALUES ($1, 'ООО Альфа'), ($2, 'ООО Бета')`, clientA, clientB)
	w.exec(`INSERT INTO sites (id, client_id, name, address, location, time_zone)
		VALUES ($1, $2, 'Магазин', 'Москва, Тверская, 1', $3, 'Europe/Moscow')`, w.siteA, clientA, geo.Point{Lat: 55.76, Lng: 37.61})
	w.exec(`INSERT INTO assets (id, site_id, asset_type, manufacturer, model, serial_number)
		VALUES ($1, $2, 'chiller', 'Carrier', '30RB', 'SN-1')`, w.assetA, w.siteA)
	user := func(role auth.Role, client *uuid.UUID) auth.Principal {
		id := uuid.New()
		w.exec(`INSERT INTO users (id, email, full_name, role, client_id, password_hash) VALUES ($1, $2, $3, $4, $5, 'x')`,
			id, id.String()+"@example.com", "User "+string(role), role, client)
		return auth.Principal{UserID: id, Role: role, ClientID: client}
	}
	w.admin, w.dispatcher, w.manager = user(auth.Admin, nil), user(auth.Dispatcher, nil), user(auth.Manager, nil)
	w.engineer, w.engineer2 = user(auth.Engineer, nil), user(auth.Engineer, nil)
	w.clientUserA, w.clientUserB = user(auth.Client, &clientA), user(auth.Client, &clientB)
	calendar := uuid.New()
	w.exec(`INSERT INTO calendars (id, name, time_zone, weekly_hours) VALUES ($1, '24/7', 'Europe/Moscow', '{}')`, calendar)
	w.exec(`INSERT INTO engineers (id, user_id, home_base, calendar_id, capacity) VALUES ($1, $2, $4, $6, 100), ($3, $5, $4, $6, 100)`,
		w.engineerID, w.engineer.UserID, uuid.New(), geo.Point{Lat: 55.7, Lng: 37.6}, w.engineer2.UserID, calendar)
	return w
}

func (w *world) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.pool.Exec(context.Background(), sql, args...); err != nil {
		w.t.Fatalf("%v\n%s", err, sql)
	}
}

func str(s string) *string { return &s }

// template creates a template as a manager would.
func (w *world) template(in TemplateInput) Template {
	w.t.Helper()
	tpl, err := w.s.CreateTemplate(context.Background(), in)
	if err != nil {
		w.t.Fatal(err)
	}
	return tpl
}

// file files a ticket of kind on the chiller (asset nil: on the site) as client A.
func (w *world) file(kind string, onAsset bool) uuid.UUID {
	w.t.Helper()
	in := ticket.NewTicket{SiteID: str(w.siteA.String()), Kind: kind, Title: "Не охлаждает"}
	if onAsset {
		in.AssetID = str(w.assetA.String())
	}
	tk, _, err := w.tickets.Create(context.Background(), w.clientUserA, in)
	if err != nil {
		w.t.Fatal(err)
	}
	return tk.ID
}

// working files a ticket on the chiller and has the engineer start work on it.
func (w *world) working() uuid.UUID {
	w.t.Helper()
	id := w.file("incident", true)
	w.do(w.dispatcher, id, ticket.Assign, ticket.Command{EngineerID: str(w.engineerID.String())})
	w.do(w.engineer, id, ticket.Accept, ticket.Command{})
	w.do(w.engineer, id, ticket.StartWork, ticket.Command{})
	return id
}

func (w *world) do(p auth.Principal, id uuid.UUID, a ticket.Action, cmd ticket.Command) {
	w.t.Helper()
	if _, err := w.tickets.Do(context.Background(), p, id, a, cmd); err != nil {
		w.t.Fatalf("%s: %v", a, err)
	}
}

func (w *world) checklists(id uuid.UUID) []Checklist {
	w.t.Helper()
	list, err := w.s.ForTicket(context.Background(), w.dispatcher, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return list
}

func (w *world) answer(p auth.Principal, ticketID, checklistID uuid.UUID, item string, value any, base *int) (Answer, error) {
	raw, err := json.Marshal(value)
	if err != nil {
		w.t.Fatal(err)
	}
	return w.s.Answer(context.Background(), p, ticketID, checklistID, item, AnswerInput{Value: raw, BaseVersion: base})
}

// attachment records a file of the ticket as the attachments service would.
func (w *world) attachment(ticketID uuid.UUID, kind, status string) uuid.UUID {
	w.t.Helper()
	id := uuid.New()
	w.exec(`INSERT INTO attachments (id, ticket_id, kind, content_type, size_bytes, sha256, object_key, status,
		uploaded_by, expires_at) VALUES ($1, $2, $3, 'image/jpeg', 100, sha256('x'), $1::uuid::text, $4, $5, now())`,
		id, ticketID, kind, status, w.engineer.UserID)
	return id
}

func codeOf(err error) apperr.Code {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
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

func num(f float64) *float64 { return &f }
func ver(v int) *int         { return &v }

// chillerCheck is a template for incidents on chillers with one item of each type.
func chillerCheck() TemplateInput {
	return TemplateInput{Name: "Chiller service", TicketKinds: []string{"incident"}, AssetTypes: []string{"chiller"},
		Items: []Item{
			{ID: "power_off", Type: YesNo, Label: "Power isolated", Required: true},
			{ID: "pressure", Type: Number, Label: "Suction pressure", Required: true, Min: num(0), Max: num(30), Unit: "bar"},
			{ID: "notes", Type: Text, Label: "Notes", MaxLength: 20},
			{ID: "refrigerant", Type: Choice, Label: "Refrigerant", Options: []string{"R134a", "R410A"}},
			{ID: "parts", Type: MultiChoice, Label: "Parts replaced", Options: []string{"fan", "valve", "filter"}},
			{ID: "photos", Type: Photo, Label: "Photos of the unit", Required: true},
			{ID: "signature", Type: Signature, Label: "Client's signature"},
		}}
}
