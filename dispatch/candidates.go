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
	skills   []int32 // skills.ord of each required skill
	radiusM  *float64
	mode     *string // the contract's dispatch mode
}

func (s *Service) loadNeed(ctx context.Context, ticketID uuid.UUID) (need, error) {
	needs, err := s.loadNeeds(ctx, []uuid.UUID{ticketID})
	if err != nil {
		return need{}, err
	}
	n, ok := needs[ticketID]
	if !ok {
		return n, apperr.New(apperr.NotFound, "ticket %s not found", ticketID)
	}
	return n, nil
}

// loadNeeds reads what tickets ask; one that does not exist is missing from the map.
// The query and the setting it needs share one round trip.
func (s *Service) loadNeeds(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]need, error) {
	needs := map[uuid.UUID]need{}
	var b pgx.Batch
	postgres.GenericPlans(&b)
	b.Queue(`
		SELECT t.id, t.status, t.assignee_id IS NOT NULL, s.location,
			coalesce((SELECT array_agg(k.ord) FROM ticket_skills ts JOIN skills k ON k.id = ts.skill_id
				WHERE ts.ticket_id = t.id), '{}'),
			c.dispatch_radius_m, c.dispatch_mode
		FROM tickets t JOIN sites s ON s.id = t.site_id LEFT JOIN contracts c ON c.id = t.contract_id
		WHERE t.id = ANY ($1)`, ids).Query(func(rows pgx.Rows) error {
		var n need
		var radius *int
		_, err := pgx.ForEachRow(rows, []any{&n.ticket, &n.status, &n.assigned, &n.site, &n.skills, &radius, &n.mode}, func() error {
			// Copies: the scan targets are reused for the next row.
			n.skills, n.radiusM = slices.Clone(n.skills), nil
			if n.mode != nil {
				mode := *n.mode
				n.mode = &mode
			}
			if radius != nil {
				r := float64(*radius)
				n.radiusM = &r
			}
			needs[n.ticket] = n
			return nil
		})
		return err
	})
	if err := s.pool.SendBatch(ctx, &b).Close(); err != nil {
		return nil, fmt.Errorf("dispatch: tickets: %w", err)
	}
	return needs, nil
}

// candidateSQL reads the k nearest engineers who pass the hard filters, nearest first.
// The inner query has only per-row tests on the engineer's own columns under its LIMIT,
// so the planner walks the GiST index on (position, skill_ords) of active engineers in
// distance order, testing the skills inside the index (migration 00012). The join to
// users and the time-off check run on those k rows only, and their rare failures are
// filtered in the outer query. (With joins and subqueries in the walk, the planner
// misjudged how many engineers qualify and left the index: hundreds of milliseconds
// where one suffices.) $2 are the calendars whose shift is on now.
const candidateSQL = `
	WITH near AS MATERIALIZED (
		SELECT e.id, e.user_id, e.open_jobs, e.capacity, e.position, e.last_location,
			ST_Distance(e.position, $1::geography, false) AS distance
		FROM engineers e
		WHERE e.active AND e.open_jobs < e.capacity AND e.skill_ords @> $4::int[]
			AND (e.calendar_id = ANY($2) OR e.available_until > $3)
		ORDER BY e.position <-> $1::geography
		LIMIT $6)
	SELECT n.id, u.full_name, n.distance, n.open_jobs, n.capacity, n.position,
		NOT (ST_Equals(n.position::geometry, n.last_location::geometry) IS TRUE),
		coalesce(u.active AND NOT EXISTS (SELECT 1 FROM engineer_time_off o WHERE o.engineer_id = n.id AND o.period @> $3)
			AND ($5::float8 IS NULL OR n.distance <= $5), false)
	FROM near n JOIN users u ON u.id = n.user_id
	ORDER BY n.distance`

// maxCandidates bounds the widening search (see rankAll).
const maxCandidates = 10000

// Candidates ranks the engineers who may take a ticket now, best first.
func (s *Service) Candidates(ctx context.Context, ticketID uuid.UUID) ([]Candidate, error) {
	n, err := s.loadNeed(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	return s.rank(ctx, n, s.opts.Candidates, s.opts.Candidates)
}

// rank returns up to want qualified candidates, best first. The first sure of them
// (sure ≤ want) are the best of all engineers; the rest are the best of those read on
// the way, which is all a fallback needs.
func (s *Service) rank(ctx context.Context, n need, want, sure int) ([]Candidate, error) {
	ranked, err := s.rankAll(ctx, candidateSQL, []need{n}, want, sure)
	if err != nil {
		return nil, err
	}
	return ranked[0], nil
}

// rankAll ranks each need as rank does. A round sends the query for every need still
// unsettled in one batch: one round trip however many tickets a dispatch batch holds.
// (One query over all the sites would save more, but the planner, blind to each site's
// skills, then guesses that few engineers qualify and sorts them all instead of walking
// the index.)
//
// A round reads the k nearest engineers who may qualify and scores the qualified ones.
// The best score can only come from farther away when it exceeds the travel time of
// the k-th nearest (nobody farther can beat that; a tie there is read too, to break it
// by id), or when too few qualified; such needs go to another round that reads four
// times as many. So the first sure are the same as scoring every qualified engineer,
// at the cost of a few rows. Past the contract's radius nobody farther can qualify, and
// the search stops.
func (s *Service) rankAll(ctx context.Context, sql string, needs []need, want, sure int) ([][]Candidate, error) {
	now := s.now()
	open, err := s.shifts.openAt(ctx, s.pool, now)
	if err != nil {
		return nil, err
	}
	ranked := make([][]Candidate, len(needs))
	todo := make([]int, len(needs)) // the needs still to settle, by index
	for i := range todo {
		todo[i] = i
	}
	for k := 4 * max(want, 1); len(todo) > 0; k *= 4 {
		var batch pgx.Batch
		for _, i := range todo {
			n := needs[i]
			batch.Queue(sql, n.site, open, now, n.skills, n.radiusM, k)
		}
		results := s.pool.SendBatch(ctx, &batch)
		var again []int
		for _, i := range todo {
			found, settled, err := s.readRound(results, needs[i], k, sure)
			if err != nil {
				_ = results.Close() // the first error tells
				return nil, fmt.Errorf("dispatch: candidates: %w", err)
			}
			if settled {
				ranked[i] = found[:min(want, len(found))]
			} else {
				again = append(again, i)
			}
		}
		if err := results.Close(); err != nil {
			return nil, fmt.Errorf("dispatch: candidates: %w", err)
		}
		todo = again
	}
	return ranked, nil
}

// readRound reads one need's k nearest engineers from a round, scores the qualified
// ones, best first, and tells whether the first sure of them are settled (see rankAll).
func (s *Service) readRound(results pgx.BatchResults, n need, k, sure int) ([]Candidate, bool, error) {
	rows, err := results.Query()
	if err != nil {
		return nil, false, err
	}
	var found []Candidate
	var c Candidate
	var qualified bool
	read := 0
	_, err = pgx.ForEachRow(rows, []any{&c.EngineerID, &c.Name, &c.DistanceM, &c.Load, &c.Capacity, &c.Position,
		&c.FromHomeBase, &qualified}, func() error {
		read++
		if qualified {
			found = append(found, s.score(c))
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	slices.SortFunc(found, better)
	farthest := c.DistanceM // the last row read is the farthest
	done := read < k || k >= maxCandidates || (n.radiusM != nil && farthest > *n.radiusM)
	return found, done || (len(found) >= sure && found[sure-1].Score < s.travelMinutes(farthest)), nil
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
