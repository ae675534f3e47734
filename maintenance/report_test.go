package maintenance

import (
	"fmt"
	"testing"
	"time"

	"fieldsvc/internal/page"
	"fieldsvc/internal/ticket"
)

// reportWorld has a weekly chiller plan in Berlin (needing the HVAC skill) and a
// fortnightly boiler plan in Tokyo, on Monday 3 May 2027, 09:00 in Berlin.
func reportWorld(t *testing.T) (*world, Plan, Plan) {
	w := newWorld(t, time.Date(2027, 5, 3, 7, 0, 0, 0, time.UTC))
	chiller := w.plan(PlanInput{AssetID: w.chiller.String(), Name: "Weekly chiller check", Cron: str("0 10 * * 1"),
		HorizonDays: num(7), DurationMinutes: 60, SkillIDs: []string{w.skill.String()}, StartsOn: "2027-05-01"})
	boiler := w.plan(PlanInput{AssetID: w.boiler2.String(), Name: "Boiler service", IntervalDays: num(14), TimeOfDay: str("10:00"),
		HorizonDays: num(7), DurationMinutes: 120, StartsOn: "2027-05-05"})
	return w, chiller, boiler
}

func TestForecastExpandsPlansWithoutMakingWorkOrders(t *testing.T) {
	w, _, _ := reportWorld(t)
	var before int
	if err := w.pool.QueryRow(w.ctx, `SELECT count(*) FROM tickets`).Scan(&before); err != nil || before != 2 {
		t.Fatalf("work orders made: %d %v", before, err)
	}
	r, err := ParseRange("2027-05-03", "2027-05-31")
	if err != nil {
		t.Fatal(err)
	}
	day, err := w.s.Forecast(w.ctx, ForecastQuery{Range: r, Group: "day"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range day.Buckets {
		got = append(got, fmt.Sprintf("%s:%d/%d/%d", b.Period, b.Occurrences, b.WorkOrders, b.Minutes))
	}
	want := "[2027-05-03:1/1/60 2027-05-05:1/1/120 2027-05-10:1/0/60 2027-05-17:1/0/60 2027-05-19:1/0/120 2027-05-24:1/0/60]"
	if fmt.Sprint(got) != want {
		t.Fatalf("by day:\n got %v\nwant %s", got, want)
	}
	week, err := w.s.Forecast(w.ctx, ForecastQuery{Range: r, Group: "week", By: "skill"})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, b := range week.Buckets {
		got = append(got, fmt.Sprintf("%s:%s:%d", b.Period, b.Name, b.Minutes))
	}
	want = "[2027-05-03::120 2027-05-03:HVAC:60 2027-05-10:HVAC:60 2027-05-17::120 2027-05-17:HVAC:60 2027-05-24:HVAC:60]"
	if fmt.Sprint(got) != want {
		t.Fatalf("by week and skill:\n got %v\nwant %s", got, want)
	}
	tokyo, err := w.s.Forecast(w.ctx, ForecastQuery{Range: r, Group: "week", By: "site", SiteID: &w.tokyo})
	if err != nil || len(tokyo.Buckets) != 2 || tokyo.Buckets[0].Name != "Tokyo shop" || *tokyo.Buckets[0].Key != w.tokyo {
		t.Fatalf("one site by week: %+v %v", tokyo, err)
	}
	var after int
	if err := w.pool.QueryRow(w.ctx, `SELECT count(*) FROM tickets`).Scan(&after); err != nil || after != before {
		t.Fatalf("the forecast made work orders: %d", after)
	}
	if _, err := ParseRange("2027-05-03", "2028-06-01"); err == nil {
		t.Fatal("a forecast over more than a year was accepted")
	}
}

func TestLoadWeighsPlannedWorkAgainstShifts(t *testing.T) {
	w, _, _ := reportWorld(t)
	w.exec(`INSERT INTO engineer_time_off (id, engineer_id, period) VALUES (gen_random_uuid(), $1,
		tstzrange('2027-05-11 00:00+02', '2027-05-12 00:00+02')), (gen_random_uuid(), $1,
		tstzrange('2027-05-11 12:00+02', '2027-05-11 20:00+02'))`, w.engineerID) // the second within the first
	r, err := ParseRange("2027-05-04", "2027-05-16") // widened to whole weeks
	if err != nil {
		t.Fatal(err)
	}
	rows, err := w.s.Load(w.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range rows {
		got = append(got, fmt.Sprintf("%s:%s:%d/%d/%d", row.Week, row.SkillName, row.PlannedMinutes, row.Engineers, row.ShiftMinutes))
	}
	// A 9-hour weekday shift is 2700 minutes a week; the day off takes 540.
	want := "[2027-05-03::120/1/2700 2027-05-03:HVAC:60/1/2700 2027-05-10:HVAC:60/1/2160]"
	if fmt.Sprint(got) != want {
		t.Fatalf("load:\n got %v\nwant %s", got, want)
	}
	if u := rows[1].Utilisation; u == nil || *u != 60.0/2700 {
		t.Fatalf("utilisation %v", u)
	}
}

func TestComplianceCountsWorkDoneOnTimeLateMissedAndOverdue(t *testing.T) {
	w, chiller, boiler := reportWorld(t)
	eng := str(w.engineerID.String())
	finish := func(id string, at time.Time) {
		t.Helper()
		o := w.orders(mustParse(t, id))
		w.do(w.dispatcher, o[len(o)-1].ID, ticket.Assign, ticket.Command{EngineerID: eng})
		w.do(w.engineer, o[len(o)-1].ID, ticket.Accept, ticket.Command{})
		w.do(w.engineer, o[len(o)-1].ID, ticket.StartWork, ticket.Command{})
		w.clock.Set(at)
		w.do(w.engineer, o[len(o)-1].ID, ticket.Resolve, ticket.Command{Note: str("done")})
	}
	finish(chiller.ID.String(), time.Date(2027, 5, 3, 13, 0, 0, 0, time.UTC)) // 15:00 the same day: on time
	w.generate()                                                              // the chiller of 10 May comes within the horizon
	finish(boiler.ID.String(), time.Date(2027, 5, 7, 2, 0, 0, 0, time.UTC))   // two days late
	w.clock.Set(time.Date(2027, 5, 12, 12, 0, 0, 0, time.UTC))
	w.generate() // and the one of 17 May; the 10th's is now overdue
	r, _ := ParseRange("2027-05-01", "2027-06-01")
	report, err := w.s.Compliance(w.ctx, ComplianceQuery{Range: r, Group: "client"})
	if err != nil || len(report.Items) != 1 {
		t.Fatalf("compliance: %+v %v", report, err)
	}
	c := report.Items[0]
	if c.ClientName != "Kälte GmbH" || c.Due != 4 || c.OnTime != 1 || c.Late != 1 || c.Overdue != 1 || c.Pending != 1 || c.Missed != 0 ||
		c.Rate == nil || *c.Rate != 1.0/3 {
		t.Fatalf("by client: %+v", c)
	}
	overdue := w.orders(chiller.ID)[1]
	w.do(w.dispatcher, overdue.ID, ticket.Cancel, ticket.Command{Note: str("asset replaced")})
	plans, err := w.s.Compliance(w.ctx, ComplianceQuery{Range: r, Group: "plan"})
	if err != nil || len(plans.Items) != 2 {
		t.Fatalf("by plan: %+v %v", plans, err)
	}
	first, err := w.s.Compliance(w.ctx, ComplianceQuery{Range: r, Group: "plan", Page: page.Request{Limit: 1}})
	if err != nil || len(first.Items) != 1 || first.NextCursor == "" {
		t.Fatalf("a page of one plan: %+v %v", first, err)
	}
	after := mustParse(t, first.NextCursor)
	second, err := w.s.Compliance(w.ctx, ComplianceQuery{Range: r, Group: "plan", Page: page.Request{Limit: 1, After: &after}})
	if err != nil || len(second.Items) != 1 || second.NextCursor != "" || *second.Items[0].PlanID == *first.Items[0].PlanID {
		t.Fatalf("the next page: %+v %v", second, err)
	}
	if c, err := w.s.Compliance(w.ctx, ComplianceQuery{Range: r, Group: "client", Page: page.Request{After: &c.ClientID}}); err != nil || len(c.Items) != 0 {
		t.Fatalf("clients after the only one: %+v %v", c, err)
	}
	for _, p := range plans.Items {
		switch *p.PlanID {
		case chiller.ID:
			if p.Due != 3 || p.OnTime != 1 || p.Missed != 1 || p.Pending != 1 || *p.Rate != 0.5 {
				t.Fatalf("chiller plan: %+v", p)
			}
		case boiler.ID:
			if p.Due != 1 || p.Late != 1 || *p.Rate != 0 {
				t.Fatalf("boiler plan: %+v", p)
			}
		}
	}
}
