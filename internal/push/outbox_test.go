package push_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/auth"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/ticket"
)

// want is an outbox row as a step expects it: to which device, why, for which event.
type want struct {
	device uuid.UUID
	reason string
	event  string
}

// step clears the outbox, runs act, and checks the rows it wrote, in any order.
func (w *world) step(name string, act func(), wants ...want) {
	w.t.Helper()
	w.exec(`DELETE FROM push_outbox`)
	act()
	var got []string
	for _, r := range w.outbox() {
		got = append(got, r.Device.String()+" "+r.Reason+" "+r.Event)
	}
	var exp []string
	for _, x := range wants {
		exp = append(exp, x.device.String()+" "+x.reason+" "+x.event)
	}
	slices.Sort(got)
	slices.Sort(exp)
	if !slices.Equal(got, exp) {
		w.t.Errorf("%s: outbox\n  %s\nwant\n  %s", name, strings.Join(got, "\n  "), strings.Join(exp, "\n  "))
	}
}

func (w *world) do(p auth.Principal, id uuid.UUID, action ticket.Action, cmd ticket.Command) {
	w.t.Helper()
	if _, err := w.tickets.Do(context.Background(), p, id, action, cmd); err != nil {
		w.t.Fatalf("%s as %s: %v", action, p.Role, err)
	}
}

func (w *world) comment(p auth.Principal, id uuid.UUID, visibility string) {
	w.t.Helper()
	if _, _, err := w.tickets.AddComment(context.Background(), p, id, ticket.NewComment{Body: "Когда приедете?", Visibility: &visibility}); err != nil {
		w.t.Fatalf("comment as %s: %v", p.Role, err)
	}
}

