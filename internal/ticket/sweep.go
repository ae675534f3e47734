package ticket

import (
	"context"
	"fmt"
)

// SweepResult counts what one sweep changed.
type SweepResult struct {
	ReactionAtRisk, ReactionBreached     int
	ResolutionAtRisk, ResolutionBreached int
	AutoClosed                           int
}

// recorded wraps an UPDATE … RETURNING id so that the change and its events commit in
// one statement. kind, from and to are constants of this file, never input.
func recorded(update, kind, from, to, data string) string {
	return `WITH changed AS (` + update + ` RETURNING id)
		INSERT INTO ticket_events (ticket_id, kind, from_status, to_status, data, created_at)
		SELECT id, '` + kind + `', ` + from + `, ` + to + `, '` + data + `', $1 FROM changed`
}

const stillOpen = ` AND status NOT IN ('resolved', 'closed', 'cancelled')`

// due picks the tickets matching cond, locked in id order: each step walks a different
// index, and sweepers running different steps at once would otherwise lock the same
// tickets in different orders and deadlock. Locking re-checks cond on rows another
// sweeper changed meanwhile, so with any number of sweepers a ticket changes state, and
// gets its event, exactly once.
func due(cond string) string {
	return ` WHERE id IN (SELECT id FROM tickets WHERE ` + cond + ` ORDER BY id FOR UPDATE)`
}

var slaSteps = []string{
	recorded(`UPDATE tickets SET reaction_state = 'at_risk'`+due(`reaction_state = 'ok' AND reaction_risk_at <= $1`+stillOpen),
		"sla.reaction_at_risk", "NULL", "NULL", "{}"),
	recorded(`UPDATE tickets SET reaction_state = 'breached'`+
		due(`reaction_state IN ('ok', 'at_risk') AND reaction_risk_at <= $1 AND reaction_due_at <= $1`+stillOpen),
		"sla.reaction_breached", "NULL", "NULL", "{}"),
	recorded(`UPDATE tickets SET resolution_state = 'at_risk'`+
		due(`resolution_state = 'ok' AND resolution_risk_at <= $1 AND paused_since IS NULL`+stillOpen),
		"sla.resolution_at_risk", "NULL", "NULL", "{}"),
	recorded(`UPDATE tickets SET resolution_state = 'breached'`+
		due(`resolution_state IN ('ok', 'at_risk') AND resolution_risk_at <= $1 AND resolution_due_at <= $1 AND paused_since IS NULL`+stillOpen),
		"sla.resolution_breached", "NULL", "NULL", "{}"),
}

var autoClose = recorded(`UPDATE tickets SET status = 'closed', closed_at = $1, version = version + 1`+
	due(`status = 'resolved' AND resolved_at <= $2`), "close", "'resolved'", "'closed'", `{"auto": true}`)

// Sweep marks tickets whose SLA clocks passed 80 % (at risk) or 100 % (breached), and
// closes resolved tickets the client did not confirm within AutoCloseAfter. Run it every
// minute; running it on several servers at once is harmless.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	var r SweepResult
	now := s.now()
	counts := []*int{&r.ReactionAtRisk, &r.ReactionBreached, &r.ResolutionAtRisk, &r.ResolutionBreached}
	for i, step := range slaSteps {
		tag, err := s.pool.Exec(ctx, step, now)
		if err != nil {
			return r, fmt.Errorf("ticket: sla sweep: %w", err)
		}
		*counts[i] = int(tag.RowsAffected())
	}
	tag, err := s.pool.Exec(ctx, autoClose, now, now.Add(-s.opts.AutoCloseAfter))
	if err != nil {
		return r, fmt.Errorf("ticket: auto-close: %w", err)
	}
	r.AutoClosed = int(tag.RowsAffected())
	return r, nil
}
