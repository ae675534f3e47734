// Package sla does the business-time arithmetic behind ticket SLAs: it adds business
// minutes to an instant and counts the business minutes between two instants under a
// business calendar (weekly working hours, holidays, moved and shortened working days) in a
// time zone. It is pure: no I/O, no database, no clock; callers pass every time in.
//
// # Which hours a date has
//
// A date listed in Spec.Holidays has no working time. A date listed in Spec.WorkingDays has
// that entry's hours instead of its weekday's, whatever the weekday (a Saturday made a
// working day, a shortened day before a holiday; an entry with no hours is a day off). Any
// other date has its weekday's hours; a weekday missing from Spec.WeeklyHours, or with no
// spans, is a day off. A span is "HH:MM" to "HH:MM", half-open: 09:00–18:00 is open at
// 09:00 and closed at 18:00; "24:00" may end a span and means the next midnight.
//
// # Working time is real elapsed time
//
// The hours are wall-clock hours in the Calendar's location (for tickets, the site's time
// zone). Each span's start and end become instants, and the span is the real time between
// them. A wall-clock time becomes the first instant at which the clock in that location
// reaches it (shows it or a later time). Hence, on a day when the clocks change:
//
//   - a 00:00–24:00 span is 23 h (spring forward) or 25 h (fall back) of real time;
//   - a span whose start does not exist (02:30 where the clocks jump from 02:00 to 03:00)
//     starts at the first instant after the gap (03:00); a span wholly inside the gap is
//     empty that day;
//   - the repeated hour when the clocks go back counts twice in a span that covers it
//     (01:00–05:00 is 5 h of real time); a span start or end inside the repeated hour means
//     its first occurrence.
//
// Hours that do not touch the switch (09:00–18:00 in Europe) are 9 h on those days too.
//
// # Instants and minutes
//
// Inputs may be in any location and keep their sub-minute precision: Add(t, 5) for t at
// 09:00:30 inside hours is 09:05:30. Add returns UTC (callers store UTC). Minutes counts
// real seconds of working time and rounds the total down to whole minutes: 90 s inside
// hours is 1 minute. For any t and n ≥ 0, Minutes(t, Add(t, n)) == n.
//
// A deadline that uses up the last minute of a span is that span's end: Add(17:30, 30) on a
// 09:00–18:00 day is 18:00, not the next opening. Add(t, 0) is t when t is inside working
// hours, and the next opening otherwise.
//
// # Cost
//
// Add and Minutes walk the calendar a day at a time, never a minute at a time, converting
// wall-clock times with a cached zone offset, so adding a year of minutes (525,600) on a
// 5/2 calendar takes tens of microseconds. A Calendar is immutable and safe for concurrent
// use.
package sla

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"
	"time"
)

// Spec is a business calendar as stored (the JSON of the calendars table and of the admin
// API, without its time zone: the zone is given to Compile).
type Spec struct {
	// WeeklyHours maps "mon" … "sun" to the day's working spans, in order and not
	// overlapping. A missing or empty day is a day off.
	WeeklyHours map[string][]SpanSpec `json:"weekly_hours"`
	// Holidays are dates ("YYYY-MM-DD") with no working time.
	Holidays []string `json:"holidays"`
	// WorkingDays are dates whose hours replace their weekday's.
	WorkingDays []DaySpec `json:"working_days"`
}

// SpanSpec is a stretch of working time within a day, "HH:MM" to "HH:MM". Start is
// 00:00–23:59; End is 00:01–24:00 and after Start.
type SpanSpec struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// DaySpec is a date ("YYYY-MM-DD") whose working hours replace its weekday's.
type DaySpec struct {
	Date  string     `json:"date"`
	Hours []SpanSpec `json:"hours"`
}

// ErrInvalidSpec is wrapped by every error from Compile.
var ErrInvalidSpec = errors.New("sla: invalid calendar")

