package checklist

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/ticket"
)

// Checklist is a checklist on a ticket: the template's items at the version the ticket
// got, the answers so far, and the required items still unanswered.
type Checklist struct {
	ID              uuid.UUID `json:"id"`
	TicketID        uuid.UUID `json:"ticket_id"`
	TemplateID      uuid.UUID `json:"template_id"`
	TemplateVersion int       `json:"template_version"`
	Name            string    `json:"name"`
	Items           []Item    `json:"items"`
	Answers         []Answer  `json:"answers"`
	Missing         []string  `json:"missing"`
	CreatedAt       time.Time `json:"created_at"`
}

// Answer is the answer to one item. Version counts its writes.
type Answer struct {
	ID          uuid.UUID       `json:"id"`
	ChecklistID uuid.UUID       `json:"checklist_id"`
	ItemID      string          `json:"item_id"`
	Value       json.RawMessage `json:"value"`
	Version     int             `json:"version"`
	AnsweredBy  uuid.UUID       `json:"answered_by"`
	AnsweredAt  time.Time       `json:"answered_at"`
	// Stale says the writer had read an older version than the one it replaced: the
	// write went through (last write wins), but someone else's answer was overwritten.
	Stale bool `json:"stale,omitempty"`
}

// AnswerInput answers an item. BaseVersion is the answer's version the writer last saw
// (0: no answer yet); without it nothing is flagged.
type AnswerInput struct {
	Value       json.RawMessage `json:"value"`
	BaseVersion *int            `json:"base_version"`
}

// attachMatching gives new tickets the active templates their kind and asset call for.
func (s *Service) attachMatching(ctx context.Context, ids []uuid.UUID) error {
	return AttachMatching(ctx, postgres.Q(ctx, s.pool), ids)
}

// AttachMatching gives tickets the checklists of the active templates their kind and
// asset call for, those they have not got yet.
func AttachMatching(ctx context.Context, q postgres.Querier, tickets []uuid.UUID) error {
	_, err := q.Exec(ctx, `
		INSERT INTO ticket_checklists (id, ticket_id, template_id, template_version)
		SELECT gen_random_uuid(), k.id, t.id, t.version
		FROM tickets k LEFT JOIN assets a ON a.id = k.asset_id, checklist_templates t
		WHERE k.id = ANY ($1) AND t.active
			AND (cardinality(t.ticket_kinds) = 0 OR k.kind = ANY (t.ticket_kinds))
			AND (cardinality(t.asset_types) = 0 OR a.asset_type = ANY (t.asset_types))
		ON CONFLICT (ticket_id, template_id) DO NOTHING`, tickets)
	if err != nil {
		return fmt.Errorf("checklist: attach: %w", err)
	}
	return nil
}

// AttachTemplates gives each ticket the current version of the template at the same
// position (a maintenance plan's checklist), inside the transaction ctx carries. A
// template since deactivated is left out.
func (s *Service) AttachTemplates(ctx context.Context, tickets, templates []uuid.UUID) error {
	_, err := postgres.Q(ctx, s.pool).Exec(ctx, `
		INSERT INTO ticket_checklists (id, ticket_id, template_id, template_version)
		SELECT gen_random_uuid(), x.ticket_id, t.id, t.version
		FROM unnest($1::uuid[], $2::uuid[]) AS x (ticket_id, template_id)
			JOIN checklist_templates t ON t.id = x.template_id AND t.active
		ON CONFLICT (ticket_id, template_id) DO NOTHING`, tickets, templates)
	if err != nil {
		return fmt.Errorf("checklist: attach templates: %w", err)
	}
	return nil
}

// open reads a ticket p may see and holds it (FOR SHARE) until the transaction in ctx
// ends, so no resolution slips between a check and a write; the ticket must still be
// worked on.
func (s *Service) open(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	if _, err := postgres.Q(ctx, s.pool).Exec(ctx, `SELECT FROM tickets WHERE id = $1 FOR SHARE`, id); err != nil {
		return fmt.Errorf("checklist: lock ticket: %w", err)
	}
	// Read under the lock: a reassignment committed while it was awaited counts.
	t, err := s.tickets.Get(ctx, p, id)
	if err != nil {
		return err
	}
	status := t.Status
	if slices.Contains([]ticket.Status{ticket.Resolved, ticket.Closed, ticket.Cancelled}, status) {
		return &apperr.Error{Code: apperr.Conflict, Message: fmt.Sprintf("the ticket is %s: its checklists are final", status),
			Current: map[string]any{"status": status}}
	}
	return nil
}

// Attach gives a ticket a template's checklist (at its current version) by hand.
func (s *Service) Attach(ctx context.Context, p auth.Principal, ticketID, templateID uuid.UUID) (Checklist, error) {
	if !slices.Contains(auth.Staff, p.Role) {
		return Checklist{}, apperr.New(apperr.Forbidden, "your role (%s) may not add checklists", p.Role)
	}
	id := uuid.Must(uuid.NewV7())
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		ctx := postgres.InTx(ctx, tx)
		if err := s.open(ctx, p, ticketID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO ticket_checklists (id, ticket_id, template_id, template_version)
			SELECT $1, $2, t.id, t.version FROM checklist_templates t WHERE t.id = $3 AND t.active
			ON CONFLICT (ticket_id, template_id) DO NOTHING`, id, ticketID, templateID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ticket_checklists WHERE ticket_id = $1 AND template_id = $2)`,
				ticketID, templateID).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return apperr.New(apperr.Conflict, "the ticket already has this checklist")
			}
			return apperr.Field("template_id", "is not an active checklist template")
		}
		return nil
	})
	if err != nil {
		return Checklist{}, fmt.Errorf("checklist: attach: %w", postgres.MapError(err))
	}
	list, err := s.load(ctx, ticketID, &id)
	if err != nil {
		return Checklist{}, err
	}
	return list[0], nil
}

