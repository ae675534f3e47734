package maintenance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Range is a span of calendar dates, [From, To), each read in its site's time zone.
type Range struct {
	From, To time.Time
}

// maxRangeDays bounds a forecast or a report.
const maxRangeDays = 366

// ParseRange checks from and to (YYYY-MM-DD; to is exclusive).
func ParseRange(from, to string) (Range, error) {
	var errs valid.Errors
	r := Range{From: errs.Date("from", from), To: errs.Date("to", to)}
	if err := errs.Err(); err != nil {
		return r, err
	}
	if !r.To.After(r.From) || r.To.Sub(r.From) > maxRangeDays*24*time.Hour {
		return r, apperr.Field("to", fmt.Sprintf("must be after from, within %d days", maxRangeDays))
	}
	return r, nil
}

// ForecastQuery asks for the maintenance calendar of a range.
type ForecastQuery struct {
	Range
	Group    string // day or week (weeks start on Monday)
	By       string // site, skill, or "" for totals
	ClientID *uuid.UUID
	SiteID   *uuid.UUID
	SkillID  *uuid.UUID
}

// Groupings and breakdowns a forecast takes.
var (
	Groups = []string{"day", "week"}
	Bys    = []string{"site", "skill"}
)

// Bucket is the planned work of one day or week, for one site or skill when broken down.
// An occurrence needing two skills counts under both.
type Bucket struct {
	Period string `json:"period"` // the day, or the Monday of the week
	// Key is the site or the skill; absent under skill for work that needs no particular
	// one, and without a breakdown.
	Key         *uuid.UUID `json:"key,omitempty"`
	Name        string     `json:"name,omitempty"`
	Occurrences int        `json:"occurrences"`
	WorkOrders  int        `json:"work_orders"` // of the occurrences, those already made work orders
	Minutes     int        `json:"minutes"`
}

// Forecast is the maintenance calendar of a range.
type Forecast struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Group   string   `json:"group"`
	By      string   `json:"by,omitempty"`
	Buckets []Bucket `json:"buckets"`
}

// maxForecast bounds the occurrences one forecast expands.
const maxForecast = 500_000

// planned is one occurrence in a forecast.
type planned struct {
	day      time.Time // the local date, written in UTC
	site     uuid.UUID
	skills   []uuid.UUID
	minutes  int
	existing bool // already a work order
}