// weekdayKeys are the keys of Spec.WeeklyHours, Monday first.
var weekdayKeys = [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// keyWeekday maps weekdayKeys to time.Weekday.
var keyWeekday = map[string]time.Weekday{
	"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday,
	"fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
}

// span is a compiled SpanSpec in minutes after midnight: 0 <= start < end <= 1440.
type span struct{ start, end int32 }

// Calendar is a compiled business calendar in one time zone: the hours are wall-clock
// hours in its location (for tickets, the site's time zone, not the calendar's own: a
// chain uses one 09–18 calendar for shops in several zones).
//
// The zero Calendar is open around the clock, like AlwaysOpen(time.UTC).
type Calendar struct {
	loc    *time.Location // nil only in the zero Calendar
	always bool           // open around the clock
	week   [7][]span      // by time.Weekday
	// days holds the dates whose hours replace their weekday's, by day number (days since
	// 1970-01-01): nil for a holiday. firstDay and lastDay bound its keys.
	days              map[int64][]span
	firstDay, lastDay int64
}

// maxMinutes is the most minutes Add adds: math.MaxInt64 nanoseconds, about 292 years
// around the clock. Add treats larger values as this.
const maxMinutes = math.MaxInt64 / int64(time.Minute)

// AlwaysOpen is open 24×7 in loc (nil means UTC). Add is plain addition of real time and
// Minutes is elapsed real time, whatever the clocks do.
func AlwaysOpen(loc *time.Location) Calendar {
	if loc == nil {
		loc = time.UTC
	}
	return Calendar{loc: loc, always: true}
}

// Compile checks spec and builds the calendar for loc. It refuses a nil loc, a spec with no
// working time in the week (Add would never finish), an unknown weekday key, malformed
// times or dates, spans that end before they start, overlap or are out of order, a date
// listed twice in WorkingDays, and a date that is both a holiday and a working day. A
// holiday listed twice is harmless and accepted. The error wraps ErrInvalidSpec and names
// every problem by its field, e.g. `weekly_hours.mon[1].start`; the Calendar returned with
// it is the zero Calendar (open around the clock) and not meant for use.
func Compile(spec Spec, loc *time.Location) (Calendar, error) {
	var problems []string
	bad := func(field, format string, args ...any) {
		problems = append(problems, field+": "+fmt.Sprintf(format, args...))
	}
	if loc == nil {
		bad("location", "is missing")
	}
	c := Calendar{loc: loc, firstDay: math.MaxInt64, lastDay: math.MinInt64}

	var unknown []string
	for key := range spec.WeeklyHours {
		if _, ok := keyWeekday[key]; !ok {
			unknown = append(unknown, key)
		}
	}
	slices.Sort(unknown)
	for _, key := range unknown {
		bad("weekly_hours."+key, "is not a weekday; use %s", strings.Join(weekdayKeys[:], ", "))
	}
	weekly := 0
	for _, key := range weekdayKeys {
		spans := parseSpans("weekly_hours."+key, spec.WeeklyHours[key], bad)
		c.week[keyWeekday[key]] = spans
		for _, s := range spans {
			weekly += int(s.end - s.start)
		}
	}
	if weekly == 0 && len(unknown) == 0 {
		bad("weekly_hours", "has no working time in the week (at least one weekday needs hours)")
	}

	c.days = make(map[int64][]span, len(spec.Holidays)+len(spec.WorkingDays))
	for i, s := range spec.Holidays {
		if day, ok := parseDate(fmt.Sprintf("holidays[%d]", i), s, bad); ok {
			c.days[day] = nil
		}
	}
	working := make(map[int64]bool, len(spec.WorkingDays))
	for i, wd := range spec.WorkingDays {
		field := fmt.Sprintf("working_days[%d]", i)
		spans := parseSpans(field+".hours", wd.Hours, bad)
		day, ok := parseDate(field+".date", wd.Date, bad)
		if !ok {
			continue
		}
		if working[day] {
			bad(field+".date", "%s is listed twice", wd.Date)
			continue
		}
		if _, holiday := c.days[day]; holiday {
			bad(field+".date", "%s is also a holiday", wd.Date)
			continue
		}
		working[day] = true
		if spans == nil {
			spans = []span{} // present and empty: a day off
		}
		c.days[day] = spans
	}
	for day := range c.days {
		c.firstDay, c.lastDay = min(c.firstDay, day), max(c.lastDay, day)
	}

	if len(problems) > 0 {
		return Calendar{}, fmt.Errorf("%w: %s", ErrInvalidSpec, strings.Join(problems, "; "))
	}
	return c, nil
}

// parseSpans parses one day's spans (field is e.g. weekly_hours.mon), reporting problems
// to bad; it returns the valid spans.
func parseSpans(field string, specs []SpanSpec, bad func(field, format string, args ...any)) []span {
	var spans []span
	prevEnd := int32(-1)
	for i, sp := range specs {
		at := fmt.Sprintf("%s[%d]", field, i)
		start, startOK := clock(sp.Start, false)
		end, endOK := clock(sp.End, true)
		if !startOK {
			bad(at+".start", "%q is not a start time (HH:MM, 00:00 to 23:59)", sp.Start)
		}
		if !endOK {
			bad(at+".end", "%q is not an end time (HH:MM, 00:01 to 24:00)", sp.End)
		}
		switch {
		case !startOK || !endOK:
			prevEnd = -1
			continue
		case start >= end:
			bad(at+".end", "%s is not after the start %s", sp.End, sp.Start)
		case start < prevEnd:
			bad(at+".start", "%s overlaps the previous span or is out of order (spans go in order and do not overlap)", sp.Start)
		default:
			spans = append(spans, span{start, end})
		}
		prevEnd = end
	}
	return spans
}

// clock parses "HH:MM" into minutes after midnight; "24:00" only when end is true.
func clock(s string, end bool) (int32, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h, m := int32(s[0]-'0')*10+int32(s[1]-'0'), int32(s[3]-'0')*10+int32(s[4]-'0')
	minutes := h*60 + m
	switch {
	case m > 59:
		return 0, false
	case end:
		return minutes, minutes > 0 && minutes <= 24*60
	default:
		return minutes, h < 24
	}
}

// parseDate parses "YYYY-MM-DD" into a day number (days since 1970-01-01).
func parseDate(field, s string, bad func(field, format string, args ...any)) (int64, bool) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		bad(field, "%q is not a date (YYYY-MM-DD)", s)
		return 0, false
	}
	return floorDiv(d.Unix(), secondsPerDay), true
}

