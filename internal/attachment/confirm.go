package attachment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/objstore"
	"fieldsvc/internal/postgres"
)

// Confirm makes an uploaded file count, once storage holds an object of the declared
// size and checksum. Its uploader, or office staff who see the ticket, may confirm;
// confirming again returns the attachment as it is. A stored file that does not match is
// removed, and the slot stays open for another upload. Storage is asked outside any
// transaction (one waiting on storage would hold back every device's sync); the
// confirmation is then recorded in a short one that checks the slot is still pending.
func (s *Service) Confirm(ctx context.Context, p auth.Principal, id uuid.UUID) (Attachment, error) {
	a, err := load(ctx, s.pool, id, "")
	if err != nil {
		return Attachment{}, err
	}
	if err := s.mayConfirm(ctx, p, a); err != nil {
		return Attachment{}, err
	}
	if a.Status == Confirmed {
		return a, nil
	}
	if a.Status == Expired || !s.now().Before(a.ExpiresAt) {
		return Attachment{}, errExpired()
	}
	if err := s.check(ctx, a); err != nil {
		return Attachment{}, fmt.Errorf("attachment: confirm: %w", err)
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		current, err := load(ctx, tx, id, " FOR UPDATE")
		switch {
		case err != nil:
			return err
		case current.Status == Confirmed: // a concurrent confirm got there first
			return nil
		case current.Status == Expired:
			return errExpired()
		}
		_, err = tx.Exec(ctx, `UPDATE attachments SET status = 'confirmed', confirmed_at = $2, upload_id = NULL
			WHERE id = $1`, id, s.now())
		return err
	})
	if err != nil {
		return Attachment{}, fmt.Errorf("attachment: confirm: %w", postgres.MapError(err))
	}
	return load(ctx, s.pool, id, "")
}

// check makes sure storage holds the file a declares: a multipart upload is completed
// first, once all its parts are there.
func (s *Service) check(ctx context.Context, a Attachment) error {
	missing := "the file has not been uploaded yet"
	if a.uploadID != "" {
		switch err := s.store.CompleteMultipart(ctx, a.key, a.uploadID, a.Size); {
		case errors.Is(err, objstore.ErrIncomplete):
			return &apperr.Error{Code: apperr.Conflict, Message: "not all parts have been uploaded yet: " +
				strings.TrimPrefix(err.Error(), objstore.ErrIncomplete.Error()+": ")}
		case errors.Is(err, objstore.ErrNotFound):
			// No parts yet, or completed by a confirm running at the same time (or one
			// whose record was lost): whether the object is there tells which.
			missing = "no parts have been uploaded"
		case err != nil:
			return err
		default:
			// The upload is gone once completed: forget it whatever the checks find, so
			// that a retried slot opens a new one.
			if _, err := s.pool.Exec(ctx, `UPDATE attachments SET upload_id = NULL WHERE id = $1 AND upload_id = $2`,
				a.ID, a.uploadID); err != nil {
				return err
			}
		}
	}
	return s.verify(ctx, a, missing)
}

// verify checks the object stored for a against what was declared; missing says what
// to answer when there is none. An object that does not match is removed, so that the
// device can upload the file again while the slot lives.
func (s *Service) verify(ctx context.Context, a Attachment, missing string) error {
	o, err := s.store.Stat(ctx, a.key)
	if errors.Is(err, objstore.ErrNotFound) {
		return apperr.New(apperr.Conflict, "%s", missing)
	}
	if err != nil {
		return err
	}
	if o.SHA256 == nil && o.Size == a.Size {
		// Sent in parts, the file has no checksum storage verified: read it through.
		if o.SHA256, err = s.store.Hash(ctx, a.key); err != nil {
			return err
		}
	}
	var field, problem string
	switch {
	case o.Size != a.Size:
		field, problem = "size", fmt.Sprintf("%d bytes were declared, the stored file has %d", a.Size, o.Size)
	case o.SHA256 != nil && !bytes.Equal(o.SHA256, a.sum()):
		field, problem = "sha256", fmt.Sprintf("%s was declared, the stored file's is %x", a.SHA256, o.SHA256)
	default:
		return nil
	}
	if err := s.store.Remove(ctx, a.key); err != nil {
		return err
	}
	return &apperr.Error{Code: apperr.Conflict, Message: "the stored file is not the one declared; upload it again",
		Fields: map[string]string{field: problem}}
}
