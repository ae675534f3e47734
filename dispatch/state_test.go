package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/ticket"
)

// engineerUser returns the principal of an engineer placed by f.engineer.
func (f *field) engineerUser(engineer uuid.UUID) auth.Principal {
	f.t.Helper()
	var user uuid.UUID
	if err := f.pool.QueryRow(context.Background(), `SELECT user_id FROM engineers WHERE id = $1`, engineer).Scan(&user); err != nil {
		f.t.Fatal(err)
	}
	return auth.Principal{UserID: user, Role: auth.Engineer}
}

func (f *field) position(engineer uuid.UUID) geo.Point {
	f.t.Helper()
	var p geo.Point
	if err := f.pool.QueryRow(context.Background(), `SELECT position FROM engineers WHERE id = $1`, engineer).Scan(&p); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func TestLocationReportsMoveTheEngineerAndKeepATrail(t *testing.T) {
	f := newField(t, Options{})
	ctx := context.Background()
	home := geo.Point{Lat: 55.70, Lng: 37.50}
	e := f.engineer(engineerSpec{at: home})
	p := f.engineerUser(e)
	there := geo.Point{Lat: 55.76, Lng: 37.62}
	id := uuid.NewString()
	report := LocationReport{ID: &id, Location: there.Input()}
	for range 2 { // a resend is stored once
		if err := f.d.ReportLocation(ctx, p, report); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.position(e); got != there {
		t.Fatalf("position %+v, want %+v", got, there)
	}
	earlier := fixedNow.Add(-10 * time.Minute)
	if err := f.d.ReportLocation(ctx, p, LocationReport{Location: home.Input(), RecordedAt: &earlier}); err != nil {
		t.Fatal(err)
	}
	if got := f.position(e); got != there {
		t.Fatalf("an older fix moved the engineer to %+v", got)
	}
	var trail int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM engineer_locations WHERE engineer_id = $1`, e).Scan(&trail); err != nil || trail != 2 {
		t.Fatalf("trail of %d points (%v), want 2", trail, err)
	}
	for name, tc := range map[string]struct {
		p  auth.Principal
		in LocationReport
	}{
		"a dispatcher":     {auth.Principal{UserID: uuid.New(), Role: auth.Dispatcher}, LocationReport{Location: there.Input()}},
		"no location":      {p, LocationReport{}},
		"lat out of range": {p, LocationReport{Location: geo.Point{Lat: 95, Lng: 0}.Input()}},
		"from the future":  {p, LocationReport{Location: there.Input(), RecordedAt: ptrTime(fixedNow.Add(time.Hour))}},
	} {
		if err := f.d.ReportLocation(ctx, tc.p, tc.in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

func TestSweepSendsStaleEngineersHomeAndRetriesWaitingTickets(t *testing.T) {
	f := newField(t, Options{FreshFor: time.Hour})
	ctx := context.Background()
	home := geo.Point{Lat: 55.60, Lng: 37.40}
	e := f.engineer(engineerSpec{at: home})
	f.exec(`UPDATE engineers SET last_location = 'SRID=4326;POINT(37.7 55.8)', position = 'SRID=4326;POINT(37.7 55.8)',
		last_location_at = $2, calendar_id = $3 WHERE id = $1`, e, fixedNow.Add(-3*time.Hour), f.offDuty)
	f.exec(`INSERT INTO engineer_locations (id, engineer_id, location, recorded_at, received_at)
		VALUES ($1, $2, 'SRID=4326;POINT(37.7 55.8)', $3, $3)`, uuid.New(), e, fixedNow.Add(-40*24*time.Hour))
	waiting := f.ticketAt(geo.Point{Lat: 55.61, Lng: 37.41})
	if out, err := f.d.AutoDispatch(ctx, waiting); err != nil || out.Assigned != nil {
		t.Fatalf("dispatched with nobody on shift: %+v %v", out, err)
	}
	f.exec(`UPDATE engineers SET calendar_id = $2 WHERE id = $1`, e, f.onShift) // the shift starts
	r, err := f.d.Sweep(ctx, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if r.BackHome != 1 || r.Pruned != 1 || r.Dispatched != 1 || f.position(e) != home {
		t.Fatalf("sweep %+v, position %+v", r, f.position(e))
	}
	if again, _ := f.d.Sweep(ctx, 30*24*time.Hour); again != (SweepResult{}) {
		t.Fatalf("a second sweep did more: %+v", again)
	}
}

func TestTimeOffAndAvailability(t *testing.T) {
	f := newField(t, Options{})
	ctx := context.Background()
	e := f.engineer(engineerSpec{at: geo.Point{Lat: 55.7, Lng: 37.6}})
	boss := auth.Principal{UserID: uuid.Nil, Role: auth.Dispatcher}
	off, err := f.d.AddTimeOff(ctx, boss, e, NewTimeOff{Starts: ptrTime(fixedNow.Add(-time.Hour)), Ends: ptrTime(fixedNow.Add(8 * time.Hour)), Reason: "Больничный"})
	if err != nil {
		t.Fatal(err)
	}
	ticketID := f.ticketAt(geo.Point{Lat: 55.7, Lng: 37.6})
	if c, _ := f.d.Candidates(ctx, ticketID); len(c) != 0 {
		t.Fatalf("an engineer on sick leave is a candidate")
	}
	if list, err := f.d.ListTimeOff(ctx, e); err != nil || len(list) != 1 || list[0].Reason != "Больничный" {
		t.Fatalf("time off %+v %v", list, err)
	}
	if err := f.d.CancelTimeOff(ctx, e, off.ID); err != nil {
		t.Fatal(err)
	}
	if c, _ := f.d.Candidates(ctx, ticketID); len(c) != 1 {
		t.Fatalf("back from leave: %d candidates", len(c))
	}
	if _, err := f.d.AddTimeOff(ctx, boss, e, NewTimeOff{Starts: ptrTime(fixedNow), Ends: ptrTime(fixedNow.Add(-time.Hour))}); err == nil {
		t.Fatal("time off ending before it starts was accepted")
	}
	if _, err := f.d.AddTimeOff(ctx, boss, uuid.New(), NewTimeOff{Starts: ptrTime(fixedNow), Ends: ptrTime(fixedNow.Add(time.Hour))}); codeOf(err) != apperr.NotFound {
		t.Fatalf("time off for nobody: %v", err)
	}
	if err := f.d.SetAvailability(ctx, e, Availability{Until: ptrTime(fixedNow.Add(-time.Minute))}); err == nil {
		t.Fatal("availability in the past was accepted")
	}
}

func codeOf(err error) apperr.Code {
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}

// The classic trap for greedy dispatch, on one street (a unit is 0.01° of longitude):
// engineer a at 0, ticket 1 at 1, engineer b at 3, ticket 2 at -2. Greedy takes the
// cheapest pair first (ticket 1 to a, 1 unit) and must then send b 5 units to ticket 2:
// 6 units. The best plan sends b to ticket 1 and a to ticket 2: 2 + 2 = 4 units.
func TestBatchPlanBeatsGreedyWhenEngineersAreScarce(t *testing.T) {
	f := newField(t, Options{})
	ctx := context.Background()
	at := func(units float64) geo.Point { return geo.Point{Lat: 55.75, Lng: 37.60 + units*0.01} }
	a := f.engineer(engineerSpec{at: at(0), capacity: 1})
	b := f.engineer(engineerSpec{at: at(3), capacity: 1})
	t1 := f.ticketAt(at(1))
	t2 := f.ticketAt(at(-2))
	plan, err := f.d.PreviewBatch(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uuid.UUID]uuid.UUID{t1: b, t2: a}
	if plan.Considered != 2 || len(plan.Assignments) != 2 || plan.SavingPercent < 30 || plan.SavingPercent > 36 {
		t.Fatalf("plan %+v", plan)
	}
	for _, as := range plan.Assignments {
		if want[as.TicketID] != as.EngineerID {
			t.Fatalf("plan sends %s to %s", as.TicketID, as.EngineerID)
		}
	}
	var open int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE assignee_id IS NOT NULL`).Scan(&open); err != nil || open != 0 {
		t.Fatalf("a preview assigned %d tickets", open)
	}
	var req ApplyRequest
	for _, as := range plan.Assignments {
		req.Assignments = append(req.Assignments, struct {
			TicketID   string   `json:"ticket_id"`
			EngineerID string   `json:"engineer_id"`
			DistanceM  *float64 `json:"distance_m"`
		}{TicketID: as.TicketID.String(), EngineerID: as.EngineerID.String()})
	}
	results, err := f.d.ApplyBatch(ctx, auth.Principal{Role: auth.Dispatcher}, req)
	if err != nil || results[0].Status != "applied" || results[1].Status != "applied" {
		t.Fatalf("apply %+v %v", results, err)
	}
	again, err := f.d.ApplyBatch(ctx, auth.Principal{Role: auth.Dispatcher}, req)
	if err != nil || again[0].Status != "skipped" {
		t.Fatalf("applying twice: %+v %v", again, err)
	}
}

func TestTheSweepLeavesADispatchersDecisionsAlone(t *testing.T) {
	f := newField(t, Options{})
	ctx := context.Background()
	e := f.engineer(engineerSpec{at: geo.Point{Lat: 55.7, Lng: 37.6}})
	id := f.ticketAt(geo.Point{Lat: 55.71, Lng: 37.61})
	if out, err := f.d.AutoDispatch(ctx, id); err != nil || out.Assigned == nil || out.Assigned.EngineerID != e {
		t.Fatalf("auto-dispatch: %+v %v", out, err)
	}
	note := "Клиент просил другого инженера"
	desk := auth.Principal{Role: auth.Dispatcher}
	if _, err := f.tickets.Do(ctx, desk, id, ticket.Unassign, ticket.Command{Note: &note}); err != nil {
		t.Fatal(err)
	}
	if r, err := f.d.Sweep(ctx, time.Hour); err != nil || r.Dispatched != 0 {
		t.Fatalf("the sweep re-dispatched a ticket a dispatcher took back: %+v %v", r, err)
	}
}

func TestSuggestModeNotesTheBestEngineers(t *testing.T) {
	f := newField(t, Options{})
	ctx := context.Background()
	f.exec(`UPDATE contracts SET dispatch_mode = 'suggest' WHERE id = $1`, f.contract)
	best := f.engineer(engineerSpec{at: geo.Point{Lat: 55.7, Lng: 37.6}})
	f.engineer(engineerSpec{at: geo.Point{Lat: 55.8, Lng: 37.7}})
	id := f.ticketAt(geo.Point{Lat: 55.70, Lng: 37.61})
	out, err := f.d.AutoDispatch(ctx, id)
	if err != nil || out.Assigned != nil {
		t.Fatalf("suggest mode assigned: %+v %v", out, err)
	}
	events, _ := f.tickets.History(ctx, auth.Principal{Role: auth.Dispatcher}, id)
	last := events[len(events)-1]
	cands, _ := last.Data["candidates"].([]any)
	if last.Kind != "dispatch_suggested" || len(cands) != 2 || cands[0].(map[string]any)["engineer_id"] != best.String() {
		t.Fatalf("last event %+v", last)
	}
}

func TestReopenedWorkGoesBackOnlyToAnEngineerWithRoom(t *testing.T) {
	f := newField(t, Options{})
	ctx := context.Background()
	e := f.engineer(engineerSpec{at: geo.Point{Lat: 55.7, Lng: 37.6}, capacity: 1})
	done := f.ticketAt(geo.Point{Lat: 55.7, Lng: 37.6})
	if out, _ := f.d.AutoDispatch(ctx, done); out.Assigned == nil {
		t.Fatal("not dispatched")
	}
	me := f.engineerUser(e)
	for _, a := range []ticket.Action{ticket.Accept, ticket.StartWork} {
		if _, err := f.tickets.Do(ctx, me, done, a, ticket.Command{}); err != nil {
			t.Fatal(err)
		}
	}
	note := "Готово"
	if _, err := f.tickets.Do(ctx, me, done, ticket.Resolve, ticket.Command{Note: &note}); err != nil {
		t.Fatal(err)
	}
	if out, _ := f.d.AutoDispatch(ctx, f.ticketAt(geo.Point{Lat: 55.7, Lng: 37.6})); out.Assigned == nil {
		t.Fatal("the engineer's one place was not taken by new work")
	}
	tk, err := f.tickets.Do(ctx, auth.Principal{Role: auth.Dispatcher}, done, ticket.Reopen, ticket.Command{Note: &note})
	if err != nil || tk.Status != ticket.New || tk.AssigneeID != nil {
		t.Fatalf("reopened onto a full engineer: %+v %v", tk, err)
	}
	var open, capacity int
	if err := f.pool.QueryRow(ctx, `SELECT open_jobs, capacity FROM engineers WHERE id = $1`, e).Scan(&open, &capacity); err != nil || open > capacity {
		t.Fatalf("open jobs %d of %d (%v)", open, capacity, err)
	}
}

func TestCrosswiseReassignmentsDoNotDeadlock(t *testing.T) {
	f := newField(t, Options{})
	ctx := context.Background()
	a := f.engineer(engineerSpec{at: geo.Point{Lat: 55.7, Lng: 37.6}, capacity: 50})
	b := f.engineer(engineerSpec{at: geo.Point{Lat: 55.7, Lng: 37.6}, capacity: 50})
	desk := auth.Principal{Role: auth.Dispatcher}
	assign := func(id, to uuid.UUID) error {
		s := to.String()
		_, err := f.tickets.Do(ctx, desk, id, ticket.Assign, ticket.Command{EngineerID: &s})
		return err
	}
	for range 20 {
		t1, t2 := f.ticketAt(geo.Point{Lat: 55.7, Lng: 37.6}), f.ticketAt(geo.Point{Lat: 55.7, Lng: 37.6})
		if err := assign(t1, a); err != nil {
			t.Fatal(err)
		}
		if err := assign(t2, b); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		go func() { errs <- assign(t1, b) }()
		go func() { errs <- assign(t2, a) }()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("a crosswise reassignment failed: %v", err)
			}
		}
	}
}

