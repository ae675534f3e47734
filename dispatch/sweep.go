package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/ticket"
)

// SweepResult counts what one dispatch sweep did.
type SweepResult struct {
	BackHome   int // engineers whose location went stale, placed at home again
	Pruned     int // trail points older than the retention
	Released   int // planned work orders whose time to dispatch came
	Dispatched int // waiting tickets that found an engineer
}

// retryBatch bounds how many waiting tickets one sweep tries to place.
const retryBatch = 200

// Sweep keeps dispatch's picture current: stale locations give way to home bases, the
// location trail is pruned to its retention, planned work is released for dispatch at its
// time, and tickets of auto-dispatch contracts that nobody could take (at night, say) are
// tried again as shifts open. Safe to run on
// several servers at once: each step is one conditional statement or a capacity claim.
func (s *Service) Sweep(ctx context.Context, retention time.Duration) (SweepResult, error) {
	var r SweepResult
	now := s.now()
	tag, err := s.pool.Exec(ctx, `UPDATE engineers SET position = home_base
		WHERE last_location_at < $1 AND NOT ST_Equals(position::geometry, home_base::geometry)`, now.Add(-s.opts.FreshFor))
	if err != nil {
		return r, fmt.Errorf("dispatch: stale positions: %w", err)
	}
	r.BackHome = int(tag.RowsAffected())
	tag, err = s.pool.Exec(ctx, `DELETE FROM engineer_locations WHERE received_at < $1`, now.Add(-retention))
	if err != nil {
		return r, fmt.Errorf("dispatch: prune locations: %w", err)
	}
	r.Pruned = int(tag.RowsAffected())

	// Planned work falls due for dispatch: it joins the waiting tickets, first in line.
	// Released once, whatever became of it meanwhile (a dispatcher may have assigned it).
	if err := s.pool.QueryRow(ctx, `
		WITH due AS (
			UPDATE tickets SET dispatch_after = NULL WHERE dispatch_after <= $1
			RETURNING id, status = 'new' AND assignee_id IS NULL AS waiting),
		queued AS (
			INSERT INTO dispatch_attempts (ticket_id, tried_at)
			SELECT id, '-infinity' FROM due WHERE waiting
			ON CONFLICT (ticket_id) DO NOTHING)
		SELECT count(*) FROM due`, now).Scan(&r.Released); err != nil {
		return r, fmt.Errorf("dispatch: release planned work: %w", err)
	}

	// Only tickets auto-dispatch failed on, longest-waiting first: one a dispatcher
	// unassigned by hand is theirs, and old hopeless tickets do not starve new ones.
	if _, err := s.pool.Exec(ctx, `DELETE FROM dispatch_attempts a USING tickets t
		WHERE t.id = a.ticket_id AND (t.status <> 'new' OR t.assignee_id IS NOT NULL)`); err != nil {
		return r, fmt.Errorf("dispatch: attempts: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT a.ticket_id FROM dispatch_attempts a JOIN tickets t ON t.id = a.ticket_id
			LEFT JOIN contracts c ON c.id = t.contract_id
		WHERE coalesce(c.dispatch_mode, $1) = 'auto'
		ORDER BY a.tried_at, a.ticket_id LIMIT $2`, s.opts.Mode, retryBatch)
	if err != nil {
		return r, fmt.Errorf("dispatch: waiting tickets: %w", err)
	}
	waiting, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return r, fmt.Errorf("dispatch: waiting tickets: %w", err)
	}
	for len(waiting) > 0 {
		n := min(len(waiting), placeBatch)
		jobs := make([]*job, n)
		for i, id := range waiting[:n] {
			jobs[i] = &job{ticket: id, by: ticket.System} // the filing already said why it waits
		}
		waiting = waiting[n:]
		s.dispatchAll(ctx, jobs)
		var still []uuid.UUID
		for _, j := range jobs {
			switch {
			case j.err != nil:
				s.failed(ctx, j.err) // one ticket's trouble must not stop the others
			case j.out.Assigned != nil:
				r.Dispatched++
			default:
				still = append(still, j.ticket)
			}
		}
		if _, err := s.pool.Exec(ctx, `UPDATE dispatch_attempts SET tried_at = $2 WHERE ticket_id = ANY ($1)`, still, now); err != nil {
			return r, fmt.Errorf("dispatch: attempts: %w", err)
		}
	}
	return r, nil
}