// ForTicket returns a ticket's checklists with their answers.
func (s *Service) ForTicket(ctx context.Context, p auth.Principal, ticketID uuid.UUID) ([]Checklist, error) {
	if _, err := s.tickets.Get(ctx, p, ticketID); err != nil {
		return nil, err
	}
	return s.load(ctx, ticketID, nil)
}

// load reads a ticket's checklists (only the one named, when one is).
func (s *Service) load(ctx context.Context, ticketID uuid.UUID, only *uuid.UUID) ([]Checklist, error) {
	rows, err := postgres.Q(ctx, s.pool).Query(ctx, `
		SELECT c.id, c.ticket_id, c.template_id, c.template_version, t.name, v.items, c.created_at,
			coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id, 'checklist_id', a.checklist_id, 'item_id', a.item_id,
				'value', a.value, 'version', a.version, 'answered_by', a.answered_by, 'answered_at', a.answered_at)
				ORDER BY a.item_id) FROM checklist_answers a WHERE a.checklist_id = c.id), '[]')
		FROM ticket_checklists c JOIN checklist_templates t ON t.id = c.template_id
		JOIN checklist_template_versions v ON v.template_id = c.template_id AND v.version = c.template_version
		WHERE c.ticket_id = $1 AND ($2::uuid IS NULL OR c.id = $2)
		ORDER BY c.created_at, c.id`, ticketID, only)
	if err != nil {
		return nil, fmt.Errorf("checklist: load: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Checklist, error) {
		var c Checklist
		err := row.Scan(&c.ID, &c.TicketID, &c.TemplateID, &c.TemplateVersion, &c.Name, &c.Items, &c.CreatedAt, &c.Answers)
		c.Missing = missing(c)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("checklist: load: %w", err)
	}
	return list, nil
}

// missing lists the required items of c without an answer.
func missing(c Checklist) []string {
	out := []string{}
	for _, it := range c.Items {
		answered := slices.ContainsFunc(c.Answers, func(a Answer) bool { return a.ItemID == it.ID && given(a.Value) })
		if it.Required && !answered {
			out = append(out, it.ID)
		}
	}
	return out
}

// given reports whether an answer's value is there (a cleared one is JSON null).
func given(v json.RawMessage) bool { return len(v) > 0 && string(v) != "null" }

// Answer answers (or, with a null value, clears) one item of a ticket's checklist: the
// assigned engineer or staff, while the ticket is worked on. The last write wins; a
// writer whose base version is behind is told so in Stale.
func (s *Service) Answer(ctx context.Context, p auth.Principal, ticketID, checklistID uuid.UUID, itemID string, in AnswerInput) (Answer, error) {
	if p.Role == auth.Client {
		return Answer{}, apperr.New(apperr.Forbidden, "clients may not fill in checklists")
	}
	var out Answer
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		ctx := postgres.InTx(ctx, tx)
		if err := s.open(ctx, p, ticketID); err != nil {
			return err
		}
		var items []Item
		err := tx.QueryRow(ctx, `SELECT v.items FROM ticket_checklists c
			JOIN checklist_template_versions v ON v.template_id = c.template_id AND v.version = c.template_version
			WHERE c.id = $1 AND c.ticket_id = $2`, checklistID, ticketID).Scan(&items)
		if postgres.ErrNoRows(err) {
			return apperr.New(apperr.NotFound, "the ticket has no checklist %s", checklistID)
		}
		if err != nil {
			return err
		}
		i := slices.IndexFunc(items, func(it Item) bool { return it.ID == itemID })
		if i < 0 {
			return apperr.New(apperr.NotFound, "the checklist has no item %q", itemID)
		}
		a, err := checkAnswer(items[i], in.Value)
		if err != nil {
			return err
		}
		if err := checkAttachments(ctx, tx, ticketID, a); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO checklist_answers AS a (id, checklist_id, ticket_id, item_id, value, answered_by, answered_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (checklist_id, item_id) DO UPDATE
				SET value = EXCLUDED.value, version = a.version + 1, answered_by = EXCLUDED.answered_by,
					answered_at = EXCLUDED.answered_at
			RETURNING a.id, a.checklist_id, a.item_id, a.value, a.version, a.answered_by, a.answered_at`,
			uuid.Must(uuid.NewV7()), checklistID, ticketID, itemID, a.value, p.UserID, s.now()).Scan(
			&out.ID, &out.ChecklistID, &out.ItemID, &out.Value, &out.Version, &out.AnsweredBy, &out.AnsweredAt)
		// Every write adds one to the version, so this write replaced version-1, whoever
		// wrote it and however close behind another writer it came.
		out.Stale = in.BaseVersion != nil && *in.BaseVersion != out.Version-1
		return err
	})
	if err != nil {
		return Answer{}, fmt.Errorf("checklist: answer: %w", postgres.MapError(err))
	}
	return out, nil
}

// checkAttachments makes sure the files an answer names are confirmed files of the
// ticket, of the kind the item takes.
func checkAttachments(ctx context.Context, tx pgx.Tx, ticketID uuid.UUID, a answer) error {
	if len(a.attachments) == 0 {
		return nil
	}
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM attachments
		WHERE id = ANY ($1) AND ticket_id = $2 AND kind = $3 AND status = 'confirmed'`, a.attachments, ticketID, a.kind).Scan(&n)
	if err != nil {
		return err
	}
	if n != len(a.attachments) {
		return apperr.Field("value", fmt.Sprintf("must name confirmed %s attachments of this ticket: upload and confirm them first", a.kind))
	}
	return nil
}