func TestPlannedWorkGoesToDispatchAtItsTime(t *testing.T) {
	f := newField(t, Options{})
	ctx := context.Background()
	e := f.engineer(engineerSpec{at: geo.Point{Lat: 55.7, Lng: 37.6}})
	later, due := f.ticketAt(geo.Point{Lat: 55.71, Lng: 37.61}), f.ticketAt(geo.Point{Lat: 55.72, Lng: 37.62})
	f.exec(`UPDATE tickets SET kind = 'preventive', scheduled_for = $3::timestamptz, dispatch_after = $3::timestamptz - interval '1 day'
		WHERE id = $1 OR id = $2`, later, due, fixedNow.Add(48*time.Hour))
	f.exec(`UPDATE tickets SET dispatch_after = $2 WHERE id = $1`, due, fixedNow.Add(-time.Minute))
	if plan, err := f.d.PreviewBatch(ctx, 10); err != nil || len(plan.Assignments) != 0 {
		t.Fatalf("batch planning took work not yet released: %+v %v", plan, err)
	}
	r, err := f.d.Sweep(ctx, time.Hour)
	if err != nil || r.Released != 1 || r.Dispatched != 1 {
		t.Fatalf("sweep: %+v %v", r, err)
	}
	var assignee *uuid.UUID
	var after *time.Time
	if err := f.pool.QueryRow(ctx, `SELECT assignee_id, dispatch_after FROM tickets WHERE id = $1`, due).Scan(&assignee, &after); err != nil {
		t.Fatal(err)
	}
	if assignee == nil || *assignee != e || after != nil {
		t.Fatalf("released work: assignee %v, dispatch_after %v", assignee, after)
	}
	if err := f.pool.QueryRow(ctx, `SELECT assignee_id, dispatch_after FROM tickets WHERE id = $1`, later).Scan(&assignee, &after); err != nil {
		t.Fatal(err)
	}
	if assignee != nil || after == nil {
		t.Fatalf("work due for dispatch tomorrow was touched: assignee %v, dispatch_after %v", assignee, after)
	}
	if again, err := f.d.Sweep(ctx, time.Hour); err != nil || again.Released != 0 || again.Dispatched != 0 {
		t.Fatalf("a second sweep: %+v %v", again, err)
	}
}
