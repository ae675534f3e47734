package maintenance

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/auth"
	"fieldsvc/internal/postgres"
)

// done runs in the transaction that resolves a ticket: a plan's work order done is its
// last completion, and an interval plan's next occurrence is counted from it.
func (s *Service) done(ctx context.Context, ticketID uuid.UUID) error {
	return s.finished(ctx, ticketID, true)
}

// dropped runs in the transaction that cancels a ticket: an interval plan goes on from
// the cancelled occurrence's due time (it counts as missed).
func (s *Service) dropped(ctx context.Context, ticketID uuid.UUID) error {
	return s.finished(ctx, ticketID, false)
}

func (s *Service) finished(ctx context.Context, ticketID uuid.UUID, completed bool) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var plan uuid.UUID
		var interval bool
		err := tx.QueryRow(ctx, `
			SELECT p.id, p.interval_days IS NOT NULL FROM pm_occurrences o JOIN pm_plans p ON p.id = o.plan_id
			WHERE o.ticket_id = $1 FOR UPDATE OF p`, ticketID).Scan(&plan, &interval)
		if postgres.ErrNoRows(err) {
			return nil // not planned work
		}
		if err != nil {
			return fmt.Errorf("maintenance: finished work order: %w", err)
		}
		if completed {
			if _, err := tx.Exec(ctx, `UPDATE pm_plans SET last_done_at = greatest(last_done_at,
				(SELECT resolved_at FROM tickets WHERE id = $2)) WHERE id = $1`, plan, ticketID); err != nil {
				return fmt.Errorf("maintenance: finished work order: %w", err)
			}
		}
		if !interval {
			return nil
		}
		// The plan moves on by itself: what it files and cancels now is the system's
		// doing, not that of whoever finished the work order.
		return s.reschedule(auth.WithPrincipal(ctx, auth.Principal{}), tx, []uuid.UUID{plan})
	})
}
