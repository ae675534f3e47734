package attachment

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// expireGrace is how long past its end a slot's object is left alone: an upload that
// started just before its URL expired may still be arriving, and a confirm that found the
// slot alive may still be committing. Removing the object under either would leave a
// stray object, or a confirmed file with no bytes.
const expireGrace = 10 * time.Minute

// expireBatch is how many slots one query hands out.
const expireBatch = 500

// Expire ends the upload slots not confirmed in time: it aborts their multipart uploads,
// removes whatever was uploaded and marks them expired (the rows stay as a record), and
// returns how many it ended. It stops at the first storage call that fails and returns
// its error: slots ended so far stay ended, the rest wait for the next run. Several
// servers running it at once do no harm.
func (s *Service) Expire(ctx context.Context) (int, error) {
	ended := 0
	for {
		// No transaction is held over the storage calls: each slot is marked once its
		// object is gone, and a slot marked by another server meanwhile is left as it is.
		rows, err := s.pool.Query(ctx, attachmentSelect+` WHERE status = 'pending' AND expires_at <= $1
			ORDER BY expires_at LIMIT $2`, s.now().Add(-expireGrace), expireBatch)
		if err != nil {
			return ended, fmt.Errorf("attachment: expire: %w", err)
		}
		slots, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Attachment, error) { return scanAttachment(row) })
		if err != nil {
			return ended, fmt.Errorf("attachment: expire: %w", err)
		}
		if len(slots) == 0 {
			return ended, nil
		}
		for _, a := range slots {
			if a.uploadID != "" {
				if err := s.store.AbortMultipart(ctx, a.key, a.uploadID); err != nil {
					return ended, fmt.Errorf("attachment: expire %s: %w", a.ID, err)
				}
			}
			if err := s.store.Remove(ctx, a.key); err != nil {
				return ended, fmt.Errorf("attachment: expire %s: %w", a.ID, err)
			}
			tag, err := s.pool.Exec(ctx, `UPDATE attachments SET status = 'expired', upload_id = NULL
				WHERE id = $1 AND status = 'pending'`, a.ID)
			if err != nil {
				return ended, fmt.Errorf("attachment: expire %s: %w", a.ID, err)
			}
			ended += int(tag.RowsAffected())
		}
	}
}
