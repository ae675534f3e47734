package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// maxSLAMinutes bounds an SLA target: a year of minutes.
const maxSLAMinutes = 525600

// SLAPolicy promises a reaction and a resolution time, in business minutes, for each
// ticket priority.
type SLAPolicy struct {
	ID        uuid.UUID            `json:"id"`
	Name      string               `json:"name"`
	Targets   map[string]SLATarget `json:"targets"`
	Active    bool                 `json:"active"`
	CreatedAt time.Time            `json:"created_at"`
	UpdatedAt time.Time            `json:"updated_at"`
}

// SLATarget is what a policy promises for one priority, in business minutes.
type SLATarget struct {
	ReactionMinutes   int `json:"reaction_minutes"`
	ResolutionMinutes int `json:"resolution_minutes"`
}

// SLAPolicyInput creates a policy or replaces it. Targets needs every priority.
type SLAPolicyInput struct {
	Name    string               `json:"name"`
	Targets map[string]SLATarget `json:"targets"`
}

// The targets come back in the same row as their policy, so a list is one query.
const slaPolicySelect = `SELECT p.id, p.name,
	(SELECT coalesce(jsonb_object_agg(t.priority, jsonb_build_object(
		'reaction_minutes', t.reaction_minutes, 'resolution_minutes', t.resolution_minutes)), '{}')
	 FROM sla_targets t WHERE t.policy_id = p.id),
	p.active, p.created_at, p.updated_at FROM sla_policies p`

func scanSLAPolicy(row pgx.Row) (SLAPolicy, error) {
	var p SLAPolicy
	err := row.Scan(&p.ID, &p.Name, &p.Targets, &p.Active, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

func (in SLAPolicyInput) validate() (SLAPolicyInput, error) {
	var errs valid.Errors
	out := SLAPolicyInput{Name: errs.Text("name", in.Name, true, 200), Targets: in.Targets}
	for _, priority := range Priorities {
		field := "targets." + priority
		t, ok := in.Targets[priority]
		if !ok {
			errs.Add(field, "is required")
			continue
		}
		errs.Check(t.ReactionMinutes > 0 && t.ReactionMinutes <= maxSLAMinutes, field+".reaction_minutes",
			fmt.Sprintf("must be from 1 to %d minutes", maxSLAMinutes))
		errs.Check(t.ResolutionMinutes >= t.ReactionMinutes, field+".resolution_minutes",
			"must not be less than reaction_minutes")
		errs.Check(t.ResolutionMinutes <= maxSLAMinutes, field+".resolution_minutes",
			fmt.Sprintf("must be at most %d minutes", maxSLAMinutes))
	}
	for priority := range in.Targets {
		errs.Check(slices.Contains(Priorities, priority), "targets."+priority,
			"is not a priority; use "+strings.Join(Priorities, ", "))
	}
	return out, errs.Err()
}

// CreateSLAPolicy adds an SLA policy with its targets.
func (s *Service) CreateSLAPolicy(ctx context.Context, in SLAPolicyInput) (SLAPolicy, error) {
	in, err := in.validate()
	if err != nil {
		return SLAPolicy{}, err
	}
	id := uuid.Must(uuid.NewV7())
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sla_policies (id, name) VALUES ($1, $2)`, id, in.Name); err != nil {
			return postgres.MapError(err)
		}
		return insertSLATargets(ctx, tx, id, in.Targets)
	})
	if err != nil {
		return SLAPolicy{}, fmt.Errorf("catalog: create sla policy: %w", err)
	}
	return s.GetSLAPolicy(ctx, id)
}

// UpdateSLAPolicy replaces a policy's name and all of its targets.
func (s *Service) UpdateSLAPolicy(ctx context.Context, id uuid.UUID, in SLAPolicyInput) (SLAPolicy, error) {
	in, err := in.validate()
	if err != nil {
		return SLAPolicy{}, err
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sla_policies SET name = $2 WHERE id = $1`, id, in.Name)
		if err := postgres.Affected(tag, err, "sla policy", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sla_targets WHERE policy_id = $1`, id); err != nil {
			return postgres.MapError(err)
		}
		return insertSLATargets(ctx, tx, id, in.Targets)
	})
	if err != nil {
		return SLAPolicy{}, fmt.Errorf("catalog: update sla policy: %w", err)
	}
	return s.GetSLAPolicy(ctx, id)
}

// insertSLATargets writes one row per priority in one statement.
func insertSLATargets(ctx context.Context, tx pgx.Tx, policyID uuid.UUID, targets map[string]SLATarget) error {
	priorities := make([]string, 0, len(Priorities))
	reaction := make([]int32, 0, len(Priorities))
	resolution := make([]int32, 0, len(Priorities))
	for _, p := range Priorities {
		priorities = append(priorities, p)
		reaction = append(reaction, int32(targets[p].ReactionMinutes))
		resolution = append(resolution, int32(targets[p].ResolutionMinutes))
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO sla_targets (policy_id, priority, reaction_minutes, resolution_minutes)
		SELECT $1, t.priority, t.reaction, t.resolution
		FROM unnest($2::text[], $3::integer[], $4::integer[]) AS t (priority, reaction, resolution)`,
		policyID, priorities, reaction, resolution)
	return postgres.MapError(err)
}

var slaPolicies = table[SLAPolicy]{name: "sla_policies", what: "sla policy", alias: "p", sel: slaPolicySelect, scan: scanSLAPolicy,
	id: func(x SLAPolicy) uuid.UUID { return x.ID }, search: []string{"p.name"}}

// SetSLAPolicyActive deactivates or reactivates an SLA policy.
func (s *Service) SetSLAPolicyActive(ctx context.Context, id uuid.UUID, active bool) (SLAPolicy, error) {
	return slaPolicies.setActive(ctx, s.pool, id, active)
}

// GetSLAPolicy returns one SLA policy with its targets.
func (s *Service) GetSLAPolicy(ctx context.Context, id uuid.UUID) (SLAPolicy, error) {
	return slaPolicies.get(ctx, s.pool, id)
}

// ListSLAPolicies returns a page of SLA policies, filtered by active and q (part of the name).
func (s *Service) ListSLAPolicies(ctx context.Context, f Filter, p page.Request) (page.Page[SLAPolicy], error) {
	return slaPolicies.list(ctx, s.pool, f, postgres.Where{}, p)
}