const secondsPerDay = 24 * 60 * 60

// Add returns the instant, in UTC, when minutes business minutes have passed after t.
// From a moment outside working hours the count starts at the next opening, so Add(t, 0)
// is t when t is inside working hours and the next opening otherwise. Negative minutes
// are a no-op: Add returns t (in UTC) unchanged. Minutes beyond about 292 years around the
// clock (math.MaxInt64 nanoseconds) count as that many.
func (c Calendar) Add(t time.Time, minutes int) time.Time {
	if minutes < 0 {
		return t.UTC()
	}
	rem := time.Duration(min(int64(minutes), maxMinutes)) * time.Minute
	if c.open24() {
		return t.Add(rem).UTC()
	}
	for a, b := range c.intervals(t) {
		d := b.Sub(a)
		if rem <= d {
			return a.Add(rem).UTC()
		}
		rem -= d
	}
	panic("sla: a calendar ran out of working time") // intervals never ends
}

// Minutes returns the business minutes in [from, to): real working time, rounded down to
// whole minutes (90 s inside working hours is 1 minute). It is 0 when to is not after from.
func (c Calendar) Minutes(from, to time.Time) int {
	if !to.After(from) {
		return 0
	}
	if c.open24() {
		secs := to.Unix() - from.Unix()
		if to.Nanosecond() < from.Nanosecond() {
			secs--
		}
		return int(secs / 60)
	}
	minutes, part := 0, time.Duration(0)
	for a, b := range c.intervals(from) {
		if !a.Before(to) {
			break
		}
		if b.After(to) {
			b = to
		}
		part += b.Sub(a)
		minutes += int(part / time.Minute)
		part %= time.Minute
	}
	return minutes
}

