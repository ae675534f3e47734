package dispatch

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/postgres"
)

// Candidate is an engineer who may take a ticket now, and why they rank where they do.
type Candidate struct {
	EngineerID uuid.UUID `json:"engineer_id"`
	Name       string    `json:"name"`
	// DistanceM is the great-circle distance from the engineer's dispatch position.
	DistanceM float64   `json:"distance_m"`
	ETASecs   int       `json:"eta_s"`
	Load      int       `json:"load"`
	Capacity  int       `json:"capacity"`
	Position  geo.Point `json:"position"`
	// FromHomeBase is true when the engineer has no fresh location and is placed at home.
	FromHomeBase bool      `json:"from_home_base"`
	Score        float64   `json:"score"`
	Breakdown    Breakdown `json:"breakdown"`
}

// Breakdown is the score in parts, in minutes: lower is better.
type Breakdown struct {
	TravelMinutes float64 `json:"travel_minutes"`
	LoadMinutes   float64 `json:"load_minutes"`
}

// loadMinutes is what each open job already on an engineer's list weighs against them:
// an engineer with two jobs 10 minutes away loses to a free one 30 minutes away.
const loadMinutes = 15

// need is what a ticket asks of an engineer.
type need struct {
	ticket   uuid.UUID
	status   string
	assigned bool
	site     geo.Point
	skills   []uuid.UUID
	radiusM  *float64
	mode     *string // the contract's dispatch mode
}

func (s *Service) loadNeed(ctx context.Context, q postgres.Querier, ticketID uuid.UUID) (need, error) {
	n := need{ticket: ticketID}
	var radius *int
	err := q.QueryRow(ctx, `
		SELECT t.status, t.assignee_id IS NOT NULL, s.location,
			coalesce((SELECT array_agg(skill_id) FROM ticket_skills WHERE ticket_id = t.id), '{}'),
			c.dispatch_radius_m, c.dispatch_mode
		FROM tickets t JOIN sites s ON s.id = t.site_id LEFT JOIN contracts c ON c.id = t.contract_id
		WHERE t.id = $1`, ticketID).Scan(&n.status, &n.assigned, &n.site, &n.skills, &radius, &n.mode)
	if postgres.ErrNoRows(err) {
		return n, apperr.New(apperr.NotFound, "ticket %s not found", ticketID)
	}
	if err != nil {
		return n, fmt.Errorf("dispatch: ticket: %w", err)
	}
	if radius != nil {
		r := float64(*radius)
		n.radiusM = &r
	}
	return n, nil
}

// candidateSQL finds qualified, available engineers nearest first. The ORDER BY walks the
// GiST index on position; the hard filters are checked on the way, so rare skills cost a
// longer walk, never a wrong answer. $2 are the calendars whose shift is on now.
const candidateSQL = `
	SELECT e.id, u.full_name, ST_Distance(e.position, $1::geography, false), e.open_jobs, e.capacity,
		e.position, NOT (ST_Equals(e.position::geometry, e.last_location::geometry) IS TRUE)
	FROM engineers e JOIN users u ON u.id = e.user_id
	WHERE e.active AND u.active AND e.open_jobs < e.capacity
		AND (e.calendar_id = ANY($2) OR e.available_until > $3)
		AND NOT EXISTS (SELECT 1 FROM engineer_time_off o WHERE o.engineer_id = e.id AND o.period @> $3)
		AND (SELECT count(*) FROM engineer_skills es WHERE es.engineer_id = e.id AND es.skill_id = ANY($4)) = cardinality($4)
		AND ($5::float8 IS NULL OR ST_DWithin(e.position, $1::geography, $5, false))
	ORDER BY e.position <-> $1::geography
	LIMIT $6`

// maxCandidates bounds the widening search (see rank).
const maxCandidates = 2000

// Candidates ranks the engineers who may take a ticket now, best first.
func (s *Service) Candidates(ctx context.Context, ticketID uuid.UUID) ([]Candidate, error) {
	n, err := s.loadNeed(ctx, s.pool, ticketID)
	if err != nil {
		return nil, err
	}
	return s.rank(ctx, s.pool, n, s.opts.Candidates)
}

// rank returns up to want candidates, best first. It reads the k nearest and scores them
// in Go; the best score can only come from farther away when it exceeds the travel time
// of the k-th nearest (nobody farther can beat that, and a tie there is read too, to
// break it by id), and then it reads more. So the
// answer is the same as scoring every qualified engineer, at the cost of a few rows.
func (s *Service) rank(ctx context.Context, q postgres.Querier, n need, want int) ([]Candidate, error) {
	now := s.now()
	open, err := s.shifts.openAt(ctx, q, now)
	if err != nil {
		return nil, err
	}
	k := max(want, s.opts.Candidates)
	for {
		rows, err := q.Query(ctx, candidateSQL, n.site, open, now, n.skills, n.radiusM, k)
		if err != nil {
			return nil, fmt.Errorf("dispatch: candidates: %w", err)
		}
		found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Candidate, error) {
			var c Candidate
			err := row.Scan(&c.EngineerID, &c.Name, &c.DistanceM, &c.Load, &c.Capacity, &c.Position, &c.FromHomeBase)
			return s.score(c), err
		})
		if err != nil {
			return nil, fmt.Errorf("dispatch: candidates: %w", err)
		}
		exhausted := len(found) < k
		var farthest float64
		if len(found) > 0 {
			farthest = s.travelMinutes(found[len(found)-1].DistanceM)
		}
		slices.SortFunc(found, better)
		if exhausted || k >= maxCandidates || len(found) == 0 || found[min(want, len(found))-1].Score < farthest {
			return found[:min(want, len(found))], nil
		}
		k *= 4
	}
}

// better orders candidates by score, then distance, then id: deterministic on ties.
func better(a, b Candidate) int {
	return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.DistanceM, b.DistanceM),
		slices.Compare(a.EngineerID[:], b.EngineerID[:]))
}

func (s *Service) travelMinutes(distanceM float64) float64 {
	return distanceM * s.opts.Detour / (s.opts.SpeedKPH * 1000 / 60)
}

func (s *Service) score(c Candidate) Candidate {
	c.Breakdown = Breakdown{TravelMinutes: s.travelMinutes(c.DistanceM), LoadMinutes: float64(c.Load * loadMinutes)}
	c.Score = c.Breakdown.TravelMinutes + c.Breakdown.LoadMinutes
	c.ETASecs = int(c.Breakdown.TravelMinutes*60 + 0.5)
	return c
}
