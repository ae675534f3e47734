package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Skill is a qualification a ticket can require and an engineer can have, such as
// refrigeration or electrical_safety_3.
type Skill struct {
	ID        uuid.UUID `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SkillInput creates a skill or replaces its details.
type SkillInput struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

const skillSelect = `SELECT k.id, k.code, k.name, k.active, k.created_at, k.updated_at FROM skills k`

func scanSkill(row pgx.Row) (Skill, error) {
	var k Skill
	err := row.Scan(&k.ID, &k.Code, &k.Name, &k.Active, &k.CreatedAt, &k.UpdatedAt)
	return k, err
}

func (in SkillInput) validate() (SkillInput, error) {
	var errs valid.Errors
	out := SkillInput{
		Code: errs.Text("code", in.Code, true, 40),
		Name: errs.Text("name", in.Name, true, 200),
	}
	if out.Code != "" {
		errs.Slug("code", out.Code)
	}
	return out, errs.Err()
}

// CreateSkill adds a skill.
func (s *Service) CreateSkill(ctx context.Context, in SkillInput) (Skill, error) {
	in, err := in.validate()
	if err != nil {
		return Skill{}, err
	}
	id := uuid.Must(uuid.NewV7())
	_, err = s.pool.Exec(ctx, `INSERT INTO skills (id, code, name) VALUES ($1, $2, $3)`, id, in.Code, in.Name)
	if err != nil {
		return Skill{}, fmt.Errorf("catalog: create skill: %w", postgres.MapError(err))
	}
	return s.GetSkill(ctx, id)
}

// UpdateSkill replaces a skill's code and name.
func (s *Service) UpdateSkill(ctx context.Context, id uuid.UUID, in SkillInput) (Skill, error) {
	in, err := in.validate()
	if err != nil {
		return Skill{}, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE skills SET code = $2, name = $3 WHERE id = $1`, id, in.Code, in.Name)
	if err := postgres.Affected(tag, err, "skill", id); err != nil {
		return Skill{}, fmt.Errorf("catalog: update skill: %w", err)
	}
	return s.GetSkill(ctx, id)
}

var skills = table[Skill]{name: "skills", what: "skill", alias: "k", sel: skillSelect, scan: scanSkill,
	id: func(x Skill) uuid.UUID { return x.ID }, search: []string{"k.code", "k.name"}}

// SetSkillActive deactivates or reactivates a skill.
func (s *Service) SetSkillActive(ctx context.Context, id uuid.UUID, active bool) (Skill, error) {
	return skills.setActive(ctx, s.pool, id, active)
}

// GetSkill returns one skill.
func (s *Service) GetSkill(ctx context.Context, id uuid.UUID) (Skill, error) {
	return skills.get(ctx, s.pool, id)
}

// ListSkills returns a page of skills, filtered by active and q (part of the code or name).
func (s *Service) ListSkills(ctx context.Context, f Filter, p page.Request) (page.Page[Skill], error) {
	return skills.list(ctx, s.pool, f, postgres.Where{}, p)
}
