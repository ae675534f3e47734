// Package checklist is what engineers fill in on site: templates of typed items that
// managers keep (versioned, so editing one never changes answers already given), the
// checklists a ticket gets from them, answers item by item (last write wins, a stale one
// is flagged), the check that required items are answered before a ticket is resolved,
// and the archive of the completed checklists in object storage.
package checklist

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/objstore"
	"fieldsvc/internal/ticket"
)

// Options configure the Service.
type Options struct {
	// URLTTL is how long a presigned download of an archived document lives.
	URLTTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service keeps templates and tickets' checklists.
type Service struct {
	pool    *pgxpool.Pool
	tickets *ticket.Service
	store   *objstore.Store
	opts    Options
}

// NewService returns a Service. It takes part in tickets' filing and resolution: call
// Hooks and hand them to the ticket service.
func NewService(pool *pgxpool.Pool, tickets *ticket.Service, store *objstore.Store, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.URLTTL <= 0 {
		o.URLTTL = 5 * time.Minute
	}
	return &Service{pool: pool, tickets: tickets, store: store, opts: o}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// Hooks are the ticket service hooks: a new ticket gets the checklists its kind and
// asset call for; a resolution needs every required item answered, and archives them.
func (s *Service) Hooks() ticket.Hooks {
	return ticket.Hooks{
		Filing:    s.attachMatching,
		Resolving: s.resolving,
	}
}
