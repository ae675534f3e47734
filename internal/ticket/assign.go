package ticket

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/postgres"
)

// Assignment says how and why an engineer was chosen; every assignment stores one, so a
// dispatcher can always see why a ticket went where it did.
type Assignment struct {
	Mode      string         // auto or batch (people's assignments are manual)
	DistanceM *float64       // from the engineer's dispatch position to the site
	ETASecs   *int           // estimated travel time
	Score     *float64       // the ranking score (lower is better)
	Reasons   map[string]any // the score breakdown and anything else worth keeping
}

// System is the actor for what the service does by itself (auto-dispatch, sweeps).
var System = auth.Principal{Role: auth.Dispatcher}

// AssignTo assigns a waiting ticket (new, with nobody on it) to an engineer with the
// reasons for the choice. It fails with a Conflict on engineer_id when the engineer has
// no free capacity (someone else took the last slot), so dispatch can move on to the
// next candidate, and with a plain Conflict when the ticket is no longer waiting: dispatch
// never takes work away from someone it was given to meanwhile.
func (s *Service) AssignTo(ctx context.Context, p auth.Principal, id, engineer uuid.UUID, a Assignment) error {
	e := engineer.String()
	return s.do(ctx, p, id, Assign, Command{EngineerID: &e, assignment: &a})
}

// claim takes one unit of an engineer's capacity for this transaction, refusing one who
// does not exist or no longer works. It locks the engineer row, and the previous
// assignee's too (the trigger on tickets will update both), always in id order, so two
// crosswise reassignments never deadlock. Concurrent claims on one engineer wait for
// each other; the ticket update that follows moves open_jobs before the locks are
// released.
func claim(ctx context.Context, tx pgx.Tx, engineer uuid.UUID, previous *uuid.UUID, override bool) error {
	ids := []uuid.UUID{engineer}
	if previous != nil && *previous != engineer {
		ids = append(ids, *previous)
	}
	engineers, err := lockEngineers(ctx, tx, ids)
	if err != nil {
		return err
	}
	e, found := engineers[engineer]
	switch {
	case !found:
		return apperr.Field("engineer_id", "does not exist")
	case !e.working:
		return apperr.Field("engineer_id", "is deactivated")
	}
	if e.room <= 0 && !override {
		return &apperr.Error{Code: apperr.Conflict, Message: "the engineer has no free capacity",
			Fields: map[string]string{"engineer_id": "is at capacity"}}
	}
	return nil
}

// engineerState is what an assignment needs to know of a locked engineer.
type engineerState struct {
	open    int  // open jobs the engineer has
	room    int  // open jobs the engineer may still take
	working bool // the engineer and their user are active
}

// lockEngineers locks engineers' rows and reads their room; one that does not exist is
// missing.
func lockEngineers(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) (map[uuid.UUID]engineerState, error) {
	rows, err := tx.Query(ctx, lockEngineersSQL, ids)
	if err != nil {
		return nil, fmt.Errorf("ticket: claim engineers: %w", err)
	}
	out, err := readEngineers(rows)
	if err != nil {
		return nil, fmt.Errorf("ticket: claim engineers: %w", err)
	}
	return out, nil
}

// lockEngineersSQL locks engineers in id order, so two transactions never wait on each
// other crosswise.
const lockEngineersSQL = `SELECT e.id, e.open_jobs, e.capacity - e.open_jobs, e.active AND u.active
	FROM engineers e JOIN users u ON u.id = e.user_id WHERE e.id = ANY($1) ORDER BY e.id FOR UPDATE OF e`

func readEngineers(rows pgx.Rows) (map[uuid.UUID]engineerState, error) {
	out := map[uuid.UUID]engineerState{}
	var id uuid.UUID
	var e engineerState
	_, err := pgx.ForEachRow(rows, []any{&id, &e.open, &e.room, &e.working}, func() error { out[id] = e; return nil })
	return out, err
}

