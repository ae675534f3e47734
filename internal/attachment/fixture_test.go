package attachment_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/attachment"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/objstore"
	"fieldsvc/internal/ticket"
)

// world is a service desk with two client companies, A and B, each with a site, a user
// of every role, and company A's ticket in progress with the first engineer; the
// attachment service runs on a real database and a bucket of its own.
type world struct {
	t       *testing.T
	pool    *pgxpool.Pool
	store   *objstore.Store
	tickets *ticket.Service
	s       *attachment.Service
	clock   *dbtest.Clock

	clientA, clientB, siteA, siteB, engineerID uuid.UUID

	admin, dispatcher, manager, engineer, engineer2, clientUserA, clientUserB auth.Principal

	ticketA uuid.UUID
	numbers int // ticket numbers handed out
}

func newWorld(t *testing.T, o attachment.Options) *world {
	t.Helper()
	pool := dbtest.MustPool(t)
	// On a whole microsecond, as the database keeps it, so that times read back compare equal.
	w := &world{t: t, pool: pool, store: dbtest.MustStore(t), clock: dbtest.NewClock(time.Now().UTC().Truncate(time.Microsecond))}
	w.tickets = ticket.NewService(pool, ticket.Options{Now: w.clock.Now})
	o.Now = w.clock.Now
	w.s = attachment.NewService(pool, w.tickets, w.store, o)

	calendar := uuid.New()
	w.clientA, w.clientB, w.siteA, w.siteB, w.engineerID = uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	w.exec(`INSERT INTO calendars (id, name, time_zone, weekly_hours) VALUES ($1, 'Смена', 'Europe/Moscow', '{}')`, calendar)
	w.exec(`INSERT INTO clients (id, name) VALUES ($1, 'ООО Альфа'), ($2, 'ООО Бета')`, w.clientA, w.clientB)
	w.exec(`INSERT INTO sites (id, client_id, name, address, location, time_zone) VALUES
		($1, $2, 'Магазин', 'Москва, Тверская, 1', $5, 'Europe/Moscow'),
		($3, $4, 'Банк', 'Москва, Арбат, 2', $5, 'Europe/Moscow')`,
		w.siteA, w.clientA, w.siteB, w.clientB, geo.Point{Lat: 55.76, Lng: 37.61})
	user := func(role auth.Role, client *uuid.UUID) auth.Principal {
		id := uuid.New()
		w.exec(`INSERT INTO users (id, email, full_name, role, client_id, password_hash) VALUES ($1, $2, $3, $4, $5, 'x')`,
			id, id.String()+"@example.com", "User "+string(role), role, client)
		return auth.Principal{UserID: id, Role: role, ClientID: client}
	}
	w.admin, w.dispatcher, w.manager = user(auth.Admin, nil), user(auth.Dispatcher, nil), user(auth.Manager, nil)
	w.engineer, w.engineer2 = user(auth.Engineer, nil), user(auth.Engineer, nil)
	w.clientUserA, w.clientUserB = user(auth.Client, &w.clientA), user(auth.Client, &w.clientB)
	for id, u := range map[uuid.UUID]auth.Principal{w.engineerID: w.engineer, uuid.New(): w.engineer2} {
		w.exec(`INSERT INTO engineers (id, user_id, home_base, calendar_id, capacity) VALUES ($1, $2, $3, $4, 100)`,
			id, u.UserID, geo.Point{Lat: 55.7, Lng: 37.6}, calendar)
	}
	w.ticketA = w.ticket(ticket.InProgress)
	return w
}

func (w *world) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.pool.Exec(context.Background(), sql, args...); err != nil {
		w.t.Fatalf("%v\n%s", err, sql)
	}
}

// ticket adds a ticket of company A's in status, assigned to the first engineer.
func (w *world) ticket(status ticket.Status) uuid.UUID {
	w.t.Helper()
	id := uuid.New()
	w.numbers++
	w.exec(`INSERT INTO tickets (id, number, client_id, site_id, kind, priority, status, title, assignee_id)
		VALUES ($1, $2, $3, $4, 'incident', 'normal', $5, 'Не охлаждает витрина', $6)`,
		id, fmt.Sprintf("2026-%06d", w.numbers), w.clientA, w.siteA, status, w.engineerID)
	return id
}

// status reads an attachment's status, and whether it still has a multipart upload.
func (w *world) status(id uuid.UUID) (string, bool) {
	w.t.Helper()
	var status string
	var multipart bool
	err := w.pool.QueryRow(context.Background(), `SELECT status, upload_id IS NOT NULL FROM attachments WHERE id = $1`, id).
		Scan(&status, &multipart)
	if err != nil {
		w.t.Fatal(err)
	}
	return status, multipart
}

func (w *world) count() int {
	w.t.Helper()
	var n int
	if err := w.pool.QueryRow(context.Background(), `SELECT count(*) FROM attachments`).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// slot opens a slot and fails the test unless it is created.
func (w *world) slot(p auth.Principal, ticketID uuid.UUID, in attachment.NewSlot) attachment.SlotOut {
	w.t.Helper()
	out, created, err := w.s.Slot(context.Background(), p, ticketID, in)
	if err != nil || !created {
		w.t.Fatalf("slot as %s: created %v, %v", p.Role, created, err)
	}
	return out
}

// attach uploads data as a confirmed photo, through a slot and its presigned PUT.
func (w *world) attach(p auth.Principal, ticketID uuid.UUID, data []byte, public bool) attachment.Attachment {
	w.t.Helper()
	in := photo(data)
	in.Public = &public
	out := w.slot(p, ticketID, in)
	if code, msg := put(w.t, *out.Upload, data); code != http.StatusOK {
		w.t.Fatalf("upload: %d %s", code, msg)
	}
	a, err := w.s.Confirm(context.Background(), p, out.Attachment.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

// gone reports whether the object of an attachment has left storage.
func (w *world) gone(ticketID, id uuid.UUID) bool {
	w.t.Helper()
	_, err := w.store.Stat(context.Background(), key(ticketID, id))
	if err != nil && !errors.Is(err, objstore.ErrNotFound) {
		w.t.Fatal(err)
	}
	return errors.Is(err, objstore.ErrNotFound)
}

func key(ticketID, id uuid.UUID) string {
	return fmt.Sprintf("tickets/%s/attachments/%s", ticketID, id)
}

// photo declares data as a JPEG photo under a new id.
func photo(data []byte) attachment.NewSlot {
	sum := sha256.Sum256(data)
	return attachment.NewSlot{ID: uuid.NewString(), Kind: "photo", FileName: "chiller.jpg", ContentType: "image/jpeg",
		Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// put sends an Upload the way a device does, and returns what storage answered.
func put(t *testing.T, up objstore.Upload, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(up.Method, up.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range up.Headers {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// get downloads url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

// fails checks that err is an apperr error of code and, when field is given, names it.
func fails(t *testing.T, what string, err error, code apperr.Code, field string) *apperr.Error {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
	if _, ok := ae.Fields[field]; field != "" && !ok {
		t.Fatalf("%s: %v, want a problem with %s", what, err, field)
	}
	return ae
}
