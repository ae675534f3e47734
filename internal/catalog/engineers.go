package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Engineer capacity: how many open work orders one may hold at once.
const (
	defaultCapacity   = 5
	maxCapacity       = 100
	maxEngineerSkills = 200
)

// Engineer is a field engineer: a user with the engineer role, their skills, where they
// start the day, the calendar of their shifts and how much open work they can hold.
// Name, email and phone are the user's; the last location is reported by the mobile app.
type Engineer struct {
	ID             uuid.UUID       `json:"id"`
	UserID         uuid.UUID       `json:"user_id"`
	FullName       string          `json:"full_name"`
	Email          string          `json:"email"`
	Phone          *string         `json:"phone"`
	Skills         []EngineerSkill `json:"skills"` // by code
	HomeBase       geo.Point       `json:"home_base"`
	CalendarID     uuid.UUID       `json:"calendar_id"`
	Capacity       int             `json:"capacity"`
	LastLocation   *geo.Point      `json:"last_location"`
	LastLocationAt *time.Time      `json:"last_location_at"`
	Active         bool            `json:"active"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

// EngineerSkill is a skill as listed on an engineer.
type EngineerSkill struct {
	ID   uuid.UUID `json:"id"`
	Code string    `json:"code"`
	Name string    `json:"name"`
}

// EngineerInput creates an engineer or replaces their details, skills included. An
// absent capacity is the default, 5.
type EngineerInput struct {
	UserID     string     `json:"user_id"`
	SkillIDs   []string   `json:"skill_ids"`
	HomeBase   *geo.Input `json:"home_base"`
	CalendarID string     `json:"calendar_id"`
	Capacity   *int       `json:"capacity"`
}

type engineerFields struct {
	userID, calendarID uuid.UUID
	skillIDs           []uuid.UUID
	homeBase           geo.Point
	capacity           int
}

// The skills come back in the same row as their engineer, so a list is one query.
const engineerSelect = `SELECT e.id, e.user_id, u.full_name, u.email, u.phone,
	(SELECT coalesce(jsonb_agg(jsonb_build_object('id', k.id, 'code', k.code, 'name', k.name) ORDER BY k.code), '[]')
	 FROM engineer_skills es JOIN skills k ON k.id = es.skill_id WHERE es.engineer_id = e.id),
	e.home_base, e.calendar_id, e.capacity, e.last_location, e.last_location_at, e.active, e.created_at, e.updated_at
	FROM engineers e JOIN users u ON u.id = e.user_id`

func scanEngineer(row pgx.Row) (Engineer, error) {
	var e Engineer
	err := row.Scan(&e.ID, &e.UserID, &e.FullName, &e.Email, &e.Phone, &e.Skills,
		&e.HomeBase, &e.CalendarID, &e.Capacity, &e.LastLocation, &e.LastLocationAt, &e.Active, &e.CreatedAt, &e.UpdatedAt)
	if e.Skills == nil {
		e.Skills = []EngineerSkill{}
	}
	return e, err
}

func (in EngineerInput) validate() (engineerFields, error) {
	var errs valid.Errors
	f := engineerFields{
		userID:     errs.UUID("user_id", in.UserID),
		homeBase:   errs.Point("home_base", in.HomeBase),
		calendarID: errs.UUID("calendar_id", in.CalendarID),
		capacity:   defaultCapacity,
		skillIDs:   make([]uuid.UUID, 0, len(in.SkillIDs)),
	}
	if in.Capacity != nil {
		f.capacity = *in.Capacity
		errs.Check(f.capacity >= 1 && f.capacity <= maxCapacity, "capacity", fmt.Sprintf("must be from 1 to %d", maxCapacity))
	}
	errs.Check(len(in.SkillIDs) <= maxEngineerSkills, "skill_ids", fmt.Sprintf("must list at most %d skills", maxEngineerSkills))
	seen := make(map[uuid.UUID]bool, len(in.SkillIDs))
	for i, s := range in.SkillIDs {
		field := fmt.Sprintf("skill_ids[%d]", i)
		id := errs.UUID(field, s)
		if _, bad := errs[field]; bad {
			continue
		}
		errs.Check(!seen[id], field, "is listed twice")
		seen[id] = true
		f.skillIDs = append(f.skillIDs, id)
	}
	return f, errs.Err()
}

// CreateEngineer makes a user with the engineer role an engineer.
func (s *Service) CreateEngineer(ctx context.Context, in EngineerInput) (Engineer, error) {
	f, err := in.validate()
	if err != nil {
		return Engineer{}, err
	}
	id := uuid.Must(uuid.NewV7())
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := checkEngineerUser(ctx, tx, f.userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO engineers (id, user_id, home_base, calendar_id, capacity) VALUES ($1, $2, $3, $4, $5)`,
			id, f.userID, f.homeBase, f.calendarID, f.capacity)
		if err != nil {
			return postgres.MapError(err)
		}
		return insertEngineerSkills(ctx, tx, id, f.skillIDs)
	})
	if err != nil {
		return Engineer{}, fmt.Errorf("catalog: create engineer: %w", err)
	}
	return s.GetEngineer(ctx, id)
}

