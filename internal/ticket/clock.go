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

// loadTerms reads the terms of contract for priority at site; ok is false without a
// contract, when the ticket has no SLA.
func loadTerms(ctx context.Context, q postgres.Querier, contract *uuid.UUID, priority string, site uuid.UUID) (terms, bool, error) {
	if contract == nil {
		return terms{}, false, nil
	}
	var t terms
	var spec sla.Spec
	var zone string
	err := q.QueryRow(ctx, `
		SELECT st.reaction_minutes, st.resolution_minutes,
			jsonb_build_object('weekly_hours', k.weekly_hours, 'holidays', to_jsonb(k.holidays), 'working_days', k.working_days),
			s.time_zone
		FROM contracts c
		JOIN sla_targets st ON st.policy_id = c.sla_policy_id AND st.priority = $2
		JOIN calendars k ON k.id = c.calendar_id
		JOIN sites s ON s.id = $3
		WHERE c.id = $1`, *contract, priority, site).Scan(&t.reaction, &t.resolution, &spec, &zone)
	if postgres.ErrNoRows(err) {
		return terms{}, false, nil
	}
	if err != nil {
		return terms{}, false, fmt.Errorf("ticket: sla terms: %w", err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return terms{}, false, fmt.Errorf("ticket: site time zone %q: %w", zone, err)
	}
	if t.cal, err = sla.Compile(spec, loc); err != nil {
		return terms{}, false, fmt.Errorf("ticket: contract calendar: %w", err)
	}
	return t, true, nil
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

// metState says whether a clock stopped at met was on time.
func metState(met time.Time, due *time.Time) string {
	switch {
	case due == nil:
		return "none"
	case met.After(*due):
		return "met_late"
	}
	return "met"
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
