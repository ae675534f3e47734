package attachment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/objstore"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/ticket"
	"fieldsvc/internal/valid"
)

// Kinds lists the kinds of attachment.
var Kinds = []string{"photo", "signature", "document"}

// contentTypes are the types a file of each kind may have.
var contentTypes = map[string][]string{
	"photo":     {"image/jpeg", "image/png", "image/heic", "image/heif", "image/webp"},
	"signature": {"image/png", "image/jpeg"},
	"document":  {"application/pdf"},
}

// NewSlot is a file a device is about to upload, as the device declares it. The device
// generates ID, so a retried request opens nothing twice. Public asks for the file to be
// shown to the client; a client's own files always are.
type NewSlot struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	FileName    string `json:"file_name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Public      *bool  `json:"public"`
}

// SlotOut is where to put a file's bytes until the slot expires. A file of up to
// PartSize bytes goes in one request (Upload, whose headers are signed and must be sent
// as given); a larger one in Parts, part n holding bytes [(n-1)·PartSize, n·PartSize).
type SlotOut struct {
	Attachment Attachment        `json:"attachment"`
	Upload     *objstore.Upload  `json:"upload"`
	Parts      []objstore.Upload `json:"parts,omitempty"`
	PartSize   int64             `json:"part_size,omitempty"`
	ExpiresAt  time.Time         `json:"expires_at"`
}

// Slot opens an upload slot for a file on a ticket p may see, not closed or cancelled,
// and returns it with created true. Asked again with the same id for the same file by
// the same uploader while the slot lives, it returns the slot with fresh URLs and
// created false.
func (s *Service) Slot(ctx context.Context, p auth.Principal, ticketID uuid.UUID, in NewSlot) (SlotOut, bool, error) {
	a, err := s.declared(p, ticketID, in)
	if err != nil {
		return SlotOut{}, false, err
	}
	t, err := s.tickets.Get(ctx, p, ticketID)
	if err != nil {
		return SlotOut{}, false, err
	}
	if t.Status == ticket.Closed || t.Status == ticket.Cancelled {
		return SlotOut{}, false, apperr.New(apperr.Conflict, "the ticket is %s: files can no longer be attached", t.Status)
	}
	// A device that could not upload anyway learns it now, and nothing is recorded.
	if err := s.store.Ready(ctx); err != nil {
		return SlotOut{}, false, err
	}
	now := s.now()
	a.key = fmt.Sprintf("tickets/%s/attachments/%s", ticketID, a.ID)
	a.CreatedAt, a.ExpiresAt = now, now.Add(s.opts.SlotTTL)
	created, err := s.open(ctx, &a, now)
	if err != nil {
		return SlotOut{}, false, fmt.Errorf("attachment: slot: %w", postgres.MapError(err))
	}
	out, err := s.urls(ctx, a, now)
	return out, created, err
}

// declared checks what the device says about the file and returns it as a new slot.
func (s *Service) declared(p auth.Principal, ticketID uuid.UUID, in NewSlot) (Attachment, error) {
	var errs valid.Errors
	a := Attachment{TicketID: ticketID, UploadedBy: p.UserID, Status: Pending, Size: in.Size,
		Public: p.Role == auth.Client || (in.Public != nil && *in.Public)}
	a.ID = errs.UUID("id", in.ID)
	a.Kind = errs.OneOf("kind", in.Kind, Kinds...)
	a.FileName = errs.Text("file_name", in.FileName, false, 200)
	errs.Check(!strings.ContainsAny(a.FileName, `/\`), "file_name", "must be a file name without folders")
	a.ContentType = strings.ToLower(strings.TrimSpace(in.ContentType))
	if allowed, ok := contentTypes[a.Kind]; ok {
		errs.OneOf("content_type", a.ContentType, allowed...)
	}
	errs.Check(a.Size > 0, "size", "must be more than 0 bytes")
	errs.Check(a.Size <= s.opts.MaxBytes, "size", "must be at most "+bytesText(s.opts.MaxBytes))
	sum, err := hex.DecodeString(in.SHA256)
	errs.Check(err == nil && len(sum) == sha256.Size, "sha256", "must be the file's SHA-256 as 64 hexadecimal digits")
	a.SHA256 = hex.EncodeToString(sum)
	return a, errs.Err()
}

// bytesText writes a size for people: 50 MiB rather than 52428800 bytes.
func bytesText(n int64) string {
	if n%mib == 0 {
		return fmt.Sprintf("%d MiB", n/mib)
	}
	return fmt.Sprintf("%d bytes", n)
}

// open records the slot a declares, or finds the one a retry asks for again, and makes
// sure a file that goes in parts has a multipart upload open: a new slot's, or a new one
// after a confirm completed the last and refused the file. a becomes the slot as stored.
// Storage is asked outside the transaction, which would otherwise hold back every
// device's sync while it waits.
func (s *Service) open(ctx context.Context, a *Attachment, now time.Time) (created bool, err error) {
	var stored Attachment
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO attachments (id, ticket_id, kind, file_name, content_type, size_bytes,
			sha256, object_key, public, uploaded_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`,
			a.ID, a.TicketID, a.Kind, a.FileName, a.ContentType, a.Size, a.sum(), a.key, a.Public, a.UploadedBy,
			a.CreatedAt, a.ExpiresAt)
		if err != nil {
			return err
		}
		created = tag.RowsAffected() == 1
		if stored, err = load(ctx, tx, a.ID, ""); err != nil {
			return err
		}
		if !created {
			return retry(stored, *a, now)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if stored.Size > s.opts.PartSize && stored.uploadID == "" {
		id, err := s.store.StartMultipart(ctx, stored.key, stored.ContentType)
		if err != nil {
			return false, err
		}
		tag, err := s.pool.Exec(ctx, `UPDATE attachments SET upload_id = $2 WHERE id = $1 AND upload_id IS NULL
			AND status = 'pending'`, stored.ID, id)
		if err != nil {
			return false, err
		}
		if tag.RowsAffected() == 0 { // a retry at the same moment opened one first: use it
			_ = s.store.AbortMultipart(ctx, stored.key, id)
		}
		if stored, err = load(ctx, s.pool, stored.ID, ""); err != nil {
			return false, err
		}
	}
	*a = stored
	return created, nil
}