// placement is one assignment to record: the ticket, its site and who chose whom why.
type placement struct {
	ticket, site, engineer uuid.UUID
	by                     uuid.UUID // nobody (uuid.Nil) for the system
	a                      *Assignment
	load                   *int // the engineer's open jobs before it; read from the row when nil
}

// recordAssignments stores the why of assignments.
func recordAssignments(ctx context.Context, tx pgx.Tx, ps []placement) error {
	if _, err := tx.Exec(ctx, insertAssignmentsSQL, assignmentArgs(ps)...); err != nil {
		return fmt.Errorf("ticket: record assignment: %w", err)
	}
	return nil
}

// insertAssignmentsSQL stores assignments from assignmentArgs. Manual ones get their
// distance measured here, so they can be compared with what dispatch would have done.
const insertAssignmentsSQL = `
	INSERT INTO ticket_assignments (id, ticket_id, engineer_id, mode, distance_m, eta_s, load, score, reasons, assigned_by)
	SELECT x.id, x.ticket_id, e.id, x.mode, coalesce(x.distance_m, ST_Distance(e.position, s.location, false)), x.eta_s,
		coalesce(x.load, e.open_jobs), x.score, x.reasons, x.assigned_by
	FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::float8[], $7::int[], $8::float8[], $9::jsonb[],
		$10::uuid[], $11::int[])
		AS x (id, ticket_id, engineer_id, site_id, mode, distance_m, eta_s, score, reasons, assigned_by, load)
	JOIN engineers e ON e.id = x.engineer_id JOIN sites s ON s.id = x.site_id`

func assignmentArgs(ps []placement) []any {
	n := len(ps)
	ids, tickets, engineers, sites := make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n)
	modes, reasons := make([]string, n), make([]map[string]any, n)
	dist, scores := make([]*float64, n), make([]*float64, n)
	etas, loads, actors := make([]*int, n), make([]*int, n), make([]*uuid.UUID, n)
	for i, p := range ps {
		a := p.a
		ids[i], tickets[i], engineers[i], sites[i] = uuid.Must(uuid.NewV7()), p.ticket, p.engineer, p.site
		modes[i], reasons[i], dist[i], scores[i], etas[i], loads[i] = a.Mode, a.Reasons, a.DistanceM, a.Score, a.ETASecs, p.load
		if reasons[i] == nil {
			reasons[i] = map[string]any{}
		}
		if p.by != uuid.Nil {
			actors[i] = &p.by
		}
	}
	return []any{ids, tickets, engineers, sites, modes, dist, etas, scores, reasons, actors, loads}
}

// manualAssignment is the record of a person's choice: their note, if any, is its
// reason, beside the engineer the ticket was taken from.
func manualAssignment(note *string, previous *uuid.UUID) *Assignment {
	a := &Assignment{Mode: "manual", Reasons: map[string]any{}}
	if note != nil {
		a.Reasons["note"] = *note
	}
	if previous != nil {
		a.Reasons["previous_engineer_id"] = *previous
	}
	return a
}

// assigned notes an assignment on its event.
func (e *event) assigned(engineer uuid.UUID, previous *uuid.UUID, a *Assignment) {
	e.data["engineer_id"] = engineer
	e.data["mode"] = "manual"
	if a != nil {
		e.data["mode"] = a.Mode
		e.data["reasons"] = a.Reasons
	}
	if previous != nil {
		e.data["previous_engineer_id"] = *previous
	}
}

// Offer is a ticket waiting for an engineer with the engineers dispatch proposes for it,
// best first, each with the reasons it would be recorded with.
type Offer struct {
	Ticket  uuid.UUID
	By      auth.Principal
	Choices []Choice
}

// Choice is one engineer an Offer proposes.
type Choice struct {
	Engineer   uuid.UUID
	Assignment Assignment
}

// Placed is what became of an Offer: the engineer it went to, or nobody, either because
// every choice was full or gone (Engineer nil) or because the ticket no longer waited
// for an engineer (Changed: someone assigned or cancelled it meanwhile).
type Placed struct {
	Engineer *uuid.UUID
	Changed  bool
}

