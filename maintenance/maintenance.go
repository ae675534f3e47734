// Package maintenance is planned (preventive) maintenance: managers keep plans per asset,
// a generator makes each plan's occurrences into work orders ahead of time, exactly once
// however many servers run it, and the manager API forecasts the calendar, the load it
// puts on engineers and how well plans are kept.
package maintenance

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/ticket"
)

// Options configure the Service.
type Options struct {
	// HorizonDays and LeadHours are a new plan's when it does not say: how far ahead work
	// orders are made (30 days when zero), and how long before they are due they go to
	// auto-dispatch.
	HorizonDays int
	LeadHours   int
	// BatchSize is how many plans one generator transaction takes (1000 when zero), and
	// Workers how many such transactions run at once (2 when zero).
	BatchSize int
	Workers   int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Checklists attaches a plan's checklist template to its work orders.
type Checklists interface {
	AttachTemplates(ctx context.Context, tickets, templates []uuid.UUID) error
}

// Service keeps plans and generates their work orders.
type Service struct {
	pool       *pgxpool.Pool
	tickets    *ticket.Service
	checklists Checklists
	opts       Options
	rulesMu    sync.Mutex
	rules      rules
}

// NewService returns a Service that files work orders through tickets.
func NewService(pool *pgxpool.Pool, tickets *ticket.Service, checklists Checklists, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HorizonDays <= 0 {
		o.HorizonDays = 30
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	return &Service{pool: pool, tickets: tickets, checklists: checklists, opts: o, rules: rules{}}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// Hooks keep interval plans going: their next occurrence is due a number of days after
// the work order is done (or, when it is cancelled, after it was due).
func (s *Service) Hooks() ticket.Hooks {
	return ticket.Hooks{Resolving: s.done, Cancelling: s.dropped}
}
