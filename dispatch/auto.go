package dispatch

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/ticket"
)

// Outcome is what an attempt to dispatch a ticket came to.
type Outcome struct {
	Assigned *Candidate `json:"assigned"`
	// Reason says why nobody was assigned.
	Reason string `json:"reason,omitempty"`
	// Funnel counts engineers left after each hard filter, when nobody qualified.
	Funnel *Funnel `json:"funnel,omitempty"`
}

// AutoDispatch assigns a newly filed ticket to the best engineer when its contract (or,
// when the contract does not say, the server) dispatches automatically.
func (s *Service) AutoDispatch(ctx context.Context, ticketID uuid.UUID) (Outcome, error) {
	n, err := s.loadNeed(ctx, s.pool, ticketID)
	if err != nil {
		return Outcome{}, err
	}
	switch mode := s.modeOf(n); mode {
	case "auto":
		return s.assignBest(ctx, ticket.System, n, true)
	case "suggest":
		return s.suggest(ctx, n)
	default:
		return Outcome{Reason: "dispatch mode is " + mode}, nil
	}
}

// suggestions is how many engineers a "suggest" contract's ticket names for dispatchers.
const suggestions = 3

// suggest ranks the engineers for a new ticket and notes the best on it, for a
// dispatcher to assign with one click; nobody is assigned.
func (s *Service) suggest(ctx context.Context, n need) (Outcome, error) {
	cands, err := s.rank(ctx, s.pool, n, suggestions)
	if err != nil {
		return Outcome{}, err
	}
	list := make([]map[string]any, len(cands))
	for i, c := range cands {
		list[i] = map[string]any{"engineer_id": c.EngineerID, "name": c.Name, "distance_m": c.DistanceM,
			"eta_s": c.ETASecs, "score": c.Score}
	}
	err = s.tickets.AddSystemEvent(ctx, n.ticket, "dispatch_suggested", map[string]any{"candidates": list})
	return Outcome{Reason: "dispatch mode is suggest: the best engineers are noted on the ticket"}, err
}

// AssignBest assigns a ticket to the best engineer now, whatever the dispatch mode: a
// dispatcher's "assign the best one", recorded as theirs.
func (s *Service) AssignBest(ctx context.Context, p auth.Principal, ticketID uuid.UUID) (Outcome, error) {
	n, err := s.loadNeed(ctx, s.pool, ticketID)
	if err != nil {
		return Outcome{}, err
	}
	return s.assignBest(ctx, p, n, true)
}

func (s *Service) modeOf(n need) string {
	if n.mode != nil {
		return *n.mode
	}
	return s.opts.Mode
}

// assignBest tries the candidates best first. One whose last free slot another dispatch
// took meanwhile is skipped for the next. When nobody can take the ticket and record is
// set, the ticket gets an event saying why, for dispatchers to act on.
func (s *Service) assignBest(ctx context.Context, by auth.Principal, n need, record bool) (Outcome, error) {
	if n.status != string(ticket.New) || n.assigned {
		return Outcome{Reason: "the ticket is not waiting for an engineer"}, nil
	}
	cands, err := s.rank(ctx, s.pool, n, fallbacks)
	if err != nil {
		return Outcome{}, err
	}
	for _, c := range cands {
		err := s.tickets.AssignTo(ctx, by, n.ticket, c.EngineerID, assignment(c))
		if err == nil {
			return Outcome{Assigned: &c}, nil
		}
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.Conflict {
			return Outcome{}, fmt.Errorf("dispatch: assign: %w", err)
		}
		if ae.Fields["engineer_id"] == "" {
			return Outcome{Reason: "the ticket changed meanwhile"}, nil // someone assigned or cancelled it
		}
	}
	out := Outcome{Reason: "no engineer qualifies"}
	if len(cands) > 0 {
		out.Reason = "every qualified engineer filled up meanwhile"
	}
	if !record {
		return out, nil
	}
	f, err := s.funnel(ctx, n)
	if err != nil {
		return Outcome{}, err
	}
	out.Funnel = &f
	// The sweep tries again as shifts open; a dispatcher taking it over ends that.
	if _, err := s.pool.Exec(ctx, `INSERT INTO dispatch_attempts (ticket_id, tried_at) VALUES ($1, $2)
		ON CONFLICT (ticket_id) DO UPDATE SET tried_at = $2`, n.ticket, s.now()); err != nil {
		return Outcome{}, fmt.Errorf("dispatch: note attempt: %w", err)
	}
	err = s.tickets.AddSystemEvent(ctx, n.ticket, "dispatch_failed", map[string]any{"reason": out.Reason, "funnel": f})
	return out, err
}

// fallbacks is how many of the best engineers auto-dispatch tries, in case concurrent
// assignments fill the first ones meanwhile.
const fallbacks = 3

func assignment(c Candidate) ticket.Assignment {
	return ticket.Assignment{Mode: "auto", DistanceM: &c.DistanceM, ETASecs: &c.ETASecs, Score: &c.Score,
		Reasons: map[string]any{"travel_minutes": c.Breakdown.TravelMinutes, "load_minutes": c.Breakdown.LoadMinutes,
			"load": c.Load, "capacity": c.Capacity, "from_home_base": c.FromHomeBase}}
}

// Funnel counts the active engineers left after each hard filter, in order, so a
// dispatcher sees what stands in the way: nobody has the skill, or nobody is on shift…
type Funnel struct {
	Active      int `json:"active"`
	WithSkills  int `json:"with_skills"`
	OnShift     int `json:"on_shift"`
	WithinRange int `json:"within_range"`
	WithRoom    int `json:"with_room"`
}

func (s *Service) funnel(ctx context.Context, n need) (Funnel, error) {
	now := s.now()
	open, err := s.shifts.openAt(ctx, s.pool, now)
	if err != nil {
		return Funnel{}, err
	}
	var f Funnel
	err = s.pool.QueryRow(ctx, `
		WITH e AS (
			SELECT e.*,
				(SELECT count(*) FROM engineer_skills es WHERE es.engineer_id = e.id AND es.skill_id = ANY($4)) = cardinality($4) AS skilled,
				(e.calendar_id = ANY($2) OR e.available_until > $3)
					AND NOT EXISTS (SELECT 1 FROM engineer_time_off o WHERE o.engineer_id = e.id AND o.period @> $3) AS on_shift,
				$5::float8 IS NULL OR ST_DWithin(e.position, $1::geography, $5, false) AS in_range
			FROM engineers e JOIN users u ON u.id = e.user_id WHERE e.active AND u.active)
		SELECT count(*), count(*) FILTER (WHERE skilled), count(*) FILTER (WHERE skilled AND on_shift),
			count(*) FILTER (WHERE skilled AND on_shift AND in_range),
			count(*) FILTER (WHERE skilled AND on_shift AND in_range AND open_jobs < capacity)
		FROM e`, n.site, open, now, n.skills, n.radiusM).Scan(&f.Active, &f.WithSkills, &f.OnShift, &f.WithinRange, &f.WithRoom)
	if err != nil {
		return f, fmt.Errorf("dispatch: funnel: %w", err)
	}
	return f, nil
}
