package ticket

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/geo"
)

func at(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func sameInstant(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Errorf("%s: got %v, want %v", what, got, want.UTC())
	}
}

// The contract's policy for "normal" is 60 minutes to react and 480 to resolve, in
// business hours 09:00–18:00 Monday to Friday (Moscow), with 31 December a holiday.
func TestDeadlinesFollowTheContractCalendar(t *testing.T) {
	for _, tc := range []struct {
		name                          string
		filed                         string
		priority                      string
		reaction, resolution, risk    string
		reactionMinutes, resolutionMn int
	}{
		{"inside hours", "2026-11-23 10:00", "", "2026-11-23 11:00", "2026-11-23 18:00", "2026-11-23 16:24", 60, 480},
		{"late in the day runs into the next morning", "2026-11-23 17:30", "", "2026-11-24 09:30", "2026-11-24 16:30", "2026-11-24 14:54", 60, 480},
		{"at night waits for opening", "2026-11-24 02:00", "", "2026-11-24 10:00", "2026-11-24 17:00", "2026-11-24 15:24", 60, 480},
		{"friday evening runs over the weekend", "2026-11-27 17:30", "", "2026-11-30 09:30", "2026-11-30 16:30", "2026-11-30 14:54", 60, 480},
		{"the holiday does not count", "2026-12-30 17:30", "", "2027-01-01 09:30", "2027-01-01 16:30", "2027-01-01 14:54", 60, 480},
		{"a higher priority is faster", "2026-11-23 10:00", "critical", "2026-11-23 10:15", "2026-11-23 12:00", "2026-11-23 11:36", 15, 120},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.clock.Set(msk(tc.filed))
			in := NewTicket{SiteID: str(w.siteA.String()), Kind: "incident", Title: "Течь"}
			if tc.priority != "" {
				in.Priority = &tc.priority
			}
			tk, _, err := w.s.Create(context.Background(), w.clientUserA, in)
			if err != nil {
				t.Fatal(err)
			}
			sameInstant(t, "reaction due", tk.SLA.Reaction.DueAt, msk(tc.reaction))
			sameInstant(t, "resolution due", tk.SLA.Resolution.DueAt, msk(tc.resolution))
			if *tk.SLA.Reaction.Minutes != tc.reactionMinutes || *tk.SLA.Resolution.Minutes != tc.resolutionMn {
				t.Errorf("targets %d/%d", *tk.SLA.Reaction.Minutes, *tk.SLA.Resolution.Minutes)
			}
			var risk time.Time
			if err := w.pool.QueryRow(context.Background(), `SELECT resolution_risk_at FROM tickets WHERE id = $1`, tk.ID).Scan(&risk); err != nil {
				t.Fatal(err)
			}
			sameInstant(t, "resolution at risk", &risk, msk(tc.risk))
			if tk.SLA.Reaction.State != "ok" || tk.SLA.Resolution.State != "ok" || tk.ContractID == nil || *tk.ContractID != w.contractA {
				t.Errorf("clocks %+v, contract %v", tk.SLA, tk.ContractID)
			}
		})
	}
}

func TestHoursAreTheSitesLocalHours(t *testing.T) {
	w := newWorld(t)
	site := uuid.New()
	_, err := w.pool.Exec(context.Background(), `INSERT INTO sites (id, client_id, name, address, location, time_zone)
		VALUES ($1, $2, 'Филиал', 'Екатеринбург, Ленина, 1', $3, 'Asia/Yekaterinburg')`, site, w.clientA, geo.Point{Lat: 56.84, Lng: 60.6})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Set(msk("2026-11-23 07:30")) // 09:30 in Yekaterinburg, before opening in Moscow
	tk, _, err := w.s.Create(context.Background(), w.clientUserA, NewTicket{SiteID: str(site.String()), Kind: "request", Title: "Замена лампы"})
	if err != nil {
		t.Fatal(err)
	}
	sameInstant(t, "reaction due", tk.SLA.Reaction.DueAt, msk("2026-11-23 08:30")) // 10:30 local
}

