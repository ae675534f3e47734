package push

import (
	"context"
	"fmt"
)

// pruneBatch bounds one delete, so pruning never holds many locks or a long transaction.
const pruneBatch = 5000

// Prune deletes sent and skipped messages older than Retention, and dead letters older
// than DeadRetention, and returns how many went. The periodic jobs call it.
func (s *Service) Prune(ctx context.Context) (int, error) {
	now := s.now()
	total := 0
	for {
		tag, err := s.pool.Exec(ctx, `DELETE FROM push_outbox WHERE id IN (SELECT id FROM push_outbox
			WHERE status <> 'pending' AND finished_at < $1 AND (status <> 'dead' OR finished_at < $2) LIMIT $3)`,
			now.Add(-s.opts.Retention), now.Add(-DeadRetention), pruneBatch)
		if err != nil {
			return total, fmt.Errorf("push: prune: %w", err)
		}
		total += int(tag.RowsAffected())
		if tag.RowsAffected() < pruneBatch {
			return total, nil
		}
	}
}