// Place assigns each offered ticket to the first of its choices who still has room, all
// in one transaction: dispatch places a batch of tickets with a handful of statements
// instead of a transaction each. Tickets and engineers are locked as every command locks
// them (tickets, then engineers, each in id order) and room is counted on the locked
// rows, places taken by earlier offers of the batch included, so no engineer is ever
// pushed over capacity. Each placement is recorded as AssignTo records it.
func (s *Service) Place(ctx context.Context, offers []Offer) ([]Placed, error) {
	out := make([]Placed, len(offers))
	var ticketIDs, engineerIDs []uuid.UUID
	for _, o := range offers {
		if !rules[Assign].allowedRole(o.By.Role) {
			return nil, apperr.New(apperr.Forbidden, "your role (%s) may not assign tickets", o.By.Role)
		}
		ticketIDs = append(ticketIDs, o.Ticket)
		for _, c := range o.Choices {
			engineerIDs = append(engineerIDs, c.Engineer)
		}
	}
	now := s.now()
	// One round trip begins the transaction and locks the rows; another writes.
	waiting := map[uuid.UUID]uuid.UUID{} // ticket → site
	var engineers map[uuid.UUID]engineerState
	var locks pgx.Batch
	postgres.GenericPlans(&locks)
	locks.Queue(`SELECT id, site_id FROM tickets WHERE id = ANY($1) AND status = 'new' AND assignee_id IS NULL
		ORDER BY id FOR UPDATE`, ticketIDs).Query(func(rows pgx.Rows) error {
		var id, site uuid.UUID
		_, err := pgx.ForEachRow(rows, []any{&id, &site}, func() error { waiting[id] = site; return nil })
		return err
	})
	locks.Queue(lockEngineersSQL, engineerIDs).Query(func(rows pgx.Rows) (err error) {
		engineers, err = readEngineers(rows)
		return err
	})
	err := postgres.WithTxBatch(ctx, s.pool, &locks, func(tx pgx.Tx) error {
		var ps []placement
		var events []event
		for i, o := range offers {
			site, ok := waiting[o.Ticket]
			if !ok {
				out[i].Changed = true
				continue
			}
			delete(waiting, o.Ticket) // offered twice: the second finds it taken
			for _, c := range o.Choices {
				if e := engineers[c.Engineer]; e.working && e.room > 0 {
					load := e.open
					e.open, e.room = e.open+1, e.room-1
					engineers[c.Engineer] = e
					out[i].Engineer = &c.Engineer
					ps = append(ps, placement{ticket: o.Ticket, site: site, engineer: c.Engineer, by: o.By.UserID,
						a: &c.Assignment, load: &load})
					ev := event{ticket: o.Ticket, actor: actorOf(o.By), kind: string(Assign), from: New, to: Assigned, at: now,
						data: map[string]any{}}
					ev.assigned(c.Engineer, nil, &c.Assignment)
					events = append(events, ev)
					break
				}
			}
		}
		if len(ps) == 0 {
			return nil
		}
		placed, to := make([]uuid.UUID, len(ps)), make([]uuid.UUID, len(ps))
		for i, p := range ps {
			placed[i], to[i] = p.ticket, p.engineer
		}
		var writes pgx.Batch
		writes.Queue(insertAssignmentsSQL, assignmentArgs(ps)...)
		writes.Queue(insertEventsSQL, eventArgs(events)...)
		writes.Queue(`UPDATE tickets t SET status = 'assigned', version = t.version + 1, assignee_id = x.engineer
			FROM unnest($1::uuid[], $2::uuid[]) AS x (id, engineer) WHERE t.id = x.id`, placed, to)
		return tx.SendBatch(ctx, &writes).Close()
	})
	if err != nil {
		return nil, fmt.Errorf("ticket: place: %w", postgres.MapError(err))
	}
	return out, nil
}
