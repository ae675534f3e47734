package maintenance

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// A plan's schedule is read on its site's wall clock. robfig/cron, run in a zone with
// daylight saving, skips a 02:30 job on the night the clocks go forward and runs it twice
// on the night they go back. Maintenance is due once on each of those days either way, so
// the cron expression is evaluated on the wall clock alone (in UTC, which has no
// changes) and each wall time is then placed in the zone by instant.

// rule is a parsed cron expression.
type rule struct {
	spec cron.Schedule
	// lastDay keeps only the last day of each month: "L" in the day-of-month field, which
	// robfig/cron lacks and "every month-end" needs.
	lastDay bool
}

var errFrequent = errors.New("comes more often than once an hour")

// parseRule parses a standard 5-field expression or a descriptor (@daily, @weekly,
// @monthly, @yearly) as a plan is saved. Zones come from the site, and @every (a fixed
// period, not a calendar) is what interval plans are for.
func parseRule(expr string) (rule, error) {
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return rule{}, errors.New("takes no time zone: the site's is used")
	}
	if strings.HasPrefix(expr, "@every") {
		return rule{}, errors.New("cannot be @every: use interval_days")
	}
	if f := strings.Fields(expr); len(f) == 5 && f[2] == "L" && f[4] != "*" && f[4] != "?" {
		return rule{}, errors.New("cannot name weekdays with L (the last day of the month)")
	}
	r, err := compileRule(expr)
	if err != nil {
		return rule{}, err
	}
	// Each occurrence is a work order: refuse what would bury the desk in them (and a date
	// that never comes, such as 30 February).
	w := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 100; i++ {
		n := r.nextWall(w)
		if n.IsZero() {
			if i == 0 {
				return rule{}, errors.New("never comes")
			}
			break
		}
		if i > 0 && n.Sub(w) < time.Hour {
			return rule{}, errFrequent
		}
		w = n
	}
	return r, nil
}

// compileRule parses an expression parseRule has accepted.
func compileRule(expr string) (rule, error) {
	var r rule
	if fields := strings.Fields(expr); len(fields) == 5 && fields[2] == "L" {
		fields[2], r.lastDay = "28-31", true
		expr = strings.Join(fields, " ")
	}
	spec, err := cron.ParseStandard(expr)
	r.spec = spec
	return r, err
}

// rules compiles saved expressions once per generator run: plans share a few.
type rules map[string]rule

func (rs rules) get(expr string) (rule, error) {
	if r, ok := rs[expr]; ok {
		return r, nil
	}
	r, err := compileRule(expr)
	if err != nil {
		return r, fmt.Errorf("maintenance: cron %q: %w", expr, err)
	}
	rs[expr] = r
	return r, nil
}

// nextWall returns the first wall time after w that the rule names (w and the result
// are wall clocks written in UTC), or zero when none comes within years.
func (r rule) nextWall(w time.Time) time.Time {
	for {
		w = r.spec.Next(w)
		if w.IsZero() || !r.lastDay || w.AddDate(0, 0, 1).Day() == 1 {
			return w
		}
	}
}

// next returns the first occurrence after t on loc's wall clock, or zero.
func (r rule) next(t time.Time, loc *time.Location) time.Time {
	w := wall(t, loc)
	for {
		w = r.nextWall(w)
		if w.IsZero() {
			return w
		}
		// An hour the clocks skip lands on the hour after it, which may be taken.
		if at := instant(w, loc); at.After(t) {
			return at
		}
	}
}

// wall returns t's wall-clock reading in loc, written in UTC.
func wall(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
}

// instant places a wall-clock reading (written in UTC) in loc. A reading the clocks pass
// twice is the first of them; one they skip moves on by the skip (02:30 on the night
// clocks go from 02:00 to 03:00 is 03:30).
func instant(w time.Time, loc *time.Location) time.Time {
	// The offsets a day either side: zones change at most once within two days.
	_, before := w.Add(-24 * time.Hour).In(loc).Zone()
	_, after := w.Add(24 * time.Hour).In(loc).Zone()
	first := w.Add(-time.Duration(before) * time.Second)
	second := w.Add(-time.Duration(after) * time.Second)
	firstOK, secondOK := wall(first, loc).Equal(w), wall(second, loc).Equal(w)
	switch {
	case firstOK && secondOK && second.Before(first):
		return second
	case firstOK:
		return first
	case secondOK:
		return second
	}
	return first // skipped: read with the offset before the change, it lands after it
}

// afterDays returns the wall time of day (minutes after midnight) days after the local
// date of t, placed in loc: an interval plan's next due time.
func afterDays(t time.Time, days, minutes int, loc *time.Location) time.Time {
	l := t.In(loc)
	w := time.Date(l.Year(), l.Month(), l.Day()+days, 0, minutes, 0, 0, time.UTC)
	return instant(w, loc)
}

// dayStart returns the instant the local date d (written in UTC) begins in loc.
func dayStart(d time.Time, loc *time.Location) time.Time {
	return instant(time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), loc)
}
