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
	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Template is a checklist template at one version (the current one unless asked).
type Template struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	// TicketKinds and AssetTypes say which new tickets get this checklist: of these kinds
	// (any when empty) and on assets of these types (any ticket when empty).
	TicketKinds []string  `json:"ticket_kinds"`
	AssetTypes  []string  `json:"asset_types"`
	Version     int       `json:"version"`
	Current     int       `json:"current_version"`
	Items       []Item    `json:"items"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// TemplateInput creates a template or replaces it. Changed items make a new version;
// the other fields apply to the template as a whole.
type TemplateInput struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	TicketKinds []string `json:"ticket_kinds"`
	AssetTypes  []string `json:"asset_types"`
	Items       []Item   `json:"items"`
}

// Filter narrows the template list.
type Filter struct {
	Active     *bool
	TicketKind string
	AssetType  string
}

var ticketKinds = []string{"incident", "request", "consultation", "preventive"}

func (in TemplateInput) validate() (TemplateInput, error) {
	var errs valid.Errors
	out := TemplateInput{
		Name:        errs.Text("name", in.Name, true, 200),
		Description: errs.Text("description", in.Description, false, 5000),
		TicketKinds: []string{},
		AssetTypes:  []string{},
	}
	for i, k := range in.TicketKinds {
		if k = errs.OneOf(fmt.Sprintf("ticket_kinds[%d]", i), k, ticketKinds...); !slices.Contains(out.TicketKinds, k) {
			out.TicketKinds = append(out.TicketKinds, k)
		}
	}
	for i, t := range in.AssetTypes {
		if errs.Slug(fmt.Sprintf("asset_types[%d]", i), t); !slices.Contains(out.AssetTypes, t) {
			out.AssetTypes = append(out.AssetTypes, t)
		}
	}
	out.Items = checkItems(&errs, in.Items)
	return out, errs.Err()
}

const templateSelect = `SELECT t.id, t.name, t.description, t.ticket_kinds, t.asset_types, v.version, t.version, v.items,
	t.active, t.created_at, t.updated_at
	FROM checklist_templates t JOIN checklist_template_versions v ON v.template_id = t.id`

func scanTemplate(row pgx.Row) (Template, error) {
	var t Template
	err := row.Scan(&t.ID, &t.Name, &t.Description, &t.TicketKinds, &t.AssetTypes, &t.Version, &t.Current, &t.Items,
		&t.Active, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

// CreateTemplate adds a template at version 1.
func (s *Service) CreateTemplate(ctx context.Context, in TemplateInput) (Template, error) {
	in, err := in.validate()
	if err != nil {
		return Template{}, err
	}
	id := uuid.Must(uuid.NewV7())
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO checklist_templates (id, name, description, ticket_kinds, asset_types)
			VALUES ($1, $2, $3, $4, $5)`, id, in.Name, in.Description, in.TicketKinds, in.AssetTypes); err != nil {
			return err
		}
		return addVersion(ctx, tx, id, 1, in.Items)
	})
	if err != nil {
		return Template{}, fmt.Errorf("checklist: create template: %w", postgres.MapError(err))
	}
	return s.Template(ctx, id, nil)
}

func addVersion(ctx context.Context, tx pgx.Tx, id uuid.UUID, version int, items []Item) error {
	var by *uuid.UUID
	if p, err := auth.FromContext(ctx); err == nil {
		by = &p.UserID
	}
	_, err := tx.Exec(ctx, `INSERT INTO checklist_template_versions (template_id, version, items, created_by)
		VALUES ($1, $2, $3, $4)`, id, version, items, by)
	return err
}

// UpdateTemplate replaces a template. When the items differ from the current version's,
// they become a new version: tickets that have the old one keep it.
func (s *Service) UpdateTemplate(ctx context.Context, id uuid.UUID, in TemplateInput) (Template, error) {
	in, err := in.validate()
	if err != nil {
		return Template{}, err
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var version int
		var items []Item
		err := tx.QueryRow(ctx, `SELECT t.version, v.items FROM checklist_templates t
			JOIN checklist_template_versions v ON v.template_id = t.id AND v.version = t.version
			WHERE t.id = $1 FOR UPDATE OF t`, id).Scan(&version, &items)
		if postgres.ErrNoRows(err) {
			return apperr.New(apperr.NotFound, "checklist template %s not found", id)
		}
		if err != nil {
			return err
		}
		if !sameItems(items, in.Items) {
			version++
			if err := addVersion(ctx, tx, id, version, in.Items); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE checklist_templates SET name = $2, description = $3, ticket_kinds = $4,
			asset_types = $5, version = $6 WHERE id = $1`, id, in.Name, in.Description, in.TicketKinds, in.AssetTypes, version)
		return err
	})
	if err != nil {
		return Template{}, fmt.Errorf("checklist: update template: %w", postgres.MapError(err))
	}
	return s.Template(ctx, id, nil)
}

func sameItems(a, b []Item) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// Template returns a template at version (the current one when nil).
func (s *Service) Template(ctx context.Context, id uuid.UUID, version *int) (Template, error) {
	q := templateSelect + ` WHERE t.id = $1 AND v.version = coalesce($2, t.version)`
	t, err := scanTemplate(postgres.Q(ctx, s.pool).QueryRow(ctx, q, id, version))
	if postgres.ErrNoRows(err) {
		if version != nil {
			return Template{}, apperr.New(apperr.NotFound, "checklist template %s has no version %d", id, *version)
		}
		return Template{}, apperr.New(apperr.NotFound, "checklist template %s not found", id)
	}
	if err != nil {
		return Template{}, fmt.Errorf("checklist: template: %w", err)
	}
	return t, nil
}

// Templates lists templates at their current versions.
func (s *Service) Templates(ctx context.Context, f Filter, p page.Request) (page.Page[Template], error) {
	var w postgres.Where
	w.Cond("v.version = t.version")
	if f.Active != nil {
		w.Add("t.active = %s", *f.Active)
	}
	if f.TicketKind != "" {
		w.Add("(cardinality(t.ticket_kinds) = 0 OR %s = ANY (t.ticket_kinds))", f.TicketKind)
	}
	if f.AssetType != "" {
		w.Add("(cardinality(t.asset_types) = 0 OR %s = ANY (t.asset_types))", f.AssetType)
	}
	out, err := postgres.ListPage(ctx, s.pool, templateSelect, w, postgres.Key{Column: "t.id"}, p, scanTemplate,
		func(t Template) uuid.UUID { return t.ID })
	if err != nil {
		return out, fmt.Errorf("checklist: templates: %w", err)
	}
	return out, nil
}

// SetTemplateActive retires a template from new tickets, or brings it back.
func (s *Service) SetTemplateActive(ctx context.Context, id uuid.UUID, active bool) (Template, error) {
	if err := postgres.SetActive(ctx, s.pool, "checklist_templates", "checklist template", id, active); err != nil {
		return Template{}, err
	}
	return s.Template(ctx, id, nil)
}
