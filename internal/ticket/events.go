package ticket

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/postgres"
)

// event is one entry of a ticket's history, written in the transaction of the change.
type event struct {
	ticket   uuid.UUID
	actor    *uuid.UUID // nil for the system (sweeps, auto-close)
	kind     string
	from, to Status
	at       time.Time
	data     map[string]any
}

func addEvent(ctx context.Context, tx pgx.Tx, e event) error { return addEvents(ctx, tx, []event{e}) }

// addEvents writes events in one statement.
func addEvents(ctx context.Context, tx pgx.Tx, es []event) error {
	if _, err := tx.Exec(ctx, insertEventsSQL, eventArgs(es)...); err != nil {
		return fmt.Errorf("ticket: events %s…: %w", es[0].kind, err)
	}
	return nil
}

// insertEventsSQL writes the events of eventArgs, in their order.
const insertEventsSQL = `
	INSERT INTO ticket_events (ticket_id, actor_id, kind, from_status, to_status, data, created_at)
	SELECT ticket_id, actor_id, kind, NULLIF(from_status, ''), NULLIF(to_status, ''), data, created_at
	FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[])
		WITH ORDINALITY AS x (ticket_id, actor_id, kind, from_status, to_status, data, created_at, n)
	ORDER BY n`

func eventArgs(es []event) []any {
	n := len(es)
	tickets, actors, kinds := make([]uuid.UUID, n), make([]*uuid.UUID, n), make([]string, n)
	from, to, data, at := make([]string, n), make([]string, n), make([]map[string]any, n), make([]time.Time, n)
	for i, e := range es {
		tickets[i], actors[i], kinds[i], from[i], to[i], data[i], at[i] = e.ticket, e.actor, e.kind, string(e.from), string(e.to), e.data, e.at
		if data[i] == nil {
			data[i] = map[string]any{}
		}
	}
	return []any{tickets, actors, kinds, from, to, data, at}
}

// Event is an entry of a ticket's history as the API shows it.
type Event struct {
	ID        int64          `json:"id"`
	TicketID  uuid.UUID      `json:"ticket_id"`
	ActorID   *uuid.UUID     `json:"actor_id"`
	ActorName *string        `json:"actor_name"`
	Kind      string         `json:"kind"`
	From      *string        `json:"from_status"`
	To        *string        `json:"to_status"`
	Data      map[string]any `json:"data"`
	At        time.Time      `json:"at"`
}

// clientHidden are event kinds a client user does not see: the desk's own bookkeeping.
var clientHidden = []string{"commented_internal", "sla.reaction_at_risk", "sla.resolution_at_risk", "edited", "skills_changed",
	"dispatch_failed", "dispatch_suggested"}

const eventSelect = `SELECT e.id, e.ticket_id, e.actor_id, u.full_name, e.kind, e.from_status, e.to_status, e.data, e.created_at
	FROM ticket_events e LEFT JOIN users u ON u.id = e.actor_id`

func scanEvent(row pgx.Row) (Event, error) {
	var e Event
	err := row.Scan(&e.ID, &e.TicketID, &e.ActorID, &e.ActorName, &e.Kind, &e.From, &e.To, &e.Data, &e.At)
	return e, err
}

// AddSystemEvent records something the service did or found about a ticket by itself
// (dispatch could not place it, for instance).
func (s *Service) AddSystemEvent(ctx context.Context, id uuid.UUID, kind string, data map[string]any) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		return addEvent(ctx, tx, event{ticket: id, kind: kind, at: s.now(), data: data})
	})
}