// retry checks that asking for slot a again, when old is already stored under its id, is
// a retry: the same file, for the same ticket, from the same uploader, still pending.
func retry(old, a Attachment, now time.Time) error {
	if old.TicketID != a.TicketID || old.UploadedBy != a.UploadedBy || old.Kind != a.Kind ||
		old.ContentType != a.ContentType || old.Size != a.Size || old.SHA256 != a.SHA256 || old.Status != Pending {
		return &apperr.Error{Code: apperr.Conflict, Message: "an attachment with this id exists",
			Fields: map[string]string{"id": "is already taken"}}
	}
	// Presigned URLs live at least a second.
	if old.ExpiresAt.Sub(now) < time.Second {
		return errExpired()
	}
	return nil
}

func errExpired() error {
	return apperr.New(apperr.Conflict, "the upload slot has expired; attach the file again under a new id")
}

// urls signs the requests that put a's bytes into storage. They expire with the slot: no
// upload can start after the slot has ended.
func (s *Service) urls(ctx context.Context, a Attachment, now time.Time) (SlotOut, error) {
	out := SlotOut{Attachment: a, ExpiresAt: a.ExpiresAt}
	life := a.ExpiresAt.Sub(now)
	if a.uploadID == "" {
		up, err := s.store.PresignPut(ctx, a.key, a.ContentType, a.sum(), life)
		if err != nil {
			return SlotOut{}, fmt.Errorf("attachment: slot: %w", err)
		}
		out.Upload = &up
		return out, nil
	}
	out.PartSize = s.opts.PartSize
	for n := 1; int64(n-1)*s.opts.PartSize < a.Size; n++ {
		up, err := s.store.PresignPart(ctx, a.key, a.uploadID, n, life)
		if err != nil {
			return SlotOut{}, fmt.Errorf("attachment: slot: %w", err)
		}
		out.Parts = append(out.Parts, up)
	}
	return out, nil
}
