package ticket

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/postgres"
)

// Planned is a preventive work order as a maintenance plan schedules it.
type Planned struct {
	ID            uuid.UUID
	AssetID       uuid.UUID
	Priority      string
	Title         string
	Description   string
	SkillIDs      []uuid.UUID
	ScheduledFor  time.Time
	DispatchAfter time.Time
	// Data is recorded on the "created" event (the plan and the occurrence).
	Data map[string]any
}

// FilePlanned files preventive work orders inside the transaction ctx carries, in a few
// statements whatever their number. They stand at their asset's site under the contract
// in force, without SLA clocks: the due time is the commitment. They are not dispatched
// now: dispatch's sweep takes each at its DispatchAfter. by is the user whose change to a
// plan files them, nil for the scheduler.
func (s *Service) FilePlanned(ctx context.Context, by *uuid.UUID, orders []Planned) error {
	if len(orders) == 0 {
		return nil
	}
	now := s.now()
	last, err := s.numbers(ctx, now, len(orders))
	if err != nil {
		return err
	}
	n := len(orders)
	ids, assets, priorities, titles, descs := make([]uuid.UUID, n), make([]uuid.UUID, n), make([]string, n), make([]string, n), make([]string, n)
	numbers, due, release := make([]string, n), make([]time.Time, n), make([]time.Time, n)
	var skillTickets, skills []uuid.UUID
	events := make([]event, n)
	for i, o := range orders {
		ids[i], assets[i], priorities[i], titles[i], descs[i] = o.ID, o.AssetID, o.Priority, o.Title, o.Description
		numbers[i] = fmt.Sprintf("%d-%06d", now.Year(), last-n+1+i)
		due[i], release[i] = o.ScheduledFor, o.DispatchAfter
		for _, k := range o.SkillIDs {
			skillTickets, skills = append(skillTickets, o.ID), append(skills, k)
		}
		data := map[string]any{"kind": "preventive", "priority": o.Priority, "scheduled_for": o.ScheduledFor}
		for k, v := range o.Data {
			data[k] = v
		}
		events[i] = event{ticket: o.ID, actor: by, kind: "created", to: New, at: now, data: data}
	}
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO tickets (id, number, client_id, contract_id, site_id, asset_id, kind, priority, title, description,
				scheduled_for, dispatch_after, created_at, updated_at)
			SELECT o.id, o.number, s.client_id, c.id, a.site_id, a.id, 'preventive', o.priority, o.title, o.description,
				o.due, o.release, $9, $9
			FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])
				AS o (id, number, asset_id, priority, title, description, due, release)
			JOIN assets a ON a.id = o.asset_id JOIN sites s ON s.id = a.site_id
			LEFT JOIN LATERAL (SELECT id FROM contracts
				WHERE client_id = s.client_id AND active AND starts_on <= $9 AND (ends_on IS NULL OR ends_on >= $9)
				ORDER BY starts_on DESC, id LIMIT 1) c ON true`,
			ids, numbers, assets, priorities, titles, descs, due, release, now)
		if err != nil {
			return fmt.Errorf("ticket: file planned: %w", err)
		}
		if int(tag.RowsAffected()) != n {
			return fmt.Errorf("ticket: file planned: %d of %d assets not found", n-int(tag.RowsAffected()), n)
		}
		if len(skills) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO ticket_skills (ticket_id, skill_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])`,
				skillTickets, skills); err != nil {
				return fmt.Errorf("ticket: file planned: skills: %w", err)
			}
		}
		if err := s.filing(ctx, tx, ids); err != nil {
			return err
		}
		return addEvents(ctx, tx, events)
	})
}

// numbers reserves n ticket numbers of now's year and returns the last. Like a single
// number, the block comes from a short transaction of its own, so filings elsewhere never
// wait for a long batch.
func (s *Service) numbers(ctx context.Context, now time.Time, n int) (int, error) {
	var last int
	err := s.pool.QueryRow(ctx, `
		INSERT INTO ticket_numbers (year, last) VALUES ($1, $2)
		ON CONFLICT (year) DO UPDATE SET last = ticket_numbers.last + $2
		RETURNING last`, now.Year(), n).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("ticket: numbers: %w", postgres.MapError(err))
	}
	return last, nil
}

// CancelPlanned cancels those of the given work orders nobody has started (new or
// assigned, not accepted), recording why, inside the transaction ctx carries. It runs no
// hooks: the plan that asks is already rescheduling. It returns the ids it cancelled.
func (s *Service) CancelPlanned(ctx context.Context, by *uuid.UUID, ids []uuid.UUID, note string) ([]uuid.UUID, error) {
	var cancelled []uuid.UUID
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		rows, err := tx.Query(ctx, `
			WITH old AS (SELECT id, status FROM tickets WHERE id = ANY ($1) AND status IN ('new', 'assigned')
				ORDER BY id FOR UPDATE)
			UPDATE tickets t SET status = 'cancelled', dispatch_after = NULL, closed_at = $2,
				version = t.version + 1, updated_at = $2
			FROM old WHERE t.id = old.id
			RETURNING t.id, old.status`, ids, now)
		if err != nil {
			return err
		}
		var events []event
		for rows.Next() {
			var id uuid.UUID
			var from Status
			if err := rows.Scan(&id, &from); err != nil {
				return err
			}
			cancelled = append(cancelled, id)
			events = append(events, event{ticket: id, actor: by, kind: string(Cancel), from: from, to: Cancelled, at: now,
				data: map[string]any{"note": note}})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		return addEvents(ctx, tx, events)
	})
	if err != nil {
		return nil, fmt.Errorf("ticket: cancel planned: %w", postgres.MapError(err))
	}
	return cancelled, nil
}