func TestNoContractMeansNoClocks(t *testing.T) {
	w := newWorld(t)
	tk, _, err := w.s.Create(context.Background(), w.clientUserB, NewTicket{SiteID: str(w.siteB.String()), Kind: "consultation", Title: "Вопрос"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.ContractID != nil || tk.SLA.Reaction.DueAt != nil || tk.SLA.Reaction.State != "none" || tk.Priority != "normal" {
		t.Fatalf("a ticket without contract: %+v", tk)
	}
	w.clock.Advance(30 * 24 * time.Hour)
	if r, err := w.s.Sweep(context.Background()); err != nil || r != (SweepResult{}) {
		t.Fatalf("the sweep touched a ticket without clocks: %+v %v", r, err)
	}
}

func TestReactionIsMetByAcceptanceOrAPublicStaffAnswer(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()

	onTime := w.ticketIn(Assigned)
	w.clock.Advance(20 * time.Minute)
	tk := w.do(w.engineer, onTime, Accept, Command{})
	if tk.SLA.Reaction.State != "met" || !at(tk.SLA.Reaction.MetAt).Equal(w.clock.Now()) {
		t.Fatalf("accepted in 20 minutes: %+v", tk.SLA.Reaction)
	}

	late := w.ticketIn(Assigned)
	w.clock.Advance(2 * time.Hour)
	if tk := w.do(w.engineer, late, Accept, Command{}); tk.SLA.Reaction.State != "met_late" {
		t.Fatalf("accepted after two hours: %+v", tk.SLA.Reaction)
	}

	answered := w.file().ID
	for _, c := range []struct {
		who        string
		visibility string
		reacts     bool
	}{{"client", "public", false}, {"dispatcher", "internal", false}, {"dispatcher", "public", true}} {
		p := w.clientUserA
		if c.who == "dispatcher" {
			p = w.dispatcher
		}
		if _, _, err := w.s.AddComment(ctx, p, answered, NewComment{Body: "Уточните модель", Visibility: str(c.visibility)}); err != nil {
			t.Fatal(err)
		}
		got, _ := w.s.Get(ctx, w.admin, answered)
		if (got.SLA.Reaction.MetAt != nil) != c.reacts {
			t.Fatalf("a %s %s comment: reaction %+v", c.visibility, c.who, got.SLA.Reaction)
		}
	}
}

func TestWaitingOnTheClientPausesTheResolutionClock(t *testing.T) {
	w := newWorld(t)
	id := w.ticketIn(InProgress) // filed Monday 10:00, due Monday 18:00
	w.clock.Set(msk("2026-11-23 17:00"))
	w.do(w.engineer, id, Wait, Command{WaitingOn: str("client")})
	w.clock.Set(msk("2026-11-24 10:00")) // an hour on Monday and an hour on Tuesday inside hours
	// The sweep must leave a paused ticket alone even though its old deadline passed.
	if r, err := w.s.Sweep(context.Background()); err != nil || r.ResolutionBreached != 0 {
		t.Fatalf("sweep during the pause: %+v %v", r, err)
	}
	tk := w.do(w.engineer, id, Resume, Command{})
	if tk.SLA.PausedMinutes != 120 || tk.SLA.PausedSince != nil {
		t.Fatalf("paused %d minutes (since %v), want 120", tk.SLA.PausedMinutes, tk.SLA.PausedSince)
	}
	sameInstant(t, "resolution due after the pause", tk.SLA.Resolution.DueAt, msk("2026-11-24 11:00"))
	if tk.SLA.Resolution.State != "at_risk" { // 08:44 of 10:00 business hours gone: past 80 %
		t.Errorf("state after the pause %q", tk.SLA.Resolution.State)
	}

	// Waiting for parts is the service company's own delay: the clock runs on.
	w.do(w.engineer, id, Wait, Command{WaitingOn: str("parts")})
	w.clock.Advance(30 * time.Minute)
	tk = w.do(w.engineer, id, Resolve, Command{Note: str("Заменён компрессор")})
	if tk.SLA.PausedMinutes != 120 || tk.SLA.Resolution.State != "met" || tk.ResolvedAt == nil {
		t.Fatalf("after parts and resolve: %+v", tk.SLA)
	}
}

func TestAPriorityChangeRecomputesTheDeadlines(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tk := w.file() // Monday 10:00, normal
	w.clock.Set(msk("2026-11-23 10:20"))
	got, err := w.s.Update(ctx, w.dispatcher, tk.ID, Edit{Version: &tk.Version, Priority: str("high")})
	if err != nil {
		t.Fatal(err)
	}
	sameInstant(t, "reaction due", got.SLA.Reaction.DueAt, msk("2026-11-23 10:30"))
	sameInstant(t, "resolution due", got.SLA.Resolution.DueAt, msk("2026-11-23 14:00"))
	if got.Priority != "high" || got.SLA.Reaction.State != "ok" { // 20 of 30 minutes: the 80 % mark is at 24
		t.Fatalf("after the change: %+v", got.SLA)
	}
	events, _ := w.s.History(ctx, w.admin, tk.ID)
	if last := events[len(events)-1]; last.Kind != "priority_changed" || last.Data["to"] != "high" {
		t.Fatalf("last event %+v", last)
	}
	if _, err := w.s.Update(ctx, w.clientUserA, tk.ID, Edit{Version: &got.Version, Priority: str("critical")}); codeOf(err) != "forbidden" {
		t.Fatalf("a client changed the priority: %v", err)
	}
}

// sweepers runs n sweeps at once and returns the number of events of kind written.
func (w *world) sweepers(n int, kind string) int {
	w.t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.s.Sweep(context.Background()); err != nil {
				w.t.Error(err)
			}
		}()
	}
	wg.Wait()
	var count int
	if err := w.pool.QueryRow(context.Background(), `SELECT count(*) FROM ticket_events WHERE kind = $1`, kind).Scan(&count); err != nil {
		w.t.Fatal(err)
	}
	return count
}

