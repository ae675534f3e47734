package ticket

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Edit changes a ticket's details. Version is required: an edit based on an old read is
// refused rather than silently overwriting someone else's change. Absent fields stay.
type Edit struct {
	Version          *int      `json:"version"`
	Title            *string   `json:"title"`
	Description      *string   `json:"description"`
	Priority         *string   `json:"priority"`
	RequiredSkillIDs *[]string `json:"required_skill_ids"`
}

// Update applies an edit by the service desk. A new priority recomputes the SLA
// deadlines from the contract's targets for it.
func (s *Service) Update(ctx context.Context, p auth.Principal, id uuid.UUID, in Edit) (Ticket, error) {
	if p.Role != auth.Dispatcher && p.Role != auth.Admin {
		return Ticket{}, apperr.New(apperr.Forbidden, "your role (%s) may not edit tickets", p.Role)
	}
	var errs valid.Errors
	errs.Check(in.Version != nil, "version", "is required: the version you read")
	var ch changes
	data := map[string]any{}
	if in.Title != nil {
		ch.set("title", errs.Text("title", *in.Title, true, 200))
		data["title"] = true
	}
	if in.Description != nil {
		ch.set("description", errs.Text("description", *in.Description, false, 10000))
		data["description"] = true
	}
	var priority string
	if in.Priority != nil {
		priority = errs.OneOf("priority", *in.Priority, Priorities...)
	}
	var skills []uuid.UUID
	if in.RequiredSkillIDs != nil {
		skills = skillIDs(&errs, *in.RequiredSkillIDs)
	}
	if in.Title == nil && in.Description == nil && in.Priority == nil && in.RequiredSkillIDs == nil {
		errs.Add("body", "names nothing to change")
	}
	if err := errs.Err(); err != nil {
		return Ticket{}, err
	}
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := lock(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := c.checkVersion(in.Version); err != nil {
			return err
		}
		now := s.now()
		if in.Priority != nil && priority != c.priority {
			if err := s.reprioritise(ctx, tx, c, priority, &ch); err != nil {
				return err
			}
			if err := addEvent(ctx, tx, event{ticket: id, actor: &p.UserID, kind: "priority_changed", at: now,
				data: map[string]any{"from": c.priority, "to": priority}}); err != nil {
				return err
			}
		}
		if in.RequiredSkillIDs != nil {
			if err := setSkills(ctx, tx, id, skills); err != nil {
				return err
			}
			if err := addEvent(ctx, tx, event{ticket: id, actor: &p.UserID, kind: "skills_changed", at: now,
				data: map[string]any{"skill_ids": skills}}); err != nil {
				return err
			}
		}
		if len(data) > 0 {
			if err := addEvent(ctx, tx, event{ticket: id, actor: &p.UserID, kind: "edited", at: now, data: data}); err != nil {
				return err
			}
		}
		return ch.apply(ctx, tx, id, c.status, &p.UserID, now)
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("ticket: edit: %w", postgres.MapError(err))
	}
	return s.Get(ctx, p, id)
}

// reprioritise moves the clocks to the targets of the new priority. A reaction that
// already happened keeps its deadline and verdict; a paused resolution clock is judged
// when the pause ends.
func (s *Service) reprioritise(ctx context.Context, tx pgx.Tx, c current, priority string, ch *changes) error {
	ch.set("priority", priority)
	tm, ok, err := loadTerms(ctx, tx, c.contract, priority, c.site)
	if err != nil || !ok {
		return err
	}
	now := s.now()
	d := tm.deadlines(c.created, c.paused)
	if c.firstResponse == nil {
		ch.set("reaction_minutes", tm.reaction)
		ch.set("reaction_risk_at", d.reactionRisk)
		ch.set("reaction_due_at", d.reactionDue)
		if running(c.reactionState) {
			ch.clock("reaction", c.reactionState, stateAt(now, d.reactionRisk, d.reactionDue))
		}
	}
	ch.set("resolution_minutes", tm.resolution)
	ch.set("resolution_risk_at", d.resolutionRisk)
	ch.set("resolution_due_at", d.resolutionDue)
	if running(c.resolutionState) && c.pausedSince == nil {
		ch.clock("resolution", c.resolutionState, stateAt(now, d.resolutionRisk, d.resolutionDue))
	}
	return nil
}
