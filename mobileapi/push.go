package mobileapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/dispatch"
	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/checklist"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/ticket"
	"fieldsvc/internal/valid"
)

// Mutation is one thing the engineer did offline, in the order it was done. Its id is
// the app's own: pushing it again changes nothing. Which fields count depends on Type:
//
//	ticket.action   ticket_id, action, version (optional), note, waiting_on
//	comment.add     ticket_id, body, visibility (public or internal); the comment gets id
//	time_entry.add  ticket_id, started_at, ended_at, note; the entry gets id
//	checklist.answer ticket_id, checklist_id, item_id, value (null clears), base_version
//	location        location, accuracy_m, recorded_at
type Mutation struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	TicketID    *string         `json:"ticket_id"`
	Action      *string         `json:"action"`
	Version     *int            `json:"version"`
	Note        *string         `json:"note"`
	WaitingOn   *string         `json:"waiting_on"`
	Body        *string         `json:"body"`
	Visibility  *string         `json:"visibility"`
	StartedAt   *time.Time      `json:"started_at"`
	EndedAt     *time.Time      `json:"ended_at"`
	Location    *geo.Input      `json:"location"`
	AccuracyM   *float64        `json:"accuracy_m"`
	RecordedAt  *time.Time      `json:"recorded_at"`
	ChecklistID *string         `json:"checklist_id"`
	ItemID      *string         `json:"item_id"`
	Value       json.RawMessage `json:"value"`
	BaseVersion *int            `json:"base_version"`
	// problem is why the mutation could not even be read (set when decoding): it is
	// rejected on its own rather than blocking the queue behind it.
	problem error
}

// Result is what became of a mutation: applied, duplicate (pushed before; Original says
// how it went then) or rejected (Code and Reason say why; Current is the ticket as the
// server has it now, for the app to show or rebase on). Stale marks an applied checklist
// answer whose base version was behind: it replaced an answer the engineer never saw.
type Result struct {
	ID       uuid.UUID         `json:"id"`
	Status   string            `json:"status"`
	Stale    bool              `json:"stale,omitempty"`
	Original string            `json:"original,omitempty"`
	Code     apperr.Code       `json:"code,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
	Current  *ticket.Ticket    `json:"current,omitempty"`
}

// maxPush bounds one batch.
const maxPush = 500

// engineerActions are the ticket actions the app may push.
var engineerActions = []ticket.Action{ticket.Accept, ticket.StartTravel, ticket.StartWork, ticket.Wait, ticket.Resume, ticket.Resolve}

// Push applies a batch of mutations in one transaction, in order. Each one that fails
// for a reason the engineer can see is rejected on its own (its savepoint undone) and
// the rest go on; anything else aborts the whole batch, which then changes nothing and
// can be pushed again. The device's last mutation is stored in the same transaction.
func (s *Service) Push(ctx context.Context, p auth.Principal, device uuid.UUID, muts []Mutation) ([]Result, error) {
	var errs valid.Errors
	errs.Check(len(muts) > 0, "mutations", "must hold at least one mutation")
	errs.Check(len(muts) <= maxPush, "mutations", fmt.Sprintf("must hold at most %d mutations", maxPush))
	ids := make([]uuid.UUID, len(muts))
	for i, m := range muts {
		ids[i] = errs.UUID(fmt.Sprintf("mutations[%d].id", i), m.ID)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	engineer, err := s.device(ctx, p, device)
	if err != nil {
		return nil, err
	}
	results := make([]Result, len(muts))
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		// One push per device at a time: a retry racing its original waits, then sees it.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM devices WHERE id = $1 FOR UPDATE`, device); err != nil {
			return err
		}
		inTx := postgres.InTx(ctx, tx)
		for i, m := range muts {
			r, err := s.pushOne(inTx, tx, p, engineer, device, ids[i], m)
			if err != nil {
				return err
			}
			results[i] = r
		}
		_, err := tx.Exec(ctx, `UPDATE devices SET last_mutation_id = $2 WHERE id = $1`, device, ids[len(ids)-1])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mobileapi: push: %w", err)
	}
	return results, nil
}

