package dispatch

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/ticket"
	"fieldsvc/internal/valid"
)

// BatchPlan is a proposed assignment of the waiting tickets that minimises the total
// distance driven, beside what assigning them one by one (greedy) would give.
type BatchPlan struct {
	Considered     int               `json:"considered"`
	Assignments    []BatchAssignment `json:"assignments"`
	Unassigned     []uuid.UUID       `json:"unassigned"`
	TotalM         float64           `json:"total_m"`
	GreedyTotalM   float64           `json:"greedy_total_m"`
	GreedyAssigned int               `json:"greedy_assigned"`
	// SavingPercent is how much shorter the plan's total is than greedy's, when both
	// place the same number of tickets.
	SavingPercent float64 `json:"saving_percent"`
}

// BatchAssignment is one ticket to one engineer.
type BatchAssignment struct {
	TicketID   uuid.UUID `json:"ticket_id"`
	EngineerID uuid.UUID `json:"engineer_id"`
	DistanceM  float64   `json:"distance_m"`
}

// batchPerTicket is how many nearest qualified engineers each ticket may go to in a
// batch: farther ones would never be part of a shortest plan in practice, and the matrix
// stays small.
const batchPerTicket = 25

// maxBatch bounds the tickets one plan considers.
const maxBatch = 300

// PreviewBatch plans the assignment of up to limit waiting tickets (oldest first; planned
// work only once it is released for dispatch): a
// min-cost assignment over every ticket's qualified engineers, each engineer offering as
// many places as their free capacity. Nothing is assigned until the plan is applied.
func (s *Service) PreviewBatch(ctx context.Context, limit int) (BatchPlan, error) {
	if limit <= 0 || limit > maxBatch {
		limit = maxBatch
	}
	rows, err := s.pool.Query(ctx, `SELECT id FROM tickets
		WHERE status = 'new' AND assignee_id IS NULL AND dispatch_after IS NULL ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return BatchPlan{}, fmt.Errorf("dispatch: batch: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return BatchPlan{}, fmt.Errorf("dispatch: batch: %w", err)
	}
	// Columns are engineers' free places; a ticket reaches only its own candidates.
	type place struct{ engineer uuid.UUID }
	var places []place
	placesOf := map[uuid.UUID][]int{}
	needs, err := s.loadNeeds(ctx, ids)
	if err != nil {
		return BatchPlan{}, err
	}
	batch := make([]need, len(ids))
	for i, id := range ids {
		n, ok := needs[id]
		if !ok {
			return BatchPlan{}, apperr.New(apperr.NotFound, "ticket %s not found", id)
		}
		batch[i] = n
	}
	options, err := s.rankAll(ctx, candidateSQL, batch, batchPerTicket, batchPerTicket)
	if err != nil {
		return BatchPlan{}, err
	}
	for _, cands := range options {
		for _, c := range cands {
			if _, seen := placesOf[c.EngineerID]; seen {
				continue
			}
			for range min(c.Capacity-c.Load, len(ids)) {
				placesOf[c.EngineerID] = append(placesOf[c.EngineerID], len(places))
				places = append(places, place{c.EngineerID})
			}
		}
	}
	cost := make([][]float64, len(ids))
	for i := range ids {
		cost[i] = make([]float64, len(places))
		for j := range cost[i] {
			cost[i][j] = Unassignable
		}
		for _, c := range options[i] {
			for _, j := range placesOf[c.EngineerID] {
				cost[i][j] = c.DistanceM
			}
		}
	}
	best, greedy := MinCost(cost), Greedy(cost)
	plan := BatchPlan{Considered: len(ids), TotalM: best.Total, GreedyTotalM: greedy.Total, GreedyAssigned: greedy.Assigned,
		Assignments: []BatchAssignment{}, Unassigned: []uuid.UUID{}}
	for i, j := range best.Match {
		if j < 0 {
			plan.Unassigned = append(plan.Unassigned, ids[i])
			continue
		}
		plan.Assignments = append(plan.Assignments, BatchAssignment{TicketID: ids[i], EngineerID: places[j].engineer, DistanceM: cost[i][j]})
	}
	if greedy.Assigned == best.Assigned && greedy.Total > 0 {
		plan.SavingPercent = math.Round((greedy.Total-best.Total)/greedy.Total*1000) / 10
	}
	return plan, nil
}

// BatchResult is what became of one planned assignment.
type BatchResult struct {
	TicketID   uuid.UUID `json:"ticket_id"`
	EngineerID uuid.UUID `json:"engineer_id"`
	// Status is applied; skipped when the ticket or the engineer changed since the
	// preview (the ticket was taken, the engineer filled up); or failed when the server
	// could not do it now (try again). Reason says which.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// ApplyRequest is a plan (or part of one) a dispatcher accepts: the preview's
// assignments can be sent back as they are; their distances are measured again.
type ApplyRequest struct {
	Assignments []struct {
		TicketID   string   `json:"ticket_id"`
		EngineerID string   `json:"engineer_id"`
		DistanceM  *float64 `json:"distance_m"` // ignored
	} `json:"assignments"`
}

// ApplyBatch carries out a previewed plan. Each assignment claims capacity like any
// other, so one that no longer fits (the ticket was taken, the engineer filled up) is
// skipped, not forced.
func (s *Service) ApplyBatch(ctx context.Context, p auth.Principal, in ApplyRequest) ([]BatchResult, error) {
	var errs valid.Errors
	errs.Check(len(in.Assignments) > 0, "assignments", "must list at least one assignment")
	errs.Check(len(in.Assignments) <= maxBatch, "assignments", fmt.Sprintf("must list at most %d", maxBatch))
	type pair struct{ ticket, engineer uuid.UUID }
	pairs := make([]pair, len(in.Assignments))
	for i, a := range in.Assignments {
		pairs[i] = pair{errs.UUID(fmt.Sprintf("assignments[%d].ticket_id", i), a.TicketID),
			errs.UUID(fmt.Sprintf("assignments[%d].engineer_id", i), a.EngineerID)}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	out := make([]BatchResult, len(pairs))
	for i, pr := range pairs {
		out[i] = BatchResult{TicketID: pr.ticket, EngineerID: pr.engineer, Status: "applied"}
		a := ticket.Assignment{Mode: "batch", Reasons: map[string]any{"plan": "min-cost over the waiting tickets"}}
		err := s.tickets.AssignTo(ctx, p, pr.ticket, pr.engineer, a)
		var ae *apperr.Error
		switch {
		case err == nil:
		case errors.As(err, &ae) && (ae.Code == apperr.Conflict || ae.Code == apperr.Invalid || ae.Code == apperr.NotFound):
			out[i].Status, out[i].Reason = "skipped", ae.Message
		default: // the others stand on their own, so go on and report this one
			out[i].Status, out[i].Reason = "failed", "could not be applied now; try again"
			s.failed(ctx, err)
		}
	}
	return out, nil
}