// TestOutboxTellsWhoShouldKnow follows a ticket through the service desk's real code
// paths and checks who each change is announced to: engineers get a "sync now" for work
// someone else changed, the client who filed it its status changes and the desk's
// replies, dispatchers what clients write and SLA alarms (with managers). Devices without
// a token, revoked ones and inactive users are never written to.
func TestOutboxTellsWhoShouldKnow(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tech1, tech2 := w.device(w.tech1, "tech1-phone"), w.device(w.tech2, "tech2-phone")
	w.device(w.tech1, "") // the app never got a token
	revoked := w.device(w.tech1, "tech1-old-phone")
	w.exec(`UPDATE devices SET revoked_at = now() WHERE id = $1`, revoked)
	disp, mgr, client := w.device(w.dispatcher, "dispatcher-phone"), w.device(w.manager, "manager-phone"), w.device(w.clientUser, "client-phone")
	offDuty := auth.Principal{UserID: uuid.New(), Role: auth.Dispatcher}
	w.exec(`INSERT INTO users (id, email, full_name, role, password_hash, active) VALUES ($1, 'gone@example.com', 'Gone', 'dispatcher', 'x', false)`,
		offDuty.UserID)
	w.device(offDuty, "inactive-dispatcher-phone")
	e1, e2 := w.engineer1.String(), w.engineer2.String()
	note := "в отпуске"

	w.step("assigned", func() { w.do(w.dispatcher, w.ticket, ticket.Assign, ticket.Command{EngineerID: &e1}) },
		want{tech1, "sync", "assign"}, want{client, "status", "assign"})
	w.step("accepted by the engineer", func() { w.do(w.tech1, w.ticket, ticket.Accept, ticket.Command{}) },
		want{client, "status", "accept"})
	w.step("reassigned", func() { w.do(w.dispatcher, w.ticket, ticket.Assign, ticket.Command{EngineerID: &e2}) },
		want{tech1, "sync", "assign"}, want{tech2, "sync", "assign"}, want{client, "status", "assign"})
	w.step("the client comments", func() { w.comment(w.clientUser, w.ticket, "public") },
		want{tech2, "sync", "commented"}, want{disp, "client_comment", "commented"})
	w.step("the desk answers", func() { w.comment(w.dispatcher, w.ticket, "public") },
		want{tech2, "sync", "commented"}, want{client, "reply", "commented"})
	w.step("an internal note", func() { w.comment(w.dispatcher, w.ticket, "internal") },
		want{tech2, "sync", "commented_internal"})
	w.step("the SLA sweep", func() { // its events come from one UPDATE … INSERT statement
		w.exec(`UPDATE tickets SET resolution_state = 'at_risk', resolution_risk_at = $2, resolution_due_at = $2 WHERE id = $1`,
			w.ticket, w.clock.Now().Add(-time.Minute))
		if _, err := w.tickets.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
	}, want{tech2, "sync", "sla.resolution_breached"}, want{disp, "sla", "sla.resolution_breached"},
		want{mgr, "sla", "sla.resolution_breached"})
	w.step("unassigned", func() { w.do(w.dispatcher, w.ticket, ticket.Unassign, ticket.Command{Note: &note}) },
		want{tech2, "sync", "unassign"}, want{client, "status", "unassign"})

	// Dispatch writes a batch's events in one statement: an engineer gets one sync for it.
	a, b := w.newTicket(ticket.Assigned, &w.engineer1), w.newTicket(ticket.Assigned, &w.engineer1)
	w.step("a batch", func() {
		w.exec(`INSERT INTO ticket_events (ticket_id, actor_id, kind, data)
			SELECT x, $3, 'edited', '{"title": "x"}' FROM unnest(ARRAY[$1, $2]::uuid[]) x`, a, b, w.dispatcher.UserID)
	}, want{tech1, "sync", "edited"})
	// An engineer whose own command made a clock worse is not told of it.
	w.step("an alarm from the engineer's own action", func() {
		w.exec(`INSERT INTO ticket_events (ticket_id, actor_id, kind) VALUES ($1, $2, 'sla.resolution_at_risk')`, a, w.tech1.UserID)
	}, want{disp, "sla", "sla.resolution_at_risk"}, want{mgr, "sla", "sla.resolution_at_risk"})
	w.step("an alarm from the dispatcher's own edit", func() {
		w.exec(`INSERT INTO ticket_events (ticket_id, actor_id, kind) VALUES ($1, $2, 'sla.resolution_breached')`, a, w.dispatcher.UserID)
	}, want{tech1, "sync", "sla.resolution_breached"}, want{mgr, "sla", "sla.resolution_breached"})
	// A client user moved to another company hears no more of the tickets filed at the old one.
	other := uuid.New()
	w.exec(`INSERT INTO clients (id, name) VALUES ($1, 'ООО Бета')`, other)
	w.exec(`UPDATE users SET client_id = $2 WHERE id = $1`, w.clientUser.UserID, other)
	w.step("the filer moved to another company", func() { w.do(w.dispatcher, w.ticket, ticket.Assign, ticket.Command{EngineerID: &e1}) },
		want{tech1, "sync", "assign"})
	w.step("odd event data", func() {
		w.exec(`INSERT INTO ticket_events (ticket_id, kind, data) VALUES ($1, 'dispatch_failed', '{"engineer_id": "not-a-uuid"}')`, w.ticket)
	})
}

// TestRolledBackEventsSendNothing: outbox rows belong to the transaction of their event.
// While it runs no worker sees them; when it rolls back they are gone.
func TestRolledBackEventsSendNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.device(w.dispatcher, "dispatcher-phone")
	w.device(w.tech1, "tech1-phone")
	w.exec(`UPDATE tickets SET assignee_id = $2, status = 'assigned' WHERE id = $1`, w.ticket, w.engineer1)
	s, _ := w.service(true)
	ctx := context.Background()
	tx, err := w.pool.Begin(ctx)
	must(t, err)
	defer tx.Rollback(ctx)
	if _, _, err := w.tickets.AddComment(postgres.InTx(ctx, tx), w.clientUser, w.ticket, ticket.NewComment{Body: "Ждём"}); err != nil {
		t.Fatal(err)
	}
	var inTx int
	must(t, tx.QueryRow(ctx, `SELECT count(*) FROM push_outbox`).Scan(&inTx))
	if inTx != 2 {
		t.Fatalf("the transaction holds %d outbox rows, want 2 (engineer sync, dispatcher)", inTx)
	}
	if n := deliver(t, s); n != 0 {
		t.Fatalf("a worker claimed %d messages of an open transaction", n)
	}
	must(t, tx.Rollback(ctx))
	if n := deliver(t, s); n != 0 || len(w.outbox()) != 0 || len(w.fcm.received()) != 0 {
		t.Fatalf("after the rollback: claimed %d, outbox %v, sent %d", n, w.outbox(), len(w.fcm.received()))
	}
	// The same change committed is announced.
	must(t, postgres.WithTx(ctx, w.pool, func(tx pgx.Tx) error {
		_, _, err := w.tickets.AddComment(postgres.InTx(ctx, tx), w.clientUser, w.ticket, ticket.NewComment{Body: "Ждём"})
		return err
	}))
	if n := deliver(t, s); n != 2 || len(w.fcm.received()) != 2 {
		t.Fatalf("after the commit: claimed %d, sent %d, want 2", n, len(w.fcm.received()))
	}
}

