// Package dispatch sends each ticket to the nearest qualified, available engineer: it
// finds candidates with a nearest-neighbour search on PostGIS, ranks them, claims the
// engineer's capacity safely under concurrency, records why, and shows dispatchers the
// whole picture on a map.
package dispatch

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/auth"
	"fieldsvc/internal/ticket"
)

// Options tune dispatch. Zero values take the defaults noted.
type Options struct {
	// Mode is what happens when a ticket is filed under a contract that does not say:
	// "auto" assigns, "suggest" only ranks, "off" leaves it to people. Default auto,
	// like the server's DISPATCH_MODE.
	Mode string
	// SpeedKPH and Detour turn great-circle distance into an ETA: road distance is
	// about Detour times the straight line, driven at SpeedKPH. Defaults 30 and 1.35.
	SpeedKPH float64
	Detour   float64
	// FreshFor is how long a reported location counts; older, the engineer is placed at
	// home. Default 2h.
	FreshFor time.Duration
	// Candidates is how many nearest engineers are ranked (k). Default 10.
	Candidates int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives what goes wrong without failing a request; slog.Default when nil.
	Logger *slog.Logger
}

// Service dispatches tickets.
type Service struct {
	pool    *pgxpool.Pool
	opts    Options
	tickets Tickets
	shifts  shiftCache
	placer  placer
}

// Tickets is what dispatch needs of the ticket service: to assign with reasons (one
// ticket, or a batch each to the first of its best engineers with room), and to note on
// a ticket that dispatch could not place it.
type Tickets interface {
	AssignTo(ctx context.Context, p auth.Principal, id, engineer uuid.UUID, a ticket.Assignment) error
	Place(ctx context.Context, offers []ticket.Offer) ([]ticket.Placed, error)
	AddSystemEvent(ctx context.Context, id uuid.UUID, kind string, data map[string]any) error
}

// NewService returns a Service that assigns through tickets.
func NewService(pool *pgxpool.Pool, tickets Tickets, o Options) *Service {
	if o.Mode == "" {
		o.Mode = "auto"
	}
	if o.SpeedKPH <= 0 {
		o.SpeedKPH = 30
	}
	if o.Detour <= 0 {
		o.Detour = 1.35
	}
	if o.FreshFor <= 0 {
		o.FreshFor = 2 * time.Hour
	}
	if o.Candidates <= 0 {
		o.Candidates = 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Service{pool: pool, tickets: tickets, opts: o}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// failed logs an error that one part of a request met while the rest went on.
func (s *Service) failed(ctx context.Context, err error) {
	s.opts.Logger.ErrorContext(ctx, "dispatch", "error", err.Error())
}