func (s *Service) pushOne(ctx context.Context, tx pgx.Tx, p auth.Principal, engineer, device, id uuid.UUID, m Mutation) (Result, error) {
	var stored Result
	err := tx.QueryRow(ctx, `SELECT result FROM sync_mutations WHERE device_id = $1 AND id = $2`, device, id).Scan(&stored)
	if err == nil {
		return Result{ID: id, Status: "duplicate", Original: stored.Status, Stale: stored.Stale, Code: stored.Code,
			Reason: stored.Reason, Fields: stored.Fields}, nil
	}
	if !postgres.ErrNoRows(err) {
		return Result{}, err
	}
	r := Result{ID: id, Status: "applied"}
	err = m.problem
	if err == nil {
		r.Stale, err = s.apply(ctx, p, engineer, id, m)
	}
	if err != nil {
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code == apperr.Internal || ae.Code == apperr.Unavailable {
			return Result{}, err // not the engineer's doing: the batch fails and will be retried
		}
		r = Result{ID: id, Status: "rejected", Code: ae.Code, Reason: ae.Message, Fields: ae.Fields}
		if m.TicketID != nil {
			if tid, err := uuid.Parse(*m.TicketID); err == nil {
				if t, err := s.Tickets.Get(ctx, p, tid); err == nil {
					r.Current = &t
				}
			}
		}
	}
	record := r
	record.Current = nil // the stored result is the verdict, not a snapshot
	_, err = tx.Exec(ctx, `INSERT INTO sync_mutations (device_id, id, status, result, applied_at) VALUES ($1, $2, $3, $4, $5)`,
		device, id, r.Status, record, s.now())
	return r, err
}

// apply carries out one mutation through the services that own the data. It reports
// whether a checklist answer was written over one the engineer had not seen.
func (s *Service) apply(ctx context.Context, p auth.Principal, engineer, id uuid.UUID, m Mutation) (bool, error) {
	var errs valid.Errors
	var ticketID uuid.UUID
	if m.Type != "location" {
		if m.TicketID == nil {
			errs.Add("ticket_id", "is required")
		} else {
			ticketID = errs.UUID("ticket_id", *m.TicketID)
		}
	}
	switch m.Type {
	case "ticket.action":
		var action ticket.Action
		if m.Action == nil {
			errs.Add("action", "is required")
		} else if action = ticket.Action(*m.Action); !slices.Contains(engineerActions, action) {
			errs.Add("action", "is not an action the app takes")
		}
		if err := errs.Err(); err != nil {
			return false, err
		}
		_, err := s.Tickets.Do(ctx, p, ticketID, action, ticket.Command{Version: m.Version, Note: m.Note, WaitingOn: m.WaitingOn})
		return false, err
	case "comment.add":
		if err := errs.Err(); err != nil {
			return false, err
		}
		body := ""
		if m.Body != nil {
			body = *m.Body
		}
		cid := id.String()
		_, _, err := s.Tickets.AddComment(ctx, p, ticketID, ticket.NewComment{ID: &cid, Body: body, Visibility: m.Visibility})
		return false, err
	case "time_entry.add":
		if err := errs.Err(); err != nil {
			return false, err
		}
		return false, s.addTimeEntry(ctx, p, engineer, id, ticketID, m)
	case "checklist.answer":
		var checklistID uuid.UUID
		if m.ChecklistID == nil {
			errs.Add("checklist_id", "is required")
		} else {
			checklistID = errs.UUID("checklist_id", *m.ChecklistID)
		}
		errs.Check(m.ItemID != nil && *m.ItemID != "", "item_id", "is required")
		if err := errs.Err(); err != nil {
			return false, err
		}
		a, err := s.Checklists.Answer(ctx, p, ticketID, checklistID, *m.ItemID, checklist.AnswerInput{Value: m.Value, BaseVersion: m.BaseVersion})
		return a.Stale, err
	case "location":
		lid := id.String()
		return false, s.Locations.ReportLocation(ctx, p, dispatch.LocationReport{ID: &lid, Location: m.Location,
			AccuracyM: m.AccuracyM, RecordedAt: m.RecordedAt})
	}
	return false, apperr.Field("type", "must be ticket.action, comment.add, time_entry.add, checklist.answer or location")
}
