package dispatch

import (
	"context"
	"fmt"
	"slices"

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
	return s.submit(ctx, &job{ticket: ticketID, by: ticket.System, record: true})
}

// suggestions is how many engineers a "suggest" contract's ticket names for dispatchers.
const suggestions = 3

// suggest ranks the engineers for a new ticket and notes the best on it, for a
// dispatcher to assign with one click; nobody is assigned.
func (s *Service) suggest(ctx context.Context, n need) (Outcome, error) {
	cands, err := s.rank(ctx, n, suggestions, suggestions)
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
	return s.submit(ctx, &job{ticket: ticketID, by: p, force: true, record: true})
}

func (s *Service) modeOf(n need) string {
	if n.mode != nil {
		return *n.mode
	}
	return s.opts.Mode
}

// fallbacks is how many engineers a ticket is offered to, in case others fill the first
// ones meanwhile: the best of all, then the next best of those near enough to be read
// with them (making sure of the next ones too would read much farther, for a choice
// that is rarely used).
const fallbacks = 3

// dispatchAll dispatches a batch of tickets: each is ranked on its own, and all are
// placed in one transaction, each with the first of its best engineers who still has
// room. Within the batch, an engineer's choices are reordered by the load the batch has
// already given them, as if the tickets had come one after another. Tickets whose
// choices all filled up (many at one site, say) are ranked again against the new loads
// and placed in another round, until a round places nobody.
func (s *Service) dispatchAll(ctx context.Context, jobs []*job) {
	ids := make([]uuid.UUID, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ticket
	}
	needs, err := s.loadNeeds(ctx, ids)
	if err != nil {
		for _, j := range jobs {
			j.err = err
		}
		return
	}
	var waiting []*job
	for _, j := range jobs {
		n, ok := needs[j.ticket]
		switch mode := s.modeOf(n); {
		case !ok:
			j.err = apperr.New(apperr.NotFound, "ticket %s not found", j.ticket)
		case !j.force && mode == "suggest":
			j.out, j.err = s.suggest(ctx, n)
		case !j.force && mode != "auto":
			j.out = Outcome{Reason: "dispatch mode is " + mode}
		case n.status != string(ticket.New) || n.assigned:
			j.out = Outcome{Reason: "the ticket is not waiting for an engineer"}
		default:
			waiting = append(waiting, j)
		}
	}
	for len(waiting) > 0 {
		full, placed := s.placeRound(ctx, waiting, needs)
		waiting = full
		if placed == 0 {
			break
		}
	}
	for _, j := range waiting {
		j.out, j.err = s.unplaced(ctx, j, needs[j.ticket], "every qualified engineer filled up meanwhile")
	}
}

// placeRound ranks and places the waiting jobs once. It returns the jobs whose choices
// were all full, and how many it placed.
func (s *Service) placeRound(ctx context.Context, waiting []*job, needs map[uuid.UUID]need) ([]*job, int) {
	var offers []ticket.Offer
	var offered []*job
	var choices [][]Candidate
	planned := map[uuid.UUID]int{} // engineer → tickets this round means to give them
	batch := make([]need, len(waiting))
	for i, j := range waiting {
		batch[i] = needs[j.ticket]
	}
	ranked, err := s.rankAll(ctx, candidateSQL, batch, fallbacks, 1)
	if err != nil {
		for _, j := range waiting {
			j.err = err
		}
		return nil, 0
	}
	for i, j := range waiting {
		cands := ranked[i]
		if len(cands) == 0 {
			j.out, j.err = s.unplaced(ctx, j, needs[j.ticket], "no engineer qualifies")
			continue
		}
		for k := range cands {
			c := &cands[k]
			c.Load += planned[c.EngineerID]
			*c = s.score(*c)
		}
		slices.SortStableFunc(cands, better)
		planned[cands[0].EngineerID]++
		o := ticket.Offer{Ticket: j.ticket, By: j.by}
		for _, c := range cands {
			o.Choices = append(o.Choices, ticket.Choice{Engineer: c.EngineerID, Assignment: assignment(c)})
		}
		offers, offered, choices = append(offers, o), append(offered, j), append(choices, cands)
	}
	if len(offers) == 0 {
		return nil, 0
	}
	places, err := s.tickets.Place(ctx, offers)
	var full []*job
	placed := 0
	for i, j := range offered {
		switch {
		case err != nil:
			j.err = fmt.Errorf("dispatch: place: %w", err)
		case places[i].Engineer != nil:
			k := slices.IndexFunc(choices[i], func(c Candidate) bool { return c.EngineerID == *places[i].Engineer })
			j.out = Outcome{Assigned: &choices[i][k]}
			placed++
		case places[i].Changed:
			j.out = Outcome{Reason: "the ticket changed meanwhile"} // someone assigned or cancelled it
		default:
			full = append(full, j)
		}
	}
	return full, placed
}

// unplaced is the outcome for a ticket nobody could take. When the job records it, the
// ticket gets an event saying why, for dispatchers to act on, and the sweep tries again
// as shifts open (a dispatcher taking it over ends that).
func (s *Service) unplaced(ctx context.Context, j *job, n need, reason string) (Outcome, error) {
	out := Outcome{Reason: reason}
	if !j.record {
		return out, nil
	}
	f, err := s.funnel(ctx, n)
	if err != nil {
		return Outcome{}, err
	}
	out.Funnel = &f
	if _, err := s.pool.Exec(ctx, `INSERT INTO dispatch_attempts (ticket_id, tried_at) VALUES ($1, $2)
		ON CONFLICT (ticket_id) DO UPDATE SET tried_at = $2`, n.ticket, s.now()); err != nil {
		return Outcome{}, fmt.Errorf("dispatch: note attempt: %w", err)
	}
	err = s.tickets.AddSystemEvent(ctx, n.ticket, "dispatch_failed", map[string]any{"reason": out.Reason, "funnel": f})
	return out, err
}

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
				e.skill_ords @> $4::int[] AS skilled,
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
