package maintenance

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/ticket"
)

func dues(list []order, loc *time.Location) []string {
	out := make([]string, len(list))
	for i, o := range list {
		out[i] = o.Due.In(loc).Format(time.RFC3339)
	}
	return out
}

func TestPlanAt0230OnTheDayTheSiteClockChanges(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	w := newWorld(t, time.Date(2027, 3, 20, 12, 0, 0, 0, time.UTC))
	p := w.plan(PlanInput{AssetID: w.chiller.String(), Name: "Night defrost check", Cron: str("30 2 * * *"),
		HorizonDays: num(10), DurationMinutes: 30, StartsOn: "2027-03-26", EndsOn: str("2027-03-29")})
	got := dues(w.orders(p.ID), berlin)
	want := []string{"2027-03-26T02:30:00+01:00", "2027-03-27T02:30:00+01:00", "2027-03-28T03:30:00+02:00", "2027-03-29T02:30:00+02:00"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("work orders:\n got %v\nwant %v", got, want)
	}
	// And where the clocks go back, one work order for the night 02:30 comes twice.
	w.clock.Set(time.Date(2027, 10, 25, 12, 0, 0, 0, time.UTC))
	p = w.plan(PlanInput{AssetID: w.boiler1.String(), Name: "Night check", Cron: str("30 2 * * *"),
		HorizonDays: num(10), DurationMinutes: 30, StartsOn: "2027-10-30", EndsOn: str("2027-11-01")})
	got = dues(w.orders(p.ID), berlin)
	want = []string{"2027-10-30T02:30:00+02:00", "2027-10-31T02:30:00+02:00", "2027-11-01T02:30:00+01:00"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("work orders:\n got %v\nwant %v", got, want)
	}
	if r := w.generate(); r.WorkOrders != 0 {
		t.Fatalf("a rerun made %d more", r.WorkOrders)
	}
}