func TestConcurrentSweepsMarkEachTicketOnce(t *testing.T) {
	w := newWorld(t)
	const n = 30
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = w.file().ID // Monday 10:00: reaction at risk at 10:48, due 11:00
	}
	paused := w.ticketIn(Waiting)
	w.do(w.engineer, paused, Resume, Command{})
	w.do(w.engineer, paused, Wait, Command{WaitingOn: str("client")})

	w.clock.Set(msk("2026-11-23 10:47"))
	if got := w.sweepers(4, "sla.reaction_at_risk"); got != 0 {
		t.Fatalf("%d tickets at risk before 80 %% of the time", got)
	}
	w.clock.Set(msk("2026-11-23 10:50"))
	if got := w.sweepers(4, "sla.reaction_at_risk"); got != n { // the waiting ticket's engineer accepted in time
		t.Fatalf("%d at-risk events, want %d", got, n)
	}
	w.clock.Set(msk("2026-11-23 11:05"))
	for range 3 {
		if got := w.sweepers(4, "sla.reaction_breached"); got != n {
			t.Fatalf("%d breach events, want %d", got, n)
		}
	}
	w.clock.Set(msk("2026-11-24 12:00")) // past every resolution deadline
	if got := w.sweepers(4, "sla.resolution_breached"); got != n {
		t.Fatalf("%d resolution breaches, want %d: the paused ticket must not be one", got, n)
	}
	got, _ := w.s.Get(context.Background(), w.admin, ids[0])
	if got.SLA.Reaction.State != "breached" || got.SLA.Resolution.State != "breached" {
		t.Fatalf("states %+v", got.SLA)
	}
}

func TestConcurrentFilingGetsUniqueNumbers(t *testing.T) {
	w := newWorld(t)
	const n = 40
	numbers := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, _, err := w.s.Create(context.Background(), w.clientUserA, NewTicket{SiteID: str(w.siteA.String()),
				Kind: "incident", Title: "Одновременно"})
			if err != nil {
				t.Error(err)
				return
			}
			numbers <- tk.Number
		}()
	}
	wg.Wait()
	close(numbers)
	seen := map[string]bool{}
	for num := range numbers {
		if seen[num] || len(num) != len("2026-000001") || num[:5] != "2026-" {
			t.Fatalf("number %q is malformed or repeated", num)
		}
		seen[num] = true
	}
	if len(seen) != n {
		t.Fatalf("%d numbers for %d tickets", len(seen), n)
	}
}

