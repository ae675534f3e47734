// Package ticket is the service desk's heart: clients file equipment faults, staff and
// engineers move them through a checked lifecycle, every change is recorded as an event,
// and SLA clocks run in business time under the client's contract.
package ticket

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/postgres"
)

// Options configure the Service.
type Options struct {
	// AutoCloseAfter is how long a resolved ticket waits for the client's confirmation
	// before it closes by itself.
	AutoCloseAfter time.Duration
	// ReopenWithin is how long after resolution a client may reopen (or reopen by a low
	// rating).
	ReopenWithin time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service files tickets and runs their lifecycle.
type Service struct {
	pool    *pgxpool.Pool
	opts    Options
	now     func() time.Time
	onFiled func(ctx context.Context, id uuid.UUID)
	hooks   []Hooks
}

// OnFiled sets what runs after a ticket is filed, before the answer goes back (dispatch
// assigns it there). Errors are the callee's to handle: filing has succeeded.
func (s *Service) OnFiled(fn func(ctx context.Context, id uuid.UUID)) { s.onFiled = fn }

// Hooks let other packages take part in a ticket's transaction: ctx carries it
// (postgres.Q reads through it), and an error undoes the whole command.
type Hooks struct {
	// Filing runs once new tickets' rows are written (checklists attach to them there).
	Filing func(ctx context.Context, ids []uuid.UUID) error
	// Resolving runs once a ticket is marked resolved; it may refuse the resolution with
	// an apperr (a checklist with required items left, say).
	Resolving func(ctx context.Context, id uuid.UUID) error
	// Cancelling runs once a ticket is marked cancelled.
	Cancelling func(ctx context.Context, id uuid.UUID) error
}

// AddHooks adds h to the hooks that run, after those added before.
func (s *Service) AddHooks(h Hooks) { s.hooks = append(s.hooks, h) }

// filing runs the Filing hooks inside tx.
func (s *Service) filing(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) error {
	for _, h := range s.hooks {
		if h.Filing != nil {
			if err := h.Filing(postgres.InTx(ctx, tx), ids); err != nil {
				return err
			}
		}
	}
	return nil
}

// finishing runs the Resolving or Cancelling hooks, as action calls for, inside tx.
func (s *Service) finishing(ctx context.Context, tx pgx.Tx, action Action, id uuid.UUID) error {
	for _, h := range s.hooks {
		fn := h.Resolving
		if action == Cancel {
			fn = h.Cancelling
		}
		if fn != nil {
			if err := fn(postgres.InTx(ctx, tx), id); err != nil {
				return err
			}
		}
	}
	return nil
}

// NewService returns a Service.
func NewService(pool *pgxpool.Pool, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AutoCloseAfter <= 0 {
		o.AutoCloseAfter = 3 * 24 * time.Hour
	}
	if o.ReopenWithin <= 0 {
		o.ReopenWithin = 14 * 24 * time.Hour
	}
	return &Service{pool: pool, opts: o, now: func() time.Time { return o.Now().UTC() }}
}

// Ticket is one request for service: a fault, a request or a question about a client's
// site or asset.
type Ticket struct {
	ID             uuid.UUID  `json:"id"`
	Number         string     `json:"number"`
	ClientID       uuid.UUID  `json:"client_id"`
	ContractID     *uuid.UUID `json:"contract_id"`
	SiteID         uuid.UUID  `json:"site_id"`
	AssetID        *uuid.UUID `json:"asset_id"`
	Kind           string     `json:"kind"`
	Priority       string     `json:"priority"`
	Status         Status     `json:"status"`
	WaitingOn      *string    `json:"waiting_on"`
	Title          string     `json:"title"`
	Description    string     `json:"description"`
	RequiredSkills []Skill    `json:"required_skills"`
	AssigneeID     *uuid.UUID `json:"assignee_id"`
	// ScheduledFor is when planned (preventive) work is due; DispatchAfter is when it goes
	// to auto-dispatch, until it has.
	ScheduledFor   *time.Time `json:"scheduled_for"`
	DispatchAfter  *time.Time `json:"dispatch_after"`
	SLA            SLA        `json:"sla"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	ClosedAt       *time.Time `json:"closed_at"`
	ResolutionNote *string    `json:"resolution_note"`
	Rating         *Rating    `json:"rating"`
	ReopenCount    int        `json:"reopen_count"`
	Version        int        `json:"version"`
	CreatedBy      *uuid.UUID `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Skill is a required skill as listed on a ticket.
type Skill struct {
	ID   uuid.UUID `json:"id"`
	Code string    `json:"code"`
	Name string    `json:"name"`
}

// SLA is the state of a ticket's two clocks. States: none (no contract), ok, at_risk
// (80 % of the business time used), breached, met, met_late.
type SLA struct {
	Reaction   Clock `json:"reaction"`
	Resolution Clock `json:"resolution"`
	// PausedMinutes is business time spent waiting on the client, which does not count.
	PausedMinutes int        `json:"paused_minutes"`
	PausedSince   *time.Time `json:"paused_since"`
}

// Clock is one SLA target and where it stands.
type Clock struct {
	Minutes *int       `json:"minutes"`
	DueAt   *time.Time `json:"due_at"`
	State   string     `json:"state"`
	// MetAt is when the reaction happened or the work was resolved.
	MetAt *time.Time `json:"met_at"`
}

// Rating is the client's verdict on the work.
type Rating struct {
	Score   int       `json:"score"`
	Comment *string   `json:"comment"`
	RatedAt time.Time `json:"rated_at"`
}

const ticketSelect = `SELECT t.id, t.number, t.client_id, t.contract_id, t.site_id, t.asset_id, t.kind, t.priority,
	t.status, t.waiting_on, t.title, t.description,
	(SELECT coalesce(jsonb_agg(jsonb_build_object('id', k.id, 'code', k.code, 'name', k.name) ORDER BY k.code), '[]')
	 FROM ticket_skills ts JOIN skills k ON k.id = ts.skill_id WHERE ts.ticket_id = t.id),
	t.assignee_id, t.scheduled_for, t.dispatch_after, t.reaction_minutes, t.reaction_due_at, t.reaction_state, t.first_response_at,
	t.resolution_minutes, t.resolution_due_at, t.resolution_state, t.paused_minutes, t.paused_since,
	t.resolved_at, t.closed_at, t.resolution_note, t.csat, t.csat_comment, t.rated_at, t.reopen_count,
	t.version, t.created_by, t.created_at, t.updated_at
	FROM tickets t`

func scanTicket(row pgx.Row) (Ticket, error) {
	var t Ticket
	var score *int
	var comment *string
	var ratedAt *time.Time
	err := row.Scan(&t.ID, &t.Number, &t.ClientID, &t.ContractID, &t.SiteID, &t.AssetID, &t.Kind, &t.Priority,
		&t.Status, &t.WaitingOn, &t.Title, &t.Description, &t.RequiredSkills,
		&t.AssigneeID, &t.ScheduledFor, &t.DispatchAfter, &t.SLA.Reaction.Minutes, &t.SLA.Reaction.DueAt, &t.SLA.Reaction.State, &t.SLA.Reaction.MetAt,
		&t.SLA.Resolution.Minutes, &t.SLA.Resolution.DueAt, &t.SLA.Resolution.State, &t.SLA.PausedMinutes, &t.SLA.PausedSince,
		&t.ResolvedAt, &t.ClosedAt, &t.ResolutionNote, &score, &comment, &ratedAt, &t.ReopenCount,
		&t.Version, &t.CreatedBy, &t.CreatedAt, &t.UpdatedAt)
	if score != nil && ratedAt != nil {
		t.Rating = &Rating{Score: *score, Comment: comment, RatedAt: *ratedAt}
	}
	if t.Status == Resolved || t.Status == Closed {
		t.SLA.Resolution.MetAt = t.ResolvedAt
	}
	return t, err
}