// Forecast expands the occurrences of a range without creating anything: the work
// orders already made (not cancelled), then each active plan's schedule onwards from its
// next due time, interval plans assuming each is done when due.
func (s *Service) Forecast(ctx context.Context, q ForecastQuery) (Forecast, error) {
	list, names, err := s.expand(ctx, q)
	if err != nil {
		return Forecast{}, err
	}
	type key struct {
		period string
		id     uuid.UUID
	}
	sums := map[key]*Bucket{}
	add := func(period string, id *uuid.UUID, o planned) {
		k := key{period: period}
		if id != nil {
			k.id = *id
		}
		b := sums[k]
		if b == nil {
			b = &Bucket{Period: period, Key: id}
			if id != nil {
				b.Name = names[*id]
			}
			sums[k] = b
		}
		b.Occurrences++
		b.Minutes += o.minutes
		if o.existing {
			b.WorkOrders++
		}
	}
	for _, o := range list {
		period := periodOf(o.day, q.Group)
		switch q.By {
		case "site":
			add(period, &o.site, o)
		case "skill":
			if len(o.skills) == 0 {
				add(period, nil, o)
			}
			for _, k := range o.skills {
				if q.SkillID == nil || k == *q.SkillID {
					add(period, &k, o)
				}
			}
		default:
			add(period, nil, o)
		}
	}
	out := Forecast{From: q.From.Format(valid.DateLayout), To: q.To.Format(valid.DateLayout), Group: q.Group, By: q.By,
		Buckets: make([]Bucket, 0, len(sums))}
	for _, b := range sums {
		out.Buckets = append(out.Buckets, *b)
	}
	slices.SortFunc(out.Buckets, func(a, b Bucket) int {
		if c := strings.Compare(a.Period, b.Period); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// periodOf names the day or the week (by its Monday) of a local date.
func periodOf(day time.Time, group string) string {
	if group == "week" {
		day = day.AddDate(0, 0, -(int(day.Weekday())+6)%7)
	}
	return day.Format(valid.DateLayout)
}

// expand lists the occurrences of the query's range and the names of the sites and
// skills they name.
func (s *Service) expand(ctx context.Context, q ForecastQuery) ([]planned, map[uuid.UUID]string, error) {
	var w postgres.Where
	if q.ClientID != nil {
		w.Add("s.client_id = %s", *q.ClientID)
	}
	if q.SiteID != nil {
		w.Add("a.site_id = %s", *q.SiteID)
	}
	if q.SkillID != nil {
		w.Add("EXISTS (SELECT 1 FROM pm_plan_skills k WHERE k.plan_id = p.id AND k.skill_id = %s)", *q.SkillID)
	}
	// Generous instant bounds around the dates, for the index; each date is then read in
	// its site's zone.
	lo, hi := q.From.Add(-26*time.Hour), q.To.Add(26*time.Hour)
	names := map[uuid.UUID]string{}
	var list []planned
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		// One snapshot: a work order made meanwhile is counted once, as made or as planned.
		if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`); err != nil {
			return err
		}
		args := append(w.Args, lo, hi)
		n := len(w.Args)
		rows, err := tx.Query(ctx, fmt.Sprintf(`
			SELECT o.due_at, a.site_id, s.time_zone, p.duration_minutes,
				ARRAY(SELECT k.skill_id FROM pm_plan_skills k WHERE k.plan_id = p.id ORDER BY k.skill_id)
			FROM pm_occurrences o JOIN tickets t ON t.id = o.ticket_id
				JOIN pm_plans p ON p.id = o.plan_id JOIN assets a ON a.id = p.asset_id JOIN sites s ON s.id = a.site_id
			%s o.due_at >= $%d AND o.due_at < $%d AND t.status <> 'cancelled'`, whereOrAnd(w), n+1, n+2), args...)
		if err != nil {
			return err
		}
		var at time.Time
		var site uuid.UUID
		var zone string
		var o planned
		if _, err := pgx.ForEachRow(rows, []any{&at, &site, &zone, &o.minutes, &o.skills}, func() error {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				return err
			}
			if day := localDay(at, loc); !day.Before(q.From) && day.Before(q.To) {
				list = append(list, planned{day: day, site: site, skills: slices.Clone(o.skills), minutes: o.minutes, existing: true})
			}
			return nil
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `
			SELECT p.id, p.cron, p.interval_days, (extract(epoch FROM p.time_of_day) / 60)::int, p.duration_minutes,
				ARRAY(SELECT k.skill_id FROM pm_plan_skills k WHERE k.plan_id = p.id ORDER BY k.skill_id),
				p.starts_on, p.ends_on, p.next_due_at, p.last_due_at, a.site_id, s.time_zone
			FROM pm_plans p JOIN assets a ON a.id = p.asset_id JOIN sites s ON s.id = a.site_id`+
			whereOrAnd(w)+` p.active AND a.active AND s.active`, w.Args...)
		if err != nil {
			return err
		}
		var pr projection
		if _, err := pgx.ForEachRow(rows, []any{&pr.d.id, &pr.d.cron, &pr.d.intervalDays, &pr.d.timeOfDay, &pr.minutes,
			&pr.d.skills, &pr.d.startsOn, &pr.d.endsOn, &pr.d.nextDue, &pr.lastDue, &pr.site, &zone}, func() error {
			if pr.d.loc, err = time.LoadLocation(zone); err != nil {
				return err
			}
			one := []due{pr.d}
			if err := s.compile(one); err != nil {
				return err
			}
			pr.d = one[0]
			pr.project(q.Range, &list)
			if len(list) > maxForecast {
				return apperr.New(apperr.Invalid, "the forecast has more than %d occurrences: narrow the range or filter it", maxForecast)
			}
			return nil
		}); err != nil {
			return err
		}
		return loadNames(ctx, tx, q.By, list, names)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("maintenance: forecast: %w", postgres.MapError(err))
	}
	return list, names, nil
}

func whereOrAnd(w postgres.Where) string {
	if sql := w.SQL(); sql != "" {
		return sql + " AND"
	}
	return " WHERE"
}

// projection is an active plan whose schedule a forecast runs on.
type projection struct {
	d       due
	minutes int
	lastDue *time.Time
	site    uuid.UUID
}

// project appends the plan's occurrences within r that are not work orders yet.
func (pr *projection) project(r Range, list *[]planned) {
	d := &pr.d
	end := dayStart(r.To, d.loc)
	add := func(at time.Time) {
		if day := localDay(at, d.loc); !day.Before(r.From) {
			*list = append(*list, planned{day: day, site: pr.site, skills: d.skills, minutes: pr.minutes})
		}
	}
	if d.intervalDays != nil {
		at := d.nextDue
		if at == nil && pr.lastDue != nil { // waiting for the open one, assumed done when due
			at = ptr(afterDays(*pr.lastDue, *d.intervalDays, d.timeOfDay, d.loc))
		}
		for n := 0; at != nil && at.Before(end) && d.before(*at) && n < maxForecast; n++ {
			add(*at)
			at = ptr(afterDays(*at, *d.intervalDays, d.timeOfDay, d.loc))
		}
		return
	}
	if d.nextDue == nil {
		return
	}
	for at := *d.nextDue; !at.IsZero() && at.Before(end) && d.before(at); at = d.rule.next(at, d.loc) {
		add(at)
	}
}

// localDay is t's date in loc, written in UTC.
func localDay(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// loadNames reads the names of the sites or skills the list's buckets are keyed by.
func loadNames(ctx context.Context, tx pgx.Tx, by string, list []planned, names map[uuid.UUID]string) error {
	var ids []uuid.UUID
	table := "sites"
	for _, o := range list {
		if by == "site" {
			ids = append(ids, o.site)
		} else if by == "skill" {
			ids = append(ids, o.skills...)
			table = "skills"
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	ids = slices.Compact(ids)
	rows, err := tx.Query(ctx, `SELECT id, name FROM `+table+` WHERE id = ANY ($1)`, ids)
	if err != nil {
		return err
	}
	var id uuid.UUID
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		names[id] = name
		return nil
	})
	return err
}