func TestResolvingWhileWaitingOnTheClientJudgesTheMovedDeadline(t *testing.T) {
	w := newWorld(t)
	id := w.ticketIn(InProgress) // Monday 10:00, due Monday 18:00
	w.clock.Set(msk("2026-11-23 12:00"))
	w.do(w.engineer, id, Wait, Command{WaitingOn: str("client")})
	w.clock.Set(msk("2026-11-24 12:00")) // 6 + 3 business hours of waiting: 08:00 + 9:00 h from filing is Tuesday 18:00
	tk := w.do(w.engineer, id, Resolve, Command{Note: str("Клиент прислал пароль, настроено")})
	if tk.SLA.PausedMinutes != 540 || tk.SLA.Resolution.State != "met" {
		t.Fatalf("resolved out of a client wait: paused %d, state %q", tk.SLA.PausedMinutes, tk.SLA.Resolution.State)
	}
	sameInstant(t, "moved deadline", tk.SLA.Resolution.DueAt, msk("2026-11-24 18:00"))
}

func TestCommandsThatWorsenAClockRecordIt(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	count := func(kind string) int {
		var n int
		if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM ticket_events WHERE kind = $1`, kind).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	id := w.ticketIn(Resolved) // resolved on time, Monday 10:00
	w.clock.Set(msk("2026-11-24 12:00"))
	tk := w.do(w.clientUserA, id, Reopen, Command{Note: str("Снова течёт")})
	if tk.SLA.Resolution.State != "breached" || count("sla.resolution_breached") != 1 {
		t.Fatalf("reopened past its deadline: %q, %d breach events", tk.SLA.Resolution.State, count("sla.resolution_breached"))
	}
	if r, _ := w.s.Sweep(ctx); r.ResolutionBreached != 0 || count("sla.resolution_breached") != 1 {
		t.Fatalf("the sweep recorded the breach again: %+v", r)
	}
	// In the name of who reopened it: they are not told of what they did.
	var actor *uuid.UUID
	if err := w.pool.QueryRow(ctx, `SELECT actor_id FROM ticket_events WHERE kind = 'sla.resolution_breached'`).Scan(&actor); err != nil ||
		actor == nil || *actor != w.clientUserA.UserID {
		t.Fatalf("the breach's actor: %v (%v), want the client user", actor, err)
	}

	// The exact due instant is late, as the sweep sees it.
	w.clock.Set(msk("2026-11-23 10:00"))
	exact := w.ticketIn(Assigned)
	w.clock.Set(msk("2026-11-23 11:00"))
	if tk := w.do(w.engineer, exact, Accept, Command{}); tk.SLA.Reaction.State != "met_late" {
		t.Fatalf("accepted at the due instant: %q", tk.SLA.Reaction.State)
	}

	// A priority change after the reaction leaves it alone; one that makes the
	// resolution late records the breach.
	w.clock.Set(msk("2026-11-23 10:00"))
	tk = w.file()
	met := w.do(w.dispatcher, tk.ID, Assign, w.command(Assign))
	met = w.do(w.engineer, tk.ID, Accept, Command{})
	w.clock.Set(msk("2026-11-23 14:30"))
	got, err := w.s.Update(ctx, w.dispatcher, tk.ID, Edit{Version: &met.Version, Priority: str("critical")})
	if err != nil {
		t.Fatal(err)
	}
	if !got.SLA.Reaction.DueAt.Equal(*met.SLA.Reaction.DueAt) || got.SLA.Reaction.State != "met" {
		t.Fatalf("the met reaction changed: %+v", got.SLA.Reaction)
	}
	if got.SLA.Resolution.State != "breached" || count("sla.resolution_breached") != 2 {
		t.Fatalf("critical (2 h) at 14:30 for a 10:00 ticket: %q, %d breach events", got.SLA.Resolution.State, count("sla.resolution_breached"))
	}

	// Cancelling stops the running clocks.
	w.clock.Set(msk("2026-11-23 10:00"))
	cancelled := w.do(w.dispatcher, w.file().ID, Cancel, Command{Note: str("Дубль")})
	if cancelled.SLA.Reaction.State != "none" || cancelled.SLA.Resolution.State != "none" {
		t.Fatalf("cancelled clocks %+v", cancelled.SLA)
	}
}
