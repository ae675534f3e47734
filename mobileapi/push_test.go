package mobileapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/ticket"
)

// state is everything a push can change, to compare before and after.
type state struct {
	Version, Comments, TimeEntries, Events, Locations, Mutations int
	Status                                                       string
}

func (d *desk) state(t *testing.T, id uuid.UUID) state {
	t.Helper()
	var s state
	err := d.pool.QueryRow(context.Background(), `SELECT t.version, t.status,
		(SELECT count(*) FROM comments WHERE ticket_id = t.id), (SELECT count(*) FROM time_entries WHERE ticket_id = t.id),
		(SELECT count(*) FROM ticket_events WHERE ticket_id = t.id), (SELECT count(*) FROM engineer_locations),
		(SELECT count(*) FROM sync_mutations)
		FROM tickets t WHERE t.id = $1`, id).Scan(&s.Version, &s.Status, &s.Comments, &s.TimeEntries, &s.Events, &s.Locations, &s.Mutations)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func action(id uuid.UUID, a ticket.Action) Mutation {
	return Mutation{ID: uuid.NewString(), Type: "ticket.action", TicketID: str(id.String()), Action: str(string(a))}
}

// aDay is what an engineer does on one ticket while offline.
func aDay(id uuid.UUID) []Mutation {
	start := time.Now().Add(-2 * time.Hour).UTC()
	end := start.Add(90 * time.Minute)
	wait := action(id, ticket.Wait)
	wait.WaitingOn = str("parts")
	resolve := action(id, ticket.Resolve)
	resolve.Note = str("Заменён пускатель")
	return []Mutation{
		action(id, ticket.Accept),
		action(id, ticket.StartTravel),
		{ID: uuid.NewString(), Type: "location", Location: geo.Point{Lat: 55.75, Lng: 37.61}.Input(), RecordedAt: &start},
		action(id, ticket.StartWork),
		{ID: uuid.NewString(), Type: "comment.add", TicketID: str(id.String()), Body: str("Нужен пускатель, заказал")},
		wait,
		action(id, ticket.Resume),
		{ID: uuid.NewString(), Type: "time_entry.add", TicketID: str(id.String()), StartedAt: &start, EndedAt: &end, Note: str("Диагностика и замена")},
		resolve,
	}
}

func TestAPushedBatchAppliesOnceHoweverOftenItIsSent(t *testing.T) {
	d := newDesk(t, Options{})
	ctx := context.Background()
	site, asset := d.site()
	id := d.ticketFor(0, site, asset)
	batch := aDay(id)
	first, err := d.m.Push(ctx, d.eng[0].p, d.eng[0].device, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range first {
		if r.Status != "applied" {
			t.Fatalf("mutation %d (%s): %+v", i, batch[i].Type, r)
		}
	}
	once := d.state(t, id)
	if once.Status != "resolved" || once.Comments != 1 || once.TimeEntries != 1 || once.Locations != 1 || once.Mutations != len(batch) {
		t.Fatalf("after the push: %+v", once)
	}
	for range 3 {
		again, err := d.m.Push(ctx, d.eng[0].p, d.eng[0].device, batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range again {
			if r.Status != "duplicate" || r.Original != "applied" || r.ID != first[i].ID {
				t.Fatalf("replayed mutation %d: %+v", i, r)
			}
		}
		if now := d.state(t, id); now != once {
			t.Fatalf("a replay changed the state: %+v, was %+v", now, once)
		}
	}
	var last uuid.UUID
	if err := d.pool.QueryRow(ctx, `SELECT last_mutation_id FROM devices WHERE id = $1`, d.eng[0].device).Scan(&last); err != nil || last.String() != batch[len(batch)-1].ID {
		t.Fatalf("the device's last mutation is %s (%v)", last, err)
	}
}

func TestRejectionsSayWhyAndShowTheServersTicket(t *testing.T) {
	d := newDesk(t, Options{})
	ctx := context.Background()
	site, asset := d.site()
	mine := d.ticketFor(0, site, asset)
	gone := d.ticketFor(0, site, asset)
	d.assign(gone, 1) // the dispatcher gave it to someone else while the engineer was offline
	badEntry := Mutation{ID: uuid.NewString(), Type: "time_entry.add", TicketID: str(mine.String()),
		StartedAt: ptrTime(time.Now()), EndedAt: ptrTime(time.Now().Add(-time.Hour))}
	batch := []Mutation{
		action(mine, ticket.StartWork), // not accepted yet: the state machine refuses
		action(gone, ticket.Accept),    // not theirs any more
		action(mine, ticket.Assign),    // not something the app does
		badEntry,
		{ID: uuid.NewString(), Type: "teleport"},
		action(mine, ticket.Accept), // still applies after all that
	}
	results, err := d.m.Push(ctx, d.eng[0].p, d.eng[0].device, batch)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status string
		code   apperr.Code
	}{{"rejected", apperr.Conflict}, {"rejected", apperr.NotFound}, {"rejected", apperr.Invalid},
		{"rejected", apperr.Invalid}, {"rejected", apperr.Invalid}, {"applied", ""}}
	for i, w := range want {
		if results[i].Status != w.status || results[i].Code != w.code {
			t.Fatalf("mutation %d: %+v, want %s %s", i, results[i], w.status, w.code)
		}
	}
	if results[0].Current == nil || results[0].Current.Status != ticket.Assigned {
		t.Fatalf("the conflict does not show the server's ticket: %+v", results[0])
	}
	if results[1].Current != nil {
		t.Fatal("a ticket no longer theirs was shown to the engineer")
	}
	if results[3].Fields["ended_at"] == "" {
		t.Fatalf("the time entry's problem is not named: %+v", results[3])
	}
	replay, err := d.m.Push(ctx, d.eng[0].p, d.eng[0].device, batch[:1])
	if err != nil || replay[0].Status != "duplicate" || replay[0].Original != "rejected" || replay[0].Code != apperr.Conflict {
		t.Fatalf("a replayed rejection: %+v %v", replay, err)
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

// cutting wraps the ticket service and cuts the connection (cancels the request) after
// the first action, as a phone losing its signal mid-push would.
type cutting struct {
	*ticket.Service
	cut func()
}

func (c cutting) Do(ctx context.Context, p auth.Principal, id uuid.UUID, a ticket.Action, cmd ticket.Command) (ticket.Ticket, error) {
	t, err := c.Service.Do(ctx, p, id, a, cmd)
	c.cut()
	return t, err
}

func TestACutConnectionLeavesNothingHalfApplied(t *testing.T) {
	d := newDesk(t, Options{})
	site, asset := d.site()
	id := d.ticketFor(0, site, asset)
	before := d.state(t, id)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d.m.Tickets = cutting{Service: d.tickets, cut: cancel}
	_, err := d.m.Push(ctx, d.eng[0].p, d.eng[0].device, aDay(id))
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("the cut push returned %v", err)
	}
	if after := d.state(t, id); after != before {
		t.Fatalf("a cut push left changes behind: %+v, was %+v", after, before)
	}
	d.m.Tickets = d.tickets
	results, err := d.m.Push(context.Background(), d.eng[0].p, d.eng[0].device, aDay(id))
	if err != nil || results[len(results)-1].Status != "applied" {
		t.Fatalf("pushing again after the cut: %+v %v", results, err)
	}
}

func TestARevokedDeviceIsSignedOut(t *testing.T) {
	d := newDesk(t, Options{})
	ctx := context.Background()
	reg, err := d.m.Register(ctx, d.eng[0].p, NewDevice{ID: uuid.NewString(), Platform: "ios", AppVersion: "2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if reg.Tokens.RefreshExpiresAt.Before(time.Now().Add(80 * 24 * time.Hour)) {
		t.Fatalf("a device session ends %v: not long-lived", reg.Tokens.RefreshExpiresAt)
	}
	rotated, err := d.auth.Refresh(ctx, reg.Tokens.RefreshToken)
	if err != nil || rotated.RefreshExpiresAt.Before(time.Now().Add(80*24*time.Hour)) {
		t.Fatalf("a refreshed device session: %v %v", rotated.RefreshExpiresAt, err)
	}
	if _, err := d.m.RevokeDevice(ctx, reg.Device.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.m.Pull(ctx, d.eng[0].p, reg.Device.ID, ""); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("a revoked device pulled: %v", err)
	}
	if _, err := d.auth.Refresh(ctx, rotated.RefreshToken); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("a revoked device refreshed its session: %v", err)
	}
	// The engineer's other device is untouched.
	if _, err := d.m.Pull(ctx, d.eng[0].p, d.eng[0].device, ""); err != nil {
		t.Fatalf("the other device: %v", err)
	}
	// Someone else's device id is not theirs to take.
	if _, err := d.m.Register(ctx, d.eng[1].p, NewDevice{ID: reg.Device.ID.String(), Platform: "ios", AppVersion: "2.1"}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("registering another engineer's device: %v", err)
	}
	if _, err := d.m.Register(ctx, d.eng[0].p, NewDevice{ID: uuid.NewString(), Platform: "ios", AppVersion: "2.1", PushToken: str("a b")}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("a malformed push token: %v", err)
	}
}

func TestOldPushedMutationsArePruned(t *testing.T) {
	d := newDesk(t, Options{})
	ctx := context.Background()
	site, asset := d.site()
	id := d.ticketFor(0, site, asset)
	batch := aDay(id)
	if _, err := d.m.Push(ctx, d.eng[0].p, d.eng[0].device, batch); err != nil {
		t.Fatal(err)
	}
	d.exec(`UPDATE sync_mutations SET applied_at = now() - interval '31 days' WHERE id = ANY ($1)`,
		[]uuid.UUID{uuid.MustParse(batch[0].ID), uuid.MustParse(batch[1].ID)})
	n, err := PruneMutations(ctx, d.pool, time.Now().Add(-DefaultCursorMaxAge))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d (%v), want the 2 older than 30 days", n, err)
	}
	again, err := d.m.Push(ctx, d.eng[0].p, d.eng[0].device, batch[2:])
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if r.Status != "duplicate" {
			t.Errorf("a recent mutation pushed again: %d %+v, want duplicate", i, r)
		}
	}
}
