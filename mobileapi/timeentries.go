package mobileapi

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/auth"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// maxEntry is the longest stretch one time entry may cover.
const maxEntry = 24 * time.Hour

// addTimeEntry logs work on a ticket the engineer works on. Entries are insert-only:
// the id makes a resend a no-op, and a correction is a new entry.
func (s *Service) addTimeEntry(ctx context.Context, p auth.Principal, engineer, id, ticketID uuid.UUID, m Mutation) error {
	var errs valid.Errors
	errs.Check(m.StartedAt != nil, "started_at", "is required")
	errs.Check(m.EndedAt != nil, "ended_at", "is required")
	note := ""
	if m.Note != nil {
		note = errs.Text("note", *m.Note, false, 2000)
	}
	if m.StartedAt != nil && m.EndedAt != nil {
		length := m.EndedAt.Sub(*m.StartedAt)
		errs.Check(length > 0 && length <= maxEntry, "ended_at", "must be after started_at and within 24 hours of it")
		errs.Check(!m.EndedAt.After(s.now().Add(5*time.Minute)), "ended_at", "must not be in the future")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if _, err := s.Tickets.Get(ctx, p, ticketID); err != nil { // only on their own work
		return err
	}
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO time_entries (id, ticket_id, engineer_id, started_at, ended_at, note)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`, id, ticketID, engineer, m.StartedAt.UTC(), m.EndedAt.UTC(), note)
		return postgres.MapError(err)
	})
}
