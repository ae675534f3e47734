package ticket

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
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
	rows, err := tx.Query(ctx, `SELECT e.id, e.open_jobs < e.capacity, e.active AND u.active
		FROM engineers e JOIN users u ON u.id = e.user_id WHERE e.id = ANY($1) ORDER BY e.id FOR UPDATE OF e`, ids)
	if err != nil {
		return fmt.Errorf("ticket: claim engineer: %w", err)
	}
	found, free, working := false, false, false
	var id uuid.UUID
	var room, active bool
	_, err = pgx.ForEachRow(rows, []any{&id, &room, &active}, func() error {
		if id == engineer {
			found, free, working = true, room, active
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ticket: claim engineer: %w", err)
	}
	switch {
	case !found:
		return apperr.Field("engineer_id", "does not exist")
	case !working:
		return apperr.Field("engineer_id", "is deactivated")
	}
	if !free && !override {
		return &apperr.Error{Code: apperr.Conflict, Message: "the engineer has no free capacity",
			Fields: map[string]string{"engineer_id": "is at capacity"}}
	}
	return nil
}

// recordAssignment stores the why of an assignment. Manual ones get their distance
// measured here, so they can be compared with what dispatch would have done.
func recordAssignment(ctx context.Context, tx pgx.Tx, c current, engineer uuid.UUID, by uuid.UUID, a *Assignment) error {
	if a == nil {
		a = &Assignment{Mode: "manual"}
	}
	if a.Reasons == nil {
		a.Reasons = map[string]any{}
	}
	var actor *uuid.UUID
	if by != uuid.Nil {
		actor = &by
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO ticket_assignments (id, ticket_id, engineer_id, mode, distance_m, eta_s, load, score, reasons, assigned_by)
		SELECT $1, $2, e.id, $4, coalesce($5, ST_Distance(e.position, s.location, false)), $6, e.open_jobs, $7, $8, $9
		FROM engineers e, sites s WHERE e.id = $3 AND s.id = $10`,
		uuid.Must(uuid.NewV7()), c.id, engineer, a.Mode, a.DistanceM, a.ETASecs, a.Score, a.Reasons, actor, c.site)
	if err != nil {
		return fmt.Errorf("ticket: record assignment: %w", err)
	}
	return nil
}
