package maintenance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/catalog"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// LoadRow is a week's planned maintenance for one skill against the working time of the
// active engineers who have it. The row without a skill is work anyone can do, against
// every active engineer.
type LoadRow struct {
	Week           string     `json:"week"` // its Monday
	SkillID        *uuid.UUID `json:"skill_id"`
	SkillName      string     `json:"skill_name,omitempty"`
	Occurrences    int        `json:"occurrences"`
	PlannedMinutes int        `json:"planned_minutes"`
	Engineers      int        `json:"engineers"`
	// ShiftMinutes is the engineers' working time in their shift calendars, less time off.
	ShiftMinutes int `json:"shift_minutes"`
	// Utilisation is planned over shift minutes; null when nobody works that week.
	Utilisation *float64 `json:"utilisation"`
}

// Load is the weekly maintenance load of whole weeks covering the range, by skill.
func (s *Service) Load(ctx context.Context, r Range) ([]LoadRow, error) {
	r.From = r.From.AddDate(0, 0, -(int(r.From.Weekday())+6)%7)
	if wd := (int(r.To.Weekday()) + 6) % 7; wd != 0 {
		r.To = r.To.AddDate(0, 0, 7-wd)
	}
	f, err := s.Forecast(ctx, ForecastQuery{Range: r, Group: "week", By: "skill"})
	if err != nil {
		return nil, err
	}
	shifts, err := s.shiftMinutes(ctx, r)
	if err != nil {
		return nil, err
	}
	rows := map[weekSkill]*LoadRow{}
	for _, b := range f.Buckets {
		k := weekSkill{week: b.Period}
		if b.Key != nil {
			k.skill = *b.Key
		}
		rows[k] = &LoadRow{Week: b.Period, SkillID: b.Key, SkillName: b.Name, Occurrences: b.Occurrences, PlannedMinutes: b.Minutes}
	}
	for k, sh := range shifts {
		row := rows[k]
		if row == nil {
			continue // skills no plan needs are left out
		}
		row.Engineers, row.ShiftMinutes = sh.engineers, sh.minutes
	}
	out := make([]LoadRow, 0, len(rows))
	for _, row := range rows {
		if row.ShiftMinutes > 0 {
			u := float64(row.PlannedMinutes) / float64(row.ShiftMinutes)
			row.Utilisation = &u
		}
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b LoadRow) int {
		if c := strings.Compare(a.Week, b.Week); c != 0 {
			return c
		}
		return strings.Compare(a.SkillName, b.SkillName)
	})
	return out, nil
}

// weekSkill keys the load: a week by its Monday, and a skill (uuid.Nil: any).
type weekSkill struct {
	week  string
	skill uuid.UUID
}

type shift struct{ engineers, minutes int }

// shiftMinutes sums the active engineers' working minutes per week (read in each
// engineer's calendar zone) and skill, uuid.Nil standing for everyone.
func (s *Service) shiftMinutes(ctx context.Context, r Range) (map[weekSkill]shift, error) {
	cals, err := catalog.Compiled(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	// Time off as disjoint periods (range_agg merges overlapping ones), so no minute off
	// is taken away twice.
	rows, err := s.pool.Query(ctx, `
		SELECT e.id, e.calendar_id, coalesce((SELECT array_agg(es.skill_id) FROM engineer_skills es WHERE es.engineer_id = e.id), '{}'),
			coalesce(off.froms, '{}'), coalesce(off.tos, '{}')
		FROM engineers e
			LEFT JOIN LATERAL (SELECT array_agg(lower(p)) AS froms, array_agg(upper(p)) AS tos
				FROM unnest((SELECT range_agg(o.period) FROM engineer_time_off o
					WHERE o.engineer_id = e.id AND o.period && tstzrange($1, $2))) p) off ON true
		WHERE e.active`, r.From.Add(-26*time.Hour), r.To.Add(26*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("maintenance: load: %w", postgres.MapError(err))
	}
	out := map[weekSkill]shift{}
	var id, calendar uuid.UUID
	var skills []uuid.UUID
	var offFrom, offTo []time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &calendar, &skills, &offFrom, &offTo}, func() error {
		cal, ok := cals[calendar]
		if !ok {
			return nil
		}
		loc := cal.Location()
		for week := r.From; week.Before(r.To); week = week.AddDate(0, 0, 7) {
			from, to := dayStart(week, loc), dayStart(week.AddDate(0, 0, 7), loc)
			minutes := cal.Minutes(from, to)
			for i := range offFrom {
				minutes -= cal.Minutes(maxTime(from, offFrom[i]), minTime(to, offTo[i]))
			}
			name := week.Format(valid.DateLayout)
			for _, k := range append([]uuid.UUID{uuid.Nil}, skills...) {
				sh := out[weekSkill{name, k}]
				sh.engineers++
				sh.minutes += max(minutes, 0)
				out[weekSkill{name, k}] = sh
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("maintenance: load: %w", err)
	}
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
