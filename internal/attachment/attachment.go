// Package attachment is the files engineers, staff and clients attach to tickets: photos,
// signatures, documents. The bytes never pass through the server: it opens an upload slot
// with presigned URLs, the device puts the file straight into object storage, and the
// server checks the stored object against what the device declared before the file
// counts. Downloads are short-lived presigned URLs for those who may see the ticket, and
// slots never confirmed expire and have their objects removed.
package attachment

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/objstore"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/ticket"
)

// Options configure the Service.
type Options struct {
	// MaxBytes is the largest file accepted; 50 MiB when zero.
	MaxBytes int64
	// SlotTTL is how long an upload slot, and the URLs it hands out, live; 1 h when zero.
	SlotTTL time.Duration
	// URLTTL is the life of a download URL; 5 min when zero.
	URLTTL time.Duration
	// PartSize is the size of the parts a larger file is uploaded in; 16 MiB when zero,
	// and never below 5 MiB.
	PartSize int64
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

const (
	mib = 1 << 20
	// S3 refuses parts (but the last) under 5 MiB, and uploads of more than 10 000 parts.
	minPartSize = 5 * mib
	maxParts    = 10000
)

// Service opens upload slots, confirms uploads and signs downloads.
type Service struct {
	pool    *pgxpool.Pool
	tickets *ticket.Service
	store   *objstore.Store
	opts    Options
	now     func() time.Time
}

// NewService returns a Service.
func NewService(pool *pgxpool.Pool, tickets *ticket.Service, store *objstore.Store, o Options) *Service {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 50 * mib
	}
	if o.SlotTTL <= 0 {
		o.SlotTTL = time.Hour
	}
	if o.URLTTL <= 0 {
		o.URLTTL = 5 * time.Minute
	}
	if o.PartSize <= 0 {
		o.PartSize = 16 * mib
	}
	o.PartSize = max(o.PartSize, minPartSize, (o.MaxBytes+maxParts-1)/maxParts)
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{pool: pool, tickets: tickets, store: store, opts: o, now: func() time.Time { return o.Now().UTC() }}
}

// Statuses of an attachment: a pending one is an upload slot, a confirmed one a file that
// counts, an expired one a slot that was never confirmed (its object is gone).
const (
	Pending   = "pending"
	Confirmed = "confirmed"
	Expired   = "expired"
)

// Attachment is a file attached to a ticket. Public ones are shown to the client.
type Attachment struct {
	ID          uuid.UUID `json:"id"`
	TicketID    uuid.UUID `json:"ticket_id"`
	Kind        string    `json:"kind"`
	FileName    string    `json:"file_name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	// SHA256 is the file's checksum in lowercase hex.
	SHA256     string    `json:"sha256"`
	Public     bool      `json:"public"`
	Status     string    `json:"status"`
	UploadedBy uuid.UUID `json:"uploaded_by"`
	CreatedAt  time.Time `json:"created_at"`
	// ExpiresAt is when a pending slot ends.
	ExpiresAt   time.Time  `json:"expires_at"`
	ConfirmedAt *time.Time `json:"confirmed_at"`

	key      string // of the object in storage
	uploadID string // of the multipart upload the file goes through, until it is completed
}

func (a Attachment) sum() []byte {
	b, _ := hex.DecodeString(a.SHA256) // always valid: checked on the way in, 32 bytes in the database
	return b
}

const attachmentSelect = `SELECT id, ticket_id, kind, file_name, content_type, size_bytes, sha256, public, status,
	uploaded_by, created_at, expires_at, confirmed_at, object_key, coalesce(upload_id, '') FROM attachments`

func scanAttachment(row pgx.Row) (Attachment, error) {
	var a Attachment
	var sum []byte
	err := row.Scan(&a.ID, &a.TicketID, &a.Kind, &a.FileName, &a.ContentType, &a.Size, &sum, &a.Public, &a.Status,
		&a.UploadedBy, &a.CreatedAt, &a.ExpiresAt, &a.ConfirmedAt, &a.key, &a.uploadID)
	a.SHA256 = hex.EncodeToString(sum)
	return a, err
}

// load reads one attachment; suffix may lock it (" FOR UPDATE").
func load(ctx context.Context, q postgres.Querier, id uuid.UUID, suffix string) (Attachment, error) {
	return postgres.GetByID(ctx, q, "attachment", attachmentSelect+` WHERE id = $1`+suffix, id, scanAttachment)
}

func notFound(id uuid.UUID) error { return apperr.New(apperr.NotFound, "attachment %s not found", id) }

// onVisibleTicket checks that p may see a's ticket. An attachment on a ticket p may not
// see is not found: its id tells nothing about the ticket.
func (s *Service) onVisibleTicket(ctx context.Context, p auth.Principal, a Attachment) error {
	_, err := s.tickets.Get(ctx, p, a.TicketID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return notFound(a.ID)
	}
	return err
}

// visible checks that p may see a: its ticket is visible to p, and a client sees only
// the public files that count.
func (s *Service) visible(ctx context.Context, p auth.Principal, a Attachment) error {
	if a.Status == Expired || (p.Role == auth.Client && (!a.Public || a.Status != Confirmed)) {
		return notFound(a.ID)
	}
	return s.onVisibleTicket(ctx, p, a)
}

// List returns the attachments of a ticket p may see, oldest first: for a client the
// public files that count, for others also the uploads still under way.
func (s *Service) List(ctx context.Context, p auth.Principal, ticketID uuid.UUID) ([]Attachment, error) {
	if _, err := s.tickets.Get(ctx, p, ticketID); err != nil {
		return nil, err
	}
	var w postgres.Where
	w.Add("ticket_id = %s", ticketID)
	if p.Role == auth.Client {
		w.Cond("status = 'confirmed' AND public")
	} else {
		w.Add("(status = 'confirmed' OR (status = 'pending' AND expires_at > %s))", s.now())
	}
	rows, err := s.pool.Query(ctx, attachmentSelect+w.SQL()+` ORDER BY created_at, id`, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("attachment: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Attachment, error) { return scanAttachment(row) })
	if err != nil {
		return nil, fmt.Errorf("attachment: list: %w", err)
	}
	return out, nil
}

// Link is a download URL and when it stops working.
type Link struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// URL signs a short-lived download of a confirmed file p may see.
func (s *Service) URL(ctx context.Context, p auth.Principal, id uuid.UUID) (Link, error) {
	a, err := load(ctx, s.pool, id, "")
	if err != nil {
		return Link{}, err
	}
	if err := s.visible(ctx, p, a); err != nil {
		return Link{}, err
	}
	if a.Status != Confirmed {
		return Link{}, apperr.New(apperr.Conflict, "the file of attachment %s has not been uploaded and confirmed yet", id)
	}
	expires := s.now().Add(s.opts.URLTTL)
	url, err := s.store.PresignGet(ctx, a.key, a.FileName, s.opts.URLTTL)
	if err != nil {
		return Link{}, fmt.Errorf("attachment: url: %w", err)
	}
	return Link{URL: url, ExpiresAt: expires}, nil
}

// mayConfirm checks that p may confirm a: its uploader, or office staff who see the
// ticket. To anyone else it is not found.
func (s *Service) mayConfirm(ctx context.Context, p auth.Principal, a Attachment) error {
	if a.UploadedBy == p.UserID {
		return nil
	}
	if !slices.Contains(auth.Staff, p.Role) {
		return notFound(a.ID)
	}
	return s.onVisibleTicket(ctx, p, a)
}