// Location is the time zone the calendar's hours are read in.
func (c Calendar) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// IsOpen reports whether t is inside working hours.
func (c Calendar) IsOpen(t time.Time) bool {
	if c.open24() {
		return true
	}
	for a := range c.intervals(t) {
		return a.Equal(t) // the first interval ending after t began at or before t
	}
	panic("sla: a calendar ran out of working time") // intervals never ends
}

func (c *Calendar) open24() bool { return c.always || c.loc == nil }

// intervals yields the stretches of working time [a, b) that end after t, in order, the
// first cut to start no earlier than t. It never ends by itself: Compile ensures working
// time in every week.
func (c *Calendar) intervals(t time.Time) iter.Seq2[time.Time, time.Time] {
	return func(yield func(a, b time.Time) bool) {
		z := zone{loc: c.loc}
		_, off := t.In(c.loc).Zone()
		// Spans of earlier dates end by the first instant showing this date's midnight,
		// which is not after t.
		day := floorDiv(t.Unix()+int64(off), secondsPerDay)
		for ; ; day++ {
			midnight := day * secondsPerDay
			for _, s := range c.hours(day) {
				a := time.Unix(z.instant(midnight+int64(s.start)*60), 0)
				b := time.Unix(z.instant(midnight+int64(s.end)*60), 0)
				if !b.After(t) || !b.After(a) {
					continue // over, or wholly inside a spring-forward gap
				}
				if a.Before(t) {
					a = t
				}
				if !yield(a, b) {
					return
				}
			}
		}
	}
}

// hours returns the working spans of a day number.
func (c *Calendar) hours(day int64) []span {
	if day >= c.firstDay && day <= c.lastDay {
		if spans, ok := c.days[day]; ok {
			return spans
		}
	}
	return c.week[floorMod(day+4, 7)] // 1970-01-01 was a Thursday
}

// zone turns wall-clock times in loc, given as local seconds (seconds since 1970-01-01
// 00:00 on the wall clock), into instants (Unix seconds): the first instant at which the
// clock shows that time or later. It remembers the offset of the last zone period it
// looked up, so most conversions are a subtraction.
type zone struct {
	loc *time.Location
	// For local seconds in [lo, hi) the instant is local - off.
	lo, hi, off int64
}

// slack exceeds the difference between any two UTC offsets (each is under 24 h).
const slack = 2 * secondsPerDay

func (z *zone) instant(local int64) int64 {
	if local >= z.lo && local < z.hi {
		return local - z.off
	}
	// The answer lies within slack of local. Walk the zone periods from there: within one
	// period the wall clock runs evenly, so its first instant showing local or later is
	// max(start, local-off) if that is still inside the period; the first period that has
	// one holds the answer.
	t := local - slack
	for range 1000 {
		zt := time.Unix(t, 0).In(z.loc)
		_, offset := zt.Zone()
		off := int64(offset)
		start, end := bounds(zt)
		if u := max(start, local-off); u < end {
			// local - off is the answer for every local whose local - off lies in
			// [start+slack, end): earlier periods' clocks stay below it.
			z.off = off
			if end == math.MaxInt64 {
				z.hi = math.MaxInt64
			} else {
				z.hi = end + off
			}
			if start == math.MinInt64 {
				z.lo = math.MinInt64
			} else {
				z.lo = start + slack + off
			}
			return u
		}
		t = end
	}
	// Unreachable for real zones; fall back on the offset in force at local.
	_, offset := time.Unix(local, 0).In(z.loc).Zone()
	return local - int64(offset)
}

// bounds returns the Unix seconds of the zone period holding zt, unbounded as the
// extreme int64 values.
func bounds(zt time.Time) (start, end int64) {
	s, e := zt.ZoneBounds()
	start, end = math.MinInt64, math.MaxInt64
	if !s.IsZero() {
		start = s.Unix()
	}
	if !e.IsZero() {
		end = e.Unix()
	}
	return start, end
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }
