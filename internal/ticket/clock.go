package ticket

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/postgres"
	"fieldsvc/internal/sla"
)

// terms are what a ticket's SLA clocks run on: the contract's targets for its priority,
// and the contract's calendar read in the site's time zone (a chain's 09–18 means 09–18
// at each shop, wherever it is).
type terms struct {
	reaction, resolution int // business minutes
	cal                  sla.Calendar
}

// loadTerms reads the terms a new ticket (or a new priority) gets: the contract's
// targets for priority and its calendar at site. ok is false without a contract, when
// the ticket has no SLA.
func loadTerms(ctx context.Context, q postgres.Querier, contract *uuid.UUID, priority string, site uuid.UUID) (terms, bool, error) {
	if contract == nil {
		return terms{}, false, nil
	}
	var t terms
	err := q.QueryRow(ctx, `SELECT st.reaction_minutes, st.resolution_minutes FROM contracts c
		JOIN sla_targets st ON st.policy_id = c.sla_policy_id AND st.priority = $2 WHERE c.id = $1`,
		*contract, priority).Scan(&t.reaction, &t.resolution)
	if postgres.ErrNoRows(err) {
		return terms{}, false, nil
	}
	if err != nil {
		return terms{}, false, fmt.Errorf("ticket: sla targets: %w", err)
	}
	t.cal, err = loadCalendar(ctx, q, *contract, site)
	return t, err == nil, err
}

// termsOf are the terms a ticket runs on: the targets it got when filed (a later change
// of the policy never rewrites a ticket's history) under its contract's calendar.
func termsOf(ctx context.Context, q postgres.Querier, c current) (terms, bool, error) {
	if c.contract == nil || c.reactionMinutes == nil || c.resolutionMinutes == nil {
		return terms{}, false, nil
	}
	cal, err := loadCalendar(ctx, q, *c.contract, c.site)
	return terms{reaction: *c.reactionMinutes, resolution: *c.resolutionMinutes, cal: cal}, err == nil, err
}

// loadCalendar reads the contract's calendar in the site's time zone.
func loadCalendar(ctx context.Context, q postgres.Querier, contract, site uuid.UUID) (sla.Calendar, error) {
	var spec sla.Spec
	var zone string
	err := q.QueryRow(ctx, `
		SELECT jsonb_build_object('weekly_hours', k.weekly_hours, 'holidays', to_jsonb(k.holidays), 'working_days', k.working_days),
			s.time_zone
		FROM contracts c JOIN calendars k ON k.id = c.calendar_id JOIN sites s ON s.id = $2
		WHERE c.id = $1`, contract, site).Scan(&spec, &zone)
	if err != nil {
		return sla.Calendar{}, fmt.Errorf("ticket: sla calendar: %w", err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return sla.Calendar{}, fmt.Errorf("ticket: site time zone %q: %w", zone, err)
	}
	cal, err := sla.Compile(spec, loc)
	if err != nil {
		return sla.Calendar{}, fmt.Errorf("ticket: contract calendar: %w", err)
	}
	return cal, nil
}

// deadlines are the instants each clock reaches 80 % (risk) and 100 % (due).
type deadlines struct {
	reactionRisk, reactionDue     time.Time
	resolutionRisk, resolutionDue time.Time
}

// riskShare is the part of a target after which a ticket is at risk: 80 %, rounded up.
func riskShare(minutes int) int { return (minutes*4 + 4) / 5 }

// deadlines places the clocks of a ticket filed at created, whose resolution clock
// stood still for paused business minutes.
func (t terms) deadlines(created time.Time, paused int) deadlines {
	return deadlines{
		reactionRisk:   t.cal.Add(created, riskShare(t.reaction)),
		reactionDue:    t.cal.Add(created, t.reaction),
		resolutionRisk: t.cal.Add(created, riskShare(t.resolution)+paused),
		resolutionDue:  t.cal.Add(created, t.resolution+paused),
	}
}

// stateAt says where a running clock stands at now.
func stateAt(now, risk, due time.Time) string {
	switch {
	case !now.Before(due):
		return "breached"
	case !now.Before(risk):
		return "at_risk"
	}
	return "ok"
}

// metState says whether a clock stopped at met was on time. The due instant itself is
// late, as it is for the sweep.
func metState(met time.Time, due *time.Time) string {
	switch {
	case due == nil:
		return "none"
	case !met.Before(*due):
		return "met_late"
	}
	return "met"
}

// severity orders the states of a running clock; stopped clocks have none.
func severity(state string) int {
	switch state {
	case "ok":
		return 0
	case "at_risk":
		return 1
	case "breached":
		return 2
	}
	return -1
}

// clocks are a ticket's SLA columns as stored; all nil (state "none") without a contract.
type clocks struct {
	reactionMinutes, resolutionMinutes                       *int
	reactionRisk, reactionDue, resolutionRisk, resolutionDue *time.Time
	state                                                    string
}

// startClocks sets the clocks of a ticket filed at created.
func startClocks(tm terms, ok bool, created time.Time) clocks {
	if !ok {
		return clocks{state: "none"}
	}
	d := tm.deadlines(created, 0)
	return clocks{reactionMinutes: &tm.reaction, resolutionMinutes: &tm.resolution,
		reactionRisk: &d.reactionRisk, reactionDue: &d.reactionDue,
		resolutionRisk: &d.resolutionRisk, resolutionDue: &d.resolutionDue, state: "ok"}
}