// TestAccountManagerHearsOfAlarmsAndPlannedWork: with an account manager set, a client's
// SLA alarms and new preventive work orders go to them, not to every manager; a batch of
// work orders is one notice naming the first due and the count; a manager is not told of
// work orders their own plan edit filed.
func TestAccountManagerHearsOfAlarmsAndPlannedWork(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	disp, mgr := w.device(w.dispatcher, "dispatcher-phone"), w.device(w.manager, "manager-phone")
	asset := uuid.New()
	w.exec(`INSERT INTO assets (id, site_id, asset_type) VALUES ($1, $2, 'chiller')`, asset, w.site)
	w.exec(`INSERT INTO ticket_numbers (year, last) VALUES ($1, 1000)`, w.clock.Now().Year()) // past the world's own
	plan := func(by *uuid.UUID, days ...int) []uuid.UUID {
		t.Helper()
		var orders []ticket.Planned
		var ids []uuid.UUID
		for _, d := range days {
			due := w.clock.Now().AddDate(0, 0, d)
			id := uuid.New()
			ids = append(ids, id)
			orders = append(orders, ticket.Planned{ID: id, AssetID: asset, Priority: "normal",
				Title: fmt.Sprintf("ТО чиллера, день %d", d), ScheduledFor: due, DispatchAfter: due.Add(-24 * time.Hour)})
		}
		must(t, w.tickets.FilePlanned(ctx, by, orders))
		return ids
	}
	alarm := func() {
		w.exec(`INSERT INTO ticket_events (ticket_id, kind, data) VALUES ($1, 'sla.reaction_at_risk', '{}')`, w.ticket)
	}

	// Without an account manager every manager hears.
	w.step("planned, nobody's client", func() { plan(nil, 3) }, want{mgr, "planned", "created"})

	accountUser := w.user(auth.Manager, nil).UserID
	account := w.device(auth.Principal{UserID: accountUser}, "account-manager-phone")
	w.exec(`UPDATE clients SET account_manager_id = $2 WHERE id = $1`, w.client, accountUser)
	w.step("an alarm", alarm, want{disp, "sla", "sla.reaction_at_risk"}, want{account, "sla", "sla.reaction_at_risk"})

	var first uuid.UUID
	w.step("a batch planned", func() { first = plan(nil, 9, 2, 5)[1] }, want{account, "planned", "created"})
	var count, number string
	var ticketID uuid.UUID
	must(t, w.pool.QueryRow(ctx, `SELECT payload->>'count', payload->>'number', ticket_id FROM push_outbox`).Scan(&count, &number, &ticketID))
	if count != "3" || ticketID != first {
		t.Errorf("the batch's notice: count %s, ticket %s (%s), want 3 and the first due %s", count, ticketID, number, first)
	}
	w.step("planned by the account manager's own edit", func() { plan(&accountUser, 4) })

	// An account manager who left: every manager again.
	w.exec(`UPDATE users SET active = false WHERE id = $1`, accountUser)
	w.step("an alarm, the account manager gone", alarm, want{disp, "sla", "sla.reaction_at_risk"}, want{mgr, "sla", "sla.reaction_at_risk"})
}