// UpdateEngineer replaces an engineer's details and their whole skill set. The last
// location stays as the mobile app reported it.
func (s *Service) UpdateEngineer(ctx context.Context, id uuid.UUID, in EngineerInput) (Engineer, error) {
	f, err := in.validate()
	if err != nil {
		return Engineer{}, err
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM engineers WHERE id = $1 FOR UPDATE`, id).Scan(&one)
		if postgres.ErrNoRows(err) {
			return apperr.New(apperr.NotFound, "engineer %s not found", id)
		}
		if err != nil {
			return postgres.MapError(err)
		}
		if err := checkEngineerUser(ctx, tx, f.userID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE engineers SET user_id = $2, home_base = $3, calendar_id = $4, capacity = $5 WHERE id = $1`,
			id, f.userID, f.homeBase, f.calendarID, f.capacity)
		if err := postgres.Affected(tag, err, "engineer", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM engineer_skills WHERE engineer_id = $1`, id); err != nil {
			return postgres.MapError(err)
		}
		return insertEngineerSkills(ctx, tx, id, f.skillIDs)
	})
	if err != nil {
		return Engineer{}, fmt.Errorf("catalog: update engineer: %w", err)
	}
	return s.GetEngineer(ctx, id)
}

// checkEngineerUser makes sure the user exists and has the engineer role, and keeps
// the role from changing until the transaction ends. A missing user and one with
// another role are the same mistake to the caller.
func checkEngineerUser(ctx context.Context, tx pgx.Tx, userID uuid.UUID) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 AND role = 'engineer' FOR SHARE`, userID).Scan(&one)
	if postgres.ErrNoRows(err) {
		return apperr.Field("user_id", "must be a user with the engineer role")
	}
	return postgres.MapError(err)
}

// insertEngineerSkills gives an engineer the skills, in one statement. An unknown skill
// is reported against skill_ids.
func insertEngineerSkills(ctx context.Context, tx pgx.Tx, engineerID uuid.UUID, skillIDs []uuid.UUID) error {
	if len(skillIDs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO engineer_skills (engineer_id, skill_id) SELECT $1, unnest($2::uuid[])`,
		engineerID, skillIDs)
	err = postgres.MapError(err)
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code == apperr.Invalid && ae.Fields["skill_id"] != "" {
		return apperr.Field("skill_ids", "names a skill that does not exist")
	}
	return err
}

var engineers = table[Engineer]{name: "engineers", what: "engineer", alias: "e", sel: engineerSelect, scan: scanEngineer,
	id: func(x Engineer) uuid.UUID { return x.ID }, search: []string{"u.full_name", "u.email"}}

// SetEngineerActive deactivates or reactivates an engineer.
func (s *Service) SetEngineerActive(ctx context.Context, id uuid.UUID, active bool) (Engineer, error) {
	return engineers.setActive(ctx, s.pool, id, active)
}

// GetEngineer returns one engineer with their skills.
func (s *Service) GetEngineer(ctx context.Context, id uuid.UUID) (Engineer, error) {
	return engineers.get(ctx, s.pool, id)
}

// ListEngineers returns a page of engineers, filtered by skill_id (engineers who have
// it), active and q (part of the name or email).
func (s *Service) ListEngineers(ctx context.Context, f Filter, p page.Request) (page.Page[Engineer], error) {
	var w postgres.Where
	if f.SkillID != nil {
		w.Add("EXISTS (SELECT 1 FROM engineer_skills es WHERE es.engineer_id = e.id AND es.skill_id = %s)", *f.SkillID)
	}
	return engineers.list(ctx, s.pool, f, w, p)
}
