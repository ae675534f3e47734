package attachment

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/objstore"
	"fieldsvc/internal/postgres"
)

// Confirm makes an uploaded file count, once storage holds an object of the declared
// size (and checksum, where storage verified one). Its uploader, or office staff who see
// the ticket, may confirm; confirming again returns the attachment as it is. A stored
// file that does not match is removed, and the slot stays open for another upload.
func (s *Service) Confirm(ctx context.Context, p auth.Principal, id uuid.UUID) (Attachment, error) {
	// What the stored file was found to be is answered after the commit, so that what
	// storage already did (a completed multipart upload) is recorded either way.
	var refused error
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		// Locked: two confirms of one file (a retrying device, a dispatcher) take turns.
		a, err := load(ctx, tx, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		if err := s.mayConfirm(ctx, p, a); err != nil {
			return err
		}
		if a.Status == Confirmed {
			return nil
		}
		if a.Status == Expired || !s.now().Before(a.ExpiresAt) {
			return errExpired()
		}
		missing := "the file has not been uploaded yet"
		if a.uploadID != "" {
			switch err := s.store.CompleteMultipart(ctx, a.key, a.uploadID); {
			case errors.Is(err, objstore.ErrNotFound):
				// No parts yet, or an upload completed by a confirm whose commit was lost:
				// whether the object is there tells which.
				missing = "no parts have been uploaded"
			case err != nil:
				return err
			default:
				// The upload is gone once completed: forget it whatever the checks find,
				// so that a retried slot opens a new one.
				if _, err := tx.Exec(ctx, `UPDATE attachments SET upload_id = NULL WHERE id = $1`, id); err != nil {
					return err
				}
			}
		}
		if refused = s.verify(ctx, a, missing); refused != nil {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE attachments SET status = 'confirmed', confirmed_at = $2, upload_id = NULL
			WHERE id = $1`, id, s.now())
		return err
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return Attachment{}, fmt.Errorf("attachment: confirm: %w", postgres.MapError(err))
	}
	return load(ctx, s.pool, id, "")
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
