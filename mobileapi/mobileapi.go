// Package mobileapi is the contract of the engineers' mobile app, under /mobile/v1: the
// app registers its device, pulls the changes to the work in its engineer's scope with an
// opaque cursor, and pushes what the engineer did offline as a batch of mutations that
// applies exactly once. docs/sync.md describes the protocol for app developers.
package mobileapi

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/dispatch"
	"fieldsvc/internal/attachment"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/checklist"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/ticket"
)

// DefaultCursorMaxAge is how long a device may stay away before it must sync from
// scratch, unless Options say otherwise.
const DefaultCursorMaxAge = 30 * 24 * time.Hour

// Options tune the sync. Zero values take the defaults noted.
type Options struct {
	// Secret signs cursors (at least 32 bytes).
	Secret []byte
	// PageRows and PageBytes bound one pull's page. Defaults 1,000 rows and 1 MiB.
	PageRows  int
	PageBytes int
	// CursorMaxAge is how long a device may stay away before it must sync from scratch.
	// Default 30 days.
	CursorMaxAge time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Tickets is what the app does to tickets, through the ticket service's own rules.
type Tickets interface {
	Do(ctx context.Context, p auth.Principal, id uuid.UUID, action ticket.Action, cmd ticket.Command) (ticket.Ticket, error)
	AddComment(ctx context.Context, p auth.Principal, id uuid.UUID, in ticket.NewComment) (ticket.Comment, bool, error)
	Get(ctx context.Context, p auth.Principal, id uuid.UUID) (ticket.Ticket, error)
}

// Locations records where engineers are (dispatch does).
type Locations interface {
	ReportLocation(ctx context.Context, p auth.Principal, in dispatch.LocationReport) error
}

// Sessions starts and ends the long-lived logins devices hold.
type Sessions interface {
	StartSession(ctx context.Context, user uuid.UUID, lifetime time.Duration) (auth.Tokens, uuid.UUID, error)
	RevokeFamily(ctx context.Context, family uuid.UUID) error
}

// Checklists takes the engineer's answers.
type Checklists interface {
	Answer(ctx context.Context, p auth.Principal, ticketID, checklistID uuid.UUID, itemID string, in checklist.AnswerInput) (checklist.Answer, error)
}

// Uploads takes the app's photos and signatures: a slot to put the bytes straight into
// storage, then the check that they arrived whole.
type Uploads interface {
	Slot(ctx context.Context, p auth.Principal, ticketID uuid.UUID, in attachment.NewSlot) (attachment.SlotOut, bool, error)
	Confirm(ctx context.Context, p auth.Principal, id uuid.UUID) (attachment.Attachment, error)
}

// Deps are the services the app's requests go through, so it obeys the same rules as
// the office API.
type Deps struct {
	Tickets    Tickets
	Locations  Locations
	Sessions   Sessions
	Checklists Checklists
	Uploads    Uploads
}

// Service serves the mobile app.
type Service struct {
	pool *pgxpool.Pool
	opts Options
	Deps
}

// NewService returns a Service.
func NewService(pool *pgxpool.Pool, d Deps, o Options) *Service {
	if o.PageRows <= 0 {
		o.PageRows = 1000
	}
	if o.PageBytes <= 0 {
		o.PageBytes = 1 << 20
	}
	if o.CursorMaxAge <= 0 {
		o.CursorMaxAge = DefaultCursorMaxAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{pool: pool, opts: o, Deps: d}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// PruneMutations forgets the mutations pushed before olderThan, in batches. Pass the
// cursors' maximum age: a device away that long syncs from scratch, and a batch it
// pushes again after so long is checked mutation by mutation like a new one (comments,
// time entries and locations are still kept once by their ids). A periodic job runs it.
func PruneMutations(ctx context.Context, q postgres.Querier, olderThan time.Time) (int, error) {
	const batch = 5000
	total := 0
	for {
		tag, err := q.Exec(ctx, `DELETE FROM sync_mutations WHERE ctid = ANY (ARRAY(
			SELECT ctid FROM sync_mutations WHERE applied_at < $1 LIMIT $2))`, olderThan, batch)
		if err != nil {
			return total, fmt.Errorf("mobileapi: prune mutations: %w", err)
		}
		total += int(tag.RowsAffected())
		if tag.RowsAffected() < batch {
			return total, nil
		}
	}
}

// Expire takes finished work off devices once it is older than the days it stays; the
// periodic sweep runs it.
func Expire(ctx context.Context, q postgres.Querier) (int, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT sync_expire()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("mobileapi: expire: %w", err)
	}
	return n, nil
}