func TestEndOfMonthPlansMakeWorkOrdersAheadWithoutSLAClocks(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	w := newWorld(t, time.Date(2027, 1, 10, 8, 0, 0, 0, time.UTC))
	last := w.plan(PlanInput{AssetID: w.chiller.String(), Name: "Month-end inspection", Cron: str("0 9 L * *"),
		HorizonDays: num(80), LeadHours: num(48), DurationMinutes: 90, Priority: str("high"),
		SkillIDs: []string{w.skill.String()}, StartsOn: "2027-01-01"})
	got := dues(w.orders(last.ID), berlin)
	want := []string{"2027-01-31T09:00:00+01:00", "2027-02-28T09:00:00+01:00", "2027-03-31T09:00:00+02:00"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("month-end work orders:\n got %v\nwant %v", got, want)
	}
	thirtyFirst := w.plan(PlanInput{AssetID: w.boiler1.String(), Name: "On the 31st", Cron: str("0 9 31 * *"),
		HorizonDays: num(80), DurationMinutes: 60, StartsOn: "2027-01-01"})
	if got := dues(w.orders(thirtyFirst.ID), berlin); fmt.Sprint(got) != "[2027-01-31T09:00:00+01:00 2027-03-31T09:00:00+02:00]" {
		t.Fatalf("31st of each month: %v", got)
	}

	o := w.orders(last.ID)[0]
	tk, err := w.tickets.Get(w.ctx, w.dispatcher, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Kind != "preventive" || tk.Status != ticket.New || tk.Priority != "high" || tk.Title != "Month-end inspection" ||
		tk.AssigneeID != nil || tk.SiteID != w.berlin || tk.AssetID == nil || *tk.AssetID != w.chiller {
		t.Fatalf("work order: %+v", tk)
	}
	if tk.SLA.Reaction.State != "none" || tk.SLA.Resolution.DueAt != nil {
		t.Fatalf("planned work runs no SLA clocks: %+v", tk.SLA)
	}
	if len(tk.RequiredSkills) != 1 || tk.RequiredSkills[0].ID != w.skill {
		t.Fatalf("skills: %+v", tk.RequiredSkills)
	}
	if tk.DispatchAfter == nil || !tk.DispatchAfter.Equal(o.Due.Add(-48*time.Hour)) || !tk.ScheduledFor.Equal(o.Due) {
		t.Fatalf("scheduled for %v, dispatch after %v; due %v with 48 h lead", tk.ScheduledFor, tk.DispatchAfter, o.Due)
	}
	// Time passes: each run makes what came within the horizon, once.
	w.clock.Set(time.Date(2027, 2, 20, 8, 0, 0, 0, time.UTC))
	if r := w.generate(); r.WorkOrders != 1 || r.Plans != 1 {
		t.Fatalf("a month later: %+v, want the end of April (the 31st of May is beyond the horizon)", r)
	}
	if r := w.generate(); r.WorkOrders != 0 || r.Plans != 0 {
		t.Fatalf("rerun read %d plans and made %d", r.Plans, r.WorkOrders)
	}
}

func TestConcurrentGeneratorsMakeEachOccurrenceOnce(t *testing.T) {
	utc := time.UTC
	start := time.Date(2027, 2, 1, 6, 0, 0, 0, utc)
	w := newWorld(t, start)
	const plans = 60
	created, err := w.s.CreatePlans(w.asManager(), BulkInput{AssetType: "boiler", ClientID: str(w.client.String()),
		Plan: PlanInput{Name: "Weekly boiler check", Cron: str("0 10 * * 1,4"), HorizonDays: num(14), DurationMinutes: 45, StartsOn: "2027-02-01"}})
	if err != nil || len(created.Created) != 2 {
		t.Fatalf("bulk: %+v %v", created, err)
	}
	again, err := w.s.CreatePlans(w.asManager(), BulkInput{AssetType: "boiler", ClientID: str(w.client.String()),
		Plan: PlanInput{Name: "weekly BOILER check", Cron: str("0 10 * * 1"), HorizonDays: num(14), DurationMinutes: 45, StartsOn: "2027-02-01"}})
	if err != nil || len(again.Created) != 0 || again.Skipped != 2 {
		t.Fatalf("a repeated bulk creation: %+v %v", again, err)
	}
	// Many more plans, written straight to the table as an import would, all due now.
	for i := range plans {
		asset := uuid.New()
		w.exec(`INSERT INTO assets (id, site_id, asset_type) VALUES ($1, $2, 'pump')`, asset, w.tokyo)
		w.exec(`INSERT INTO pm_plans (id, asset_id, name, cron, horizon_days, lead_hours, duration_minutes, priority, starts_on,
			next_due_at, generate_at) VALUES ($1, $2, 'Pump check', $3, 14, 24, 30, 'normal', '2027-02-01', $4, $4)`,
			uuid.New(), asset, []string{"0 9 * * *", "15 14 * * 2,5", "0 8 1,15 * *"}[i%3], start)
	}
	w.clock.Set(start.Add(40 * 24 * time.Hour))
	// Small batches, so that the three interleave many transactions.
	gen := NewService(w.pool, w.tickets, w.s.checklists, Options{Now: w.clock.Now, BatchSize: 7})
	var wg sync.WaitGroup
	results := make([]GenerateResult, 3)
	errs := make([]error, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = gen.Generate(w.ctx)
		}()
	}
	wg.Wait()
	made := 0
	for i := range 3 {
		if errs[i] != nil {
			t.Fatalf("generator %d: %v", i, errs[i])
		}
		made += results[i].WorkOrders
	}
	var occurrences, distinct, tickets, numbers int
	if err := w.pool.QueryRow(w.ctx, `SELECT count(*), count(DISTINCT (plan_id, due_at)), count(DISTINCT ticket_id),
		(SELECT count(DISTINCT number) FROM tickets WHERE kind = 'preventive') FROM pm_occurrences`).
		Scan(&occurrences, &distinct, &tickets, &numbers); err != nil {
		t.Fatal(err)
	}
	if occurrences != distinct || occurrences != tickets || occurrences != numbers {
		t.Fatalf("%d occurrences, %d distinct, %d tickets, %d numbers", occurrences, distinct, tickets, numbers)
	}
	// Each imported plan has exactly the occurrences of its rule in the two weeks ahead
	// of now (those of the 40 days it was not generated are not made up).
	now := w.clock.Now()
	rows, err := w.pool.Query(w.ctx, `SELECT p.cron, count(o.*) FROM pm_plans p LEFT JOIN pm_occurrences o ON o.plan_id = p.id
		WHERE p.name = 'Pump check' GROUP BY p.id, p.cron`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	tokyo := mustZone(t, "Asia/Tokyo")
	expected, imported := 0, 0
	for rows.Next() {
		var expr string
		var n int
		if err := rows.Scan(&expr, &n); err != nil {
			t.Fatal(err)
		}
		r, _ := parseRule(expr)
		want := 0
		for at := r.next(now.Add(-time.Second), tokyo); !at.After(now.AddDate(0, 0, 14)); at = r.next(at, tokyo) {
			want++
		}
		if n != want {
			t.Fatalf("%q: %d work orders, want %d", expr, n, want)
		}
		expected += want
		imported++
	}
	if imported != plans {
		t.Fatalf("%d imported plans", imported)
	}
	if made < expected {
		t.Fatalf("the generators made %d, want at least the %d of the imported plans", made, expected)
	}
}

func TestEditingAPlanRemakesTheFutureWorkNobodyStarted(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	w := newWorld(t, time.Date(2027, 5, 3, 7, 0, 0, 0, time.UTC)) // Monday
	p := w.plan(PlanInput{AssetID: w.chiller.String(), Name: "Weekly chiller check", Cron: str("0 10 * * 1"),
		HorizonDays: num(22), DurationMinutes: 60, SkillIDs: []string{w.skill.String()}, StartsOn: "2027-05-01"})
	before := w.orders(p.ID)
	if fmt.Sprint(dues(before, berlin)) != "[2027-05-03T10:00:00+02:00 2027-05-10T10:00:00+02:00 2027-05-17T10:00:00+02:00 2027-05-24T10:00:00+02:00]" {
		t.Fatalf("before: %v", dues(before, berlin))
	}
	// Today's is under way, next week's is assigned (not started), and the next is accepted.
	eng := str(w.engineerID.String())
	w.do(w.dispatcher, before[0].ID, ticket.Assign, ticket.Command{EngineerID: eng})
	w.do(w.engineer, before[0].ID, ticket.Accept, ticket.Command{})
	w.do(w.dispatcher, before[1].ID, ticket.Assign, ticket.Command{EngineerID: eng})
	w.do(w.dispatcher, before[2].ID, ticket.Assign, ticket.Command{EngineerID: eng})
	w.do(w.engineer, before[2].ID, ticket.Accept, ticket.Command{})

	stale := PlanInput{AssetID: w.chiller.String(), Name: "Weekly chiller check", Cron: str("0 10 * * 2"),
		HorizonDays: num(22), DurationMinutes: 60, StartsOn: "2027-05-01", Version: num(p.Version - 1)}
	if _, err := w.s.UpdatePlan(w.asManager(), p.ID, stale); err == nil {
		t.Fatal("an edit of an older version went through")
	}
	edit := stale
	edit.Version = num(p.Version)
	edit.Cron = str("0 11 * * 2") // Tuesdays at 11
	p2, err := w.s.UpdatePlan(w.asManager(), p.ID, edit)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Version != p.Version+1 || *p2.Cron != "0 11 * * 2" || len(p2.SkillIDs) != 0 {
		t.Fatalf("plan after the edit: %+v", p2)
	}
	after := w.orders(p.ID)
	status := map[uuid.UUID]string{}
	for _, o := range after {
		status[o.ID] = o.Status
	}
	if status[before[0].ID] != "accepted" || status[before[2].ID] != "accepted" {
		t.Fatalf("started work was touched: %v", status)
	}
	if status[before[1].ID] != "cancelled" || status[before[3].ID] != "cancelled" {
		t.Fatalf("unstarted future work was not cancelled: %v", status)
	}
	got := dues(live(after), berlin)
	want := []string{"2027-05-03T10:00:00+02:00", "2027-05-04T11:00:00+02:00", "2027-05-11T11:00:00+02:00",
		"2027-05-17T10:00:00+02:00", "2027-05-18T11:00:00+02:00"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the edit:\n got %v\nwant %v", got, want)
	}
	events, err := w.tickets.History(w.ctx, w.dispatcher, before[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	lastEvent := events[len(events)-1]
	if lastEvent.Kind != "cancel" || lastEvent.ActorID == nil || *lastEvent.ActorID != w.manager.UserID {
		t.Fatalf("the cancellation is not on record as the manager's: %+v", lastEvent)
	}
	var open int
	if err := w.pool.QueryRow(w.ctx, `SELECT open_jobs FROM engineers WHERE id = $1`, w.engineerID).Scan(&open); err != nil || open != 2 {
		t.Fatalf("engineer's open jobs after the cancellation: %d %v", open, err)
	}

	// Pausing cancels what is not started and makes nothing more; resuming starts again.
	if _, err := w.s.SetPlanActive(w.asManager(), p.ID, false); err != nil {
		t.Fatal(err)
	}
	w.clock.Set(time.Date(2027, 6, 1, 7, 0, 0, 0, time.UTC))
	if r := w.generate(); r.WorkOrders != 0 {
		t.Fatalf("a paused plan made %d", r.WorkOrders)
	}
	if got := dues(live(w.orders(p.ID)), berlin); len(got) != 2 {
		t.Fatalf("paused: %v", got)
	}
	if _, err := w.s.SetPlanActive(w.asManager(), p.ID, true); err != nil {
		t.Fatal(err)
	}
	if got := dues(live(w.orders(p.ID)), berlin); fmt.Sprint(got[2:]) != "[2027-06-01T11:00:00+02:00 2027-06-08T11:00:00+02:00 2027-06-15T11:00:00+02:00 2027-06-22T11:00:00+02:00]" {
		t.Fatalf("resumed: %v", got)
	}
}

func TestIntervalPlanCompletedLateCountsFromTheCompletion(t *testing.T) {
	tokyo := mustZone(t, "Asia/Tokyo")
	w := newWorld(t, time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)) // 09:00 in Tokyo
	p := w.plan(PlanInput{AssetID: w.boiler2.String(), Name: "Descale", IntervalDays: num(30), TimeOfDay: str("10:00"),
		HorizonDays: num(60), DurationMinutes: 120, StartsOn: "2027-04-05"})
	first := w.orders(p.ID)
	if fmt.Sprint(dues(first, tokyo)) != "[2027-04-05T10:00:00+09:00]" {
		t.Fatalf("an interval plan makes one work order at a time: %v", dues(first, tokyo))
	}
	if r := w.generate(); r.WorkOrders != 0 {
		t.Fatalf("while it is open, nothing more: %+v", r)
	}
	// Done twelve days late, in the evening: the next is 30 days after that date.
	eng := str(w.engineerID.String())
	w.do(w.dispatcher, first[0].ID, ticket.Assign, ticket.Command{EngineerID: eng})
	w.do(w.engineer, first[0].ID, ticket.Accept, ticket.Command{})
	w.do(w.engineer, first[0].ID, ticket.StartWork, ticket.Command{})
	w.clock.Set(time.Date(2027, 4, 17, 11, 30, 0, 0, time.UTC)) // 20:30 on the 17th in Tokyo
	w.do(w.engineer, first[0].ID, ticket.Resolve, ticket.Command{Note: str("descaled")})
	got := dues(w.orders(p.ID), tokyo)
	if fmt.Sprint(got) != "[2027-04-05T10:00:00+09:00 2027-05-17T10:00:00+09:00]" {
		t.Fatalf("after the late completion: %v", got)
	}
	plan, err := w.s.Plan(w.ctx, p.ID)
	if err != nil || plan.LastDoneAt == nil || !plan.LastDoneAt.Equal(w.clock.Now()) || plan.NextDueAt != nil {
		t.Fatalf("plan: %+v %v", plan, err)
	}
	// The plan filed it on its own, not the engineer who finished the last one.
	second := w.orders(p.ID)[1]
	var by *uuid.UUID
	if err := w.pool.QueryRow(w.ctx, `SELECT actor_id FROM ticket_events WHERE ticket_id = $1 AND kind = 'created'`, second.ID).
		Scan(&by); err != nil || by != nil {
		t.Fatalf("the next work order was filed by %v (%v), want the system", by, err)
	}
	// The next one is cancelled by the desk: the plan goes on 30 days after it was due.
	w.do(w.dispatcher, second.ID, ticket.Cancel, ticket.Command{Note: str("site closed for refurbishment")})
	got = dues(w.orders(p.ID), tokyo)
	if fmt.Sprint(got) != "[2027-04-05T10:00:00+09:00 2027-05-17T10:00:00+09:00 2027-06-16T10:00:00+09:00]" {
		t.Fatalf("after a cancellation: %v", got)
	}
}

func TestGeneratorReadsOnlyThePlansThatAreDue(t *testing.T) {
	w := newWorld(t, time.Date(2027, 1, 4, 6, 0, 0, 0, time.UTC))
	// Thousands of plans well ahead of their horizons, and history behind them.
	w.exec(`INSERT INTO assets (id, site_id, asset_type) SELECT gen_random_uuid(), $1, 'pump' FROM generate_series(1, 5000)`, w.berlin)
	w.exec(`INSERT INTO pm_plans (id, asset_id, name, cron, horizon_days, lead_hours, duration_minutes, priority, starts_on,
			next_due_at, generate_at)
		SELECT gen_random_uuid(), a.id, 'Pump check', '0 9 1 * *', 30, 24, 30, 'normal', '2026-01-01',
			'2027-03-01T08:00:00Z', '2027-01-30T08:00:00Z' FROM assets a WHERE a.asset_type = 'pump'`)
	w.exec(`ANALYZE pm_plans`)
	rows, err := w.pool.Query(w.ctx, `EXPLAIN `+dueSelect+`
		WHERE p.active AND p.generate_at <= $1 ORDER BY p.generate_at LIMIT 1000 FOR UPDATE OF p SKIP LOCKED`, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		text += line + "\n"
	}
	if !strings.Contains(text, "pm_plans_generate_idx") {
		t.Fatalf("the generator's query does not read the next-due index:\n%s", text)
	}
	if r := w.generate(); r.Plans != 0 {
		t.Fatalf("read %d plans, none due", r.Plans)
	}
}
