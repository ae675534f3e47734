package sla_test

import (
	"encoding/json"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones do not depend on the host's zone files

	"fieldsvc/internal/sla"
)

var (
	berlin  = mustLoad("Europe/Berlin")    // DST: last Sunday of March 02:00→03:00, of October 03:00→02:00
	newYork = mustLoad("America/New_York") // DST: 2026-03-08 02:00→03:00, 2026-11-01 02:00→01:00
	moscow  = mustLoad("Europe/Moscow")    // no DST since 2014
)

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

const (
	weekdays = "mon tue wed thu fri"
	everyDay = "mon tue wed thu fri sat sun"
)

// spans builds spans from "09:00-13:00" strings.
func spans(ss ...string) []sla.SpanSpec {
	out := make([]sla.SpanSpec, 0, len(ss))
	for _, s := range ss {
		start, end, _ := strings.Cut(s, "-")
		out = append(out, sla.SpanSpec{Start: start, End: end})
	}
	return out
}

// weekly gives each of the (space-separated) days the same spans.
func weekly(days string, ss ...string) map[string][]sla.SpanSpec {
	week := map[string][]sla.SpanSpec{}
	for _, day := range strings.Fields(days) {
		week[day] = spans(ss...)
	}
	return week
}

func compile(t testing.TB, spec sla.Spec, loc *time.Location) sla.Calendar {
	t.Helper()
	c, err := sla.Compile(spec, loc)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return c
}

// at parses a wall-clock time in loc, so that tables read like a calendar:
// "2026-03-27 17:30", with seconds "2026-03-27 09:00:30" (or a fraction), and in the repeated hour when the
// clocks go back with the zone's abbreviation "2026-10-25 02:30 CET". A time the clock never
// shows, or an ambiguous one without abbreviation, fails the test.
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04 MST", "2006-01-02 15:04:05.999999999 MST"} {
		tm, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		if got := tm.In(loc).Format(layout); got != s {
			t.Fatalf("at(%q): the clock in %s never shows it (got %s)", s, loc, got)
		}
		if !strings.HasSuffix(layout, "MST") {
			for _, d := range []time.Duration{-time.Hour, -30 * time.Minute, 30 * time.Minute, time.Hour} {
				if tm.Add(d).In(loc).Format(layout) == s {
					t.Fatalf("at(%q): ambiguous in %s; add the zone abbreviation", s, loc)
				}
			}
		}
		return tm
	}
	t.Fatalf("at(%q): want YYYY-MM-DD HH:MM[:SS][ ZONE]", s)
	return time.Time{}
}

// wall shows an instant on the wall clock of loc, for failure messages.
func wall(tm time.Time, loc *time.Location) string {
	return tm.In(loc).Format("Mon 2006-01-02 15:04:05.999999999 MST")
}

type fixture struct {
	cal sla.Calendar
	loc *time.Location
}

// fixtures are the calendars the tables refer to by name.
func fixtures(t testing.TB) map[string]fixture {
	t.Helper()
	fx := map[string]fixture{}
	add := func(name string, spec sla.Spec, loc *time.Location) {
		fx[name] = fixture{compile(t, spec, loc), loc}
	}
	add("office", sla.Spec{WeeklyHours: weekly(weekdays, "09:00-18:00")}, berlin)
	add("split", sla.Spec{WeeklyHours: weekly(weekdays, "09:00-13:00", "14:00-18:00")}, berlin)
	add("moscow", sla.Spec{
		WeeklyHours: weekly(weekdays, "09:00-18:00"),
		Holidays: []string{"2025-11-03", "2025-11-04", "2025-12-31", "2026-01-01", "2026-01-02", "2026-01-03",
			"2026-01-04", "2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-02-23"},
		WorkingDays: []sla.DaySpec{
			{Date: "2025-11-01", Hours: spans("09:00-18:00")}, // a Saturday, moved working day
			{Date: "2026-02-20", Hours: spans("09:00-17:00")}, // a Friday, shortened before a holiday
		},
	}, moscow)
	add("daily", sla.Spec{WeeklyHours: weekly(everyDay, "09:00-18:00")}, berlin)
	add("night", sla.Spec{WeeklyHours: weekly(everyDay, "01:00-05:00")}, berlin)
	add("night-ny", sla.Spec{WeeklyHours: weekly(everyDay, "00:00-04:00")}, newYork)
	add("gap", sla.Spec{WeeklyHours: weekly(everyDay, "02:30-06:00")}, berlin)
	add("gap-ny", sla.Spec{WeeklyHours: weekly(everyDay, "02:30-06:00")}, newYork)
	add("inside-gap", sla.Spec{WeeklyHours: weekly(everyDay, "02:15-02:45", "09:00-10:00")}, berlin)
	add("24x7-spec", sla.Spec{WeeklyHours: weekly(everyDay, "00:00-24:00")}, berlin)
	fx["24x7"] = fixture{sla.AlwaysOpen(berlin), berlin}
	fx["24x7-ny"] = fixture{sla.AlwaysOpen(newYork), newYork}
	return fx
}

func TestAdd(t *testing.T) {
	fx := fixtures(t)
	tests := []struct {
		name, cal string
		from      string
		minutes   int
		want      string
	}{
		// Nights.
		{"nights", "office", "2026-03-26 17:50", 30, "2026-03-27 09:20"},
		{"before opening", "office", "2026-03-26 07:00", 15, "2026-03-26 09:15"},
		{"ends at closing time", "office", "2026-03-26 17:30", 30, "2026-03-26 18:00"},
		{"from closing time", "office", "2026-03-26 18:00", 30, "2026-03-27 09:30"},
		{"zero inside hours is t", "office", "2026-03-26 10:15:20", 0, "2026-03-26 10:15:20"},
		{"zero at night is the next opening", "office", "2026-03-26 22:00", 0, "2026-03-27 09:00"},
		{"negative is a no-op", "office", "2026-03-26 22:00", -5, "2026-03-26 22:00"},
		{"sub-minute precision", "office", "2026-03-26 09:00:30", 5, "2026-03-26 09:05:30"},
		{"sub-minute precision over night", "office", "2026-03-26 17:59:30", 1, "2026-03-27 09:00:30"},
		// Weekends.
		{"weekends", "office", "2026-03-27 17:30", 60, "2026-03-30 09:30"},
		{"from Saturday", "office", "2026-03-28 11:00", 60, "2026-03-30 10:00"},
		{"a working week", "office", "2026-03-25 12:00", 5 * 540, "2026-04-01 12:00"},
		{"a year of minutes", "office", "2026-01-05 09:00", 525600, "2029-09-27 12:00"},
		// Split days.
		{"split day", "split", "2026-03-26 12:50", 20, "2026-03-26 14:10"},
		{"split day, ends at lunch", "split", "2026-03-26 12:50", 10, "2026-03-26 13:00"},
		{"split day, zero at lunch", "split", "2026-03-26 13:00", 0, "2026-03-26 14:00"},
		// Holidays, moved and shortened days, a zone without DST.
		{"holidays: Dec 31 and the Jan 1-8 block", "moscow", "2025-12-30 17:30", 60, "2026-01-09 09:30"},
		{"holidays: from inside the block", "moscow", "2026-01-05 12:00", 0, "2026-01-09 09:00"},
		{"moved working Saturday", "moscow", "2025-10-31 17:00", 120, "2025-11-01 10:00"},
		{"after the moved Saturday: Sunday and two holidays", "moscow", "2025-11-01 17:30", 60, "2025-11-05 09:30"},
		{"shortened pre-holiday day", "moscow", "2026-02-20 16:30", 60, "2026-02-24 09:30"},
		{"Moscow weekend (no DST)", "moscow", "2026-03-27 17:30", 60, "2026-03-30 09:30"},
		// 24×7: plain addition of real time.
		{"24x7", "24x7", "2026-03-26 23:50", 30, "2026-03-27 00:20"},
		{"24x7 across spring forward", "24x7", "2026-03-28 23:00", 240, "2026-03-29 04:00"},
		{"24x7 across fall back", "24x7", "2026-10-24 23:00", 240, "2026-10-25 02:00 CET"},
		{"24x7 from spans across spring forward", "24x7-spec", "2026-03-28 23:00", 240, "2026-03-29 04:00"},
		{"24x7 from spans across fall back", "24x7-spec", "2026-10-24 23:00", 240, "2026-10-25 02:00 CET"},
		{"24x7 New York across fall back", "24x7-ny", "2026-11-01 00:30", 120, "2026-11-01 01:30 EST"},
		// DST, hours that exclude the switch hour.
		{"spring forward outside hours", "daily", "2026-03-28 17:00", 120, "2026-03-29 10:00"},
		{"fall back outside hours", "daily", "2026-10-24 17:00", 120, "2026-10-25 10:00"},
		// DST, hours that include the switch hour.
		{"spring forward inside hours", "night", "2026-03-29 01:30", 120, "2026-03-29 04:30"},
		{"spring forward inside hours, from before opening", "night", "2026-03-29 00:30", 60, "2026-03-29 03:00"},
		{"spring forward: the night is 3 h", "night", "2026-03-29 01:00", 180, "2026-03-29 05:00"},
		{"fall back inside hours", "night", "2026-10-25 01:30", 120, "2026-10-25 02:30 CET"},
		{"fall back: the repeated hour counts twice", "night", "2026-10-25 02:30 CEST", 60, "2026-10-25 02:30 CET"},
		{"fall back: the night is 5 h", "night", "2026-10-25 01:00", 300, "2026-10-25 05:00"},
		{"New York spring forward inside hours", "night-ny", "2026-03-08 01:00", 120, "2026-03-08 04:00"},
		{"New York fall back inside hours", "night-ny", "2026-11-01 00:30", 120, "2026-11-01 01:30 EST"},
		// Spans that start in the gap or the repeated hour.
		{"span starting inside the spring-forward gap", "gap", "2026-03-29 00:00", 0, "2026-03-29 03:00"},
		{"span starting inside the gap counts from after it", "gap", "2026-03-29 00:00", 60, "2026-03-29 04:00"},
		{"the same span on an ordinary day", "gap", "2026-03-28 00:00", 60, "2026-03-28 03:30"},
		{"New York span starting inside the gap", "gap-ny", "2026-03-08 00:00", 30, "2026-03-08 03:30"},
		{"span wholly inside the gap is empty", "inside-gap", "2026-03-29 00:00", 0, "2026-03-29 09:00"},
		{"the same spans on an ordinary day", "inside-gap", "2026-03-28 00:00", 0, "2026-03-28 02:15"},
		{"span starting in the repeated hour starts at its first occurrence", "gap", "2026-10-25 00:00", 0, "2026-10-25 02:30 CEST"},
		{"span starting in the repeated hour is 4.5 h", "gap", "2026-10-25 00:00", 270, "2026-10-25 06:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fx[tt.cal]
			from, want := at(t, f.loc, tt.from), at(t, f.loc, tt.want)
			got := f.cal.Add(from, tt.minutes)
			if !got.Equal(want) {
				t.Errorf("Add(%s, %d) = %s, want %s", wall(from, f.loc), tt.minutes, wall(got, f.loc), wall(want, f.loc))
			}
			if got.Location() != time.UTC {
				t.Errorf("Add returned a time in %s, want UTC", got.Location())
			}
			if tt.minutes >= 0 {
				if m := f.cal.Minutes(from, got); m != tt.minutes {
					t.Errorf("Minutes(from, Add(from, %d)) = %d", tt.minutes, m)
				}
			}
		})
	}
}

func TestMinutes(t *testing.T) {
	fx := fixtures(t)
	tests := []struct {
		name, cal string
		from, to  string
		want      int
	}{
		{"pauses spanning days: Fri 16:00 to Tue 10:00 is 2h+9h+1h", "office", "2026-03-27 16:00", "2026-03-31 10:00", 720},
		{"from after to", "office", "2026-03-31 10:00", "2026-03-27 16:00", 0},
		{"from equals to", "office", "2026-03-26 10:00", "2026-03-26 10:00", 0},
		{"90 seconds is one minute", "office", "2026-03-26 10:00:00", "2026-03-26 10:01:30", 1},
		{"59 seconds is none", "office", "2026-03-26 10:00:00", "2026-03-26 10:00:59", 0},
		{"nights do not count", "office", "2026-03-26 17:50", "2026-03-27 09:20", 30},
		{"a weekend is nothing", "office", "2026-03-28 10:00", "2026-03-29 10:00", 0},
		{"across lunch", "split", "2026-03-26 12:50", "2026-03-26 14:10", 20},
		{"seconds add up across spans", "split", "2026-03-26 12:59:30", "2026-03-26 14:00:30", 1},
		{"a split day", "split", "2026-03-26 00:00", "2026-03-27 00:00", 480},
		{"holiday block", "moscow", "2025-12-30 17:00", "2026-01-09 10:00", 120},
		{"moved working Saturday", "moscow", "2025-11-01 00:00", "2025-11-02 00:00", 540},
		{"ordinary Saturday", "moscow", "2025-11-08 00:00", "2025-11-09 00:00", 0},
		{"shortened day", "moscow", "2026-02-20 00:00", "2026-02-21 00:00", 480},
		{"Moscow week (no DST)", "moscow", "2026-03-23 00:00", "2026-03-30 00:00", 2700},
		{"24x7 spring-forward day is 23 h", "24x7", "2026-03-29 00:00", "2026-03-30 00:00", 1380},
		{"24x7 fall-back day is 25 h", "24x7", "2026-10-25 00:00", "2026-10-26 00:00", 1500},
		{"24x7 from spans, spring-forward day", "24x7-spec", "2026-03-29 00:00", "2026-03-30 00:00", 1380},
		{"24x7 from spans, fall-back day", "24x7-spec", "2026-10-25 00:00", "2026-10-26 00:00", 1500},
		{"24x7 New York fall-back day", "24x7-ny", "2026-11-01 00:00", "2026-11-02 00:00", 1500},
		{"24x7 rounds down", "24x7", "2026-03-26 10:00:00", "2026-03-26 10:01:59.999", 1},
		{"09-18 on the spring-forward day", "daily", "2026-03-29 00:00", "2026-03-30 00:00", 540},
		{"09-18 on the fall-back day", "daily", "2026-10-25 00:00", "2026-10-26 00:00", 540},
		{"01-05 on the spring-forward day", "night", "2026-03-29 00:00", "2026-03-30 00:00", 180},
		{"01-05 on the fall-back day", "night", "2026-10-25 00:00", "2026-10-26 00:00", 300},
		{"the repeated hour, second time", "night", "2026-10-25 02:00 CET", "2026-10-25 03:00", 60},
		{"New York 00-04 on the spring-forward day", "night-ny", "2026-03-08 00:00", "2026-03-09 00:00", 180},
		{"New York 00-04 on the fall-back day", "night-ny", "2026-11-01 00:00", "2026-11-02 00:00", 300},
		{"02:30-06 on the spring-forward day", "gap", "2026-03-29 00:00", "2026-03-30 00:00", 180},
		{"02:30-06 on an ordinary day", "gap", "2026-03-28 00:00", "2026-03-29 00:00", 210},
		{"02:30-06 on the fall-back day", "gap", "2026-10-25 00:00", "2026-10-26 00:00", 270},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fx[tt.cal]
			from, to := at(t, f.loc, tt.from), at(t, f.loc, tt.to)
			if got := f.cal.Minutes(from, to); got != tt.want {
				t.Errorf("Minutes(%s, %s) = %d, want %d", wall(from, f.loc), wall(to, f.loc), got, tt.want)
			}
		})
	}
}

func TestIsOpen(t *testing.T) {
	fx := fixtures(t)
	tests := []struct {
		name, cal, at string
		want          bool
	}{
		{"at opening", "office", "2026-03-26 09:00", true},
		{"just before opening", "office", "2026-03-26 08:59:59", false},
		{"just before closing", "office", "2026-03-26 17:59:59", true},
		{"at closing", "office", "2026-03-26 18:00", false},
		{"Saturday", "office", "2026-03-28 12:00", false},
		{"lunch", "split", "2026-03-26 13:00", false},
		{"after lunch", "split", "2026-03-26 14:00", true},
		{"holiday", "moscow", "2026-01-05 12:00", false},
		{"moved working Saturday", "moscow", "2025-11-01 12:00", true},
		{"ordinary Saturday", "moscow", "2025-11-08 12:00", false},
		{"shortened day, last minute", "moscow", "2026-02-20 16:59", true},
		{"shortened day, after it", "moscow", "2026-02-20 17:00", false},
		{"just after the spring-forward gap", "night", "2026-03-29 03:00", true},
		{"the repeated hour, first time", "night", "2026-10-25 02:30 CEST", true},
		{"the repeated hour, second time", "night", "2026-10-25 02:30 CET", true},
		{"span starting in the gap, before it", "gap", "2026-03-29 01:59", false},
		{"span starting in the gap, right after it", "gap", "2026-03-29 03:00", true},
		{"span starting in the repeated hour, before its first 02:30", "gap", "2026-10-25 02:15 CEST", false},
		{"span starting in the repeated hour runs through the second time round", "gap", "2026-10-25 02:15 CET", true},
		{"24x7 at night", "24x7", "2026-03-29 03:00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fx[tt.cal]
			if got := f.cal.IsOpen(at(t, f.loc, tt.at)); got != tt.want {
				t.Errorf("IsOpen(%s) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestZeroCalendarIsAlwaysOpenUTC(t *testing.T) {
	var zero sla.Calendar
	from := time.Date(2026, 3, 28, 23, 0, 30, 0, berlin)
	if got, want := zero.Add(from, 90), from.Add(90*time.Minute); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Add = %v, want %v in UTC", got, want)
	}
	if got := zero.Minutes(from, from.Add(25*time.Hour+59*time.Second)); got != 1500 {
		t.Errorf("Minutes = %d, want 1500", got)
	}
	if !zero.IsOpen(from) {
		t.Error("IsOpen = false")
	}
	if got := sla.AlwaysOpen(nil).Add(from, 1); !got.Equal(from.Add(time.Minute)) {
		t.Errorf("AlwaysOpen(nil).Add = %v", got)
	}
}

func TestAddHugeMinutesEnds(t *testing.T) {
	f := fixtures(t)["24x7"]
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := f.cal.Add(from, 1<<62); got.Year() < 2300 {
		t.Errorf("Add(1<<62 minutes) = %v, want about 292 years on", got)
	}
}

func TestCompileErrors(t *testing.T) {
	mon := func(ss ...string) map[string][]sla.SpanSpec { return weekly("mon", ss...) }
	office := weekly(weekdays, "09:00-18:00")
	tests := []struct {
		name string
		spec sla.Spec
		loc  *time.Location
		want string // a part of the message
	}{
		{"no working time", sla.Spec{}, berlin, "weekly_hours: has no working time"},
		{"no working time in the week, only working days", sla.Spec{
			WeeklyHours: weekly(everyDay), WorkingDays: []sla.DaySpec{{Date: "2026-01-03", Hours: spans("09:00-18:00")}},
		}, berlin, "weekly_hours: has no working time"},
		{"no location", sla.Spec{WeeklyHours: office}, nil, "location: is missing"},
		{"bad time 25:00", sla.Spec{WeeklyHours: mon("09:00-25:00")}, berlin, `weekly_hours.mon[0].end: "25:00" is not an end time`},
		{"bad start 25:00", sla.Spec{WeeklyHours: mon("25:00-26:00")}, berlin, `weekly_hours.mon[0].start: "25:00" is not a start time`},
		{"24:00 as a start", sla.Spec{WeeklyHours: mon("24:00-24:00")}, berlin, `weekly_hours.mon[0].start: "24:00" is not a start time`},
		{"00:00 as an end", sla.Spec{WeeklyHours: mon("00:00-00:00")}, berlin, `weekly_hours.mon[0].end: "00:00" is not an end time`},
		{"minute 60", sla.Spec{WeeklyHours: mon("09:60-18:00")}, berlin, `weekly_hours.mon[0].start: "09:60"`},
		{"no leading zero", sla.Spec{WeeklyHours: mon("9:00-18:00")}, berlin, `weekly_hours.mon[0].start: "9:00"`},
		{"not digits", sla.Spec{WeeklyHours: mon("0a:00-18:00")}, berlin, `weekly_hours.mon[0].start: "0a:00"`},
		{"end before start", sla.Spec{WeeklyHours: mon("18:00-09:00")}, berlin, "weekly_hours.mon[0].end: 09:00 is not after the start 18:00"},
		{"empty span", sla.Spec{WeeklyHours: mon("09:00-09:00")}, berlin, "weekly_hours.mon[0].end: 09:00 is not after"},
		{"overlapping spans", sla.Spec{WeeklyHours: mon("09:00-13:00", "12:00-18:00")}, berlin, "weekly_hours.mon[1].start: 12:00 overlaps"},
		{"spans out of order", sla.Spec{WeeklyHours: mon("14:00-18:00", "09:00-13:00")}, berlin, "weekly_hours.mon[1].start: 09:00 overlaps the previous span or is out of order"},
		{"unknown weekday key mo", sla.Spec{WeeklyHours: map[string][]sla.SpanSpec{"mo": spans("09:00-18:00")}}, berlin, "weekly_hours.mo: is not a weekday"},
		{"capitalised weekday key", sla.Spec{WeeklyHours: map[string][]sla.SpanSpec{"Mon": spans("09:00-18:00"), "tue": spans("09:00-18:00")}}, berlin, "weekly_hours.Mon: is not a weekday"},
		{"bad date", sla.Spec{WeeklyHours: office, Holidays: []string{"2026-02-30"}}, berlin, `holidays[0]: "2026-02-30" is not a date`},
		{"short year", sla.Spec{WeeklyHours: office, Holidays: []string{"26-01-01"}}, berlin, `holidays[0]: "26-01-01" is not a date`},
		{"bad working day date", sla.Spec{WeeklyHours: office, WorkingDays: []sla.DaySpec{{Date: "2026-13-01", Hours: spans("09:00-18:00")}}}, berlin, `working_days[0].date: "2026-13-01" is not a date`},
		{"bad working day hours", sla.Spec{WeeklyHours: office, WorkingDays: []sla.DaySpec{{Date: "2026-01-03", Hours: spans("09:00-25:00")}}}, berlin, `working_days[0].hours[0].end: "25:00"`},
		{"holiday also a working day", sla.Spec{WeeklyHours: office, Holidays: []string{"2026-01-03"},
			WorkingDays: []sla.DaySpec{{Date: "2026-01-03", Hours: spans("09:00-18:00")}}}, berlin, "working_days[0].date: 2026-01-03 is also a holiday"},
		{"working day listed twice", sla.Spec{WeeklyHours: office, WorkingDays: []sla.DaySpec{
			{Date: "2026-01-03", Hours: spans("09:00-18:00")}, {Date: "2026-01-03", Hours: spans("10:00-12:00")}}}, berlin, "working_days[1].date: 2026-01-03 is listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sla.Compile(tt.spec, tt.loc)
			if !errors.Is(err, sla.ErrInvalidSpec) {
				t.Fatalf("Compile error = %v, want one wrapping ErrInvalidSpec", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCompileReportsEveryProblem(t *testing.T) {
	_, err := sla.Compile(sla.Spec{
		WeeklyHours: weekly("mon tue", "09:00-25:00"),
		Holidays:    []string{"2026-01-01", "nope"},
	}, berlin)
	for _, want := range []string{"weekly_hours.mon[0].end", "weekly_hours.tue[0].end", "holidays[1]", "no working time"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile error = %v, want it to mention %s", err, want)
		}
	}
}

func TestCompileAccepts(t *testing.T) {
	tests := []struct {
		name   string
		spec   sla.Spec
		at     string
		isOpen bool
	}{
		{"missing days are days off", sla.Spec{WeeklyHours: weekly("mon", "09:00-18:00")}, "2026-03-24 10:00", false},
		{"empty days are days off", sla.Spec{WeeklyHours: map[string][]sla.SpanSpec{"mon": spans("09:00-18:00"), "tue": {}}}, "2026-03-24 10:00", false},
		{"24:00 ends a span", sla.Spec{WeeklyHours: weekly("mon", "22:00-24:00")}, "2026-03-23 23:59:59", true},
		{"touching spans", sla.Spec{WeeklyHours: weekly("mon", "09:00-13:00", "13:00-18:00")}, "2026-03-23 13:00", true},
		{"a holiday listed twice", sla.Spec{WeeklyHours: weekly("mon", "09:00-18:00"), Holidays: []string{"2026-03-23", "2026-03-23"}}, "2026-03-23 10:00", false},
		{"a working day with no hours is a day off", sla.Spec{WeeklyHours: weekly("mon", "09:00-18:00"),
			WorkingDays: []sla.DaySpec{{Date: "2026-03-23"}}}, "2026-03-23 10:00", false},
		{"a holiday before 1970", sla.Spec{WeeklyHours: weekly("mon", "09:00-18:00"), Holidays: []string{"1965-03-22"}}, "1965-03-22 10:00", false},
		{"a working day before 1970", sla.Spec{WeeklyHours: weekly("mon", "09:00-18:00"),
			WorkingDays: []sla.DaySpec{{Date: "1965-03-23", Hours: spans("09:00-18:00")}}}, "1965-03-23 10:00", true},
		{"a working day replaces the weekday's hours", sla.Spec{WeeklyHours: weekly("mon", "09:00-18:00"),
			WorkingDays: []sla.DaySpec{{Date: "2026-03-23", Hours: spans("12:00-13:00")}}}, "2026-03-23 10:00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, tt.spec, berlin)
			if got := c.IsOpen(at(t, berlin, tt.at)); got != tt.isOpen {
				t.Errorf("IsOpen(%s) = %v, want %v", tt.at, got, tt.isOpen)
			}
		})
	}
}

// TestSpecJSON decodes a calendar as the admin API and the calendars table hold it.
func TestSpecJSON(t *testing.T) {
	const stored = `{"id": "0190f0c4-0000-7000-8000-000000000000", "name": "Moscow office", "time_zone": "Europe/Moscow",
		"weekly_hours": {"mon": [{"start": "09:00", "end": "13:00"}, {"start": "14:00", "end": "18:00"}],
			"tue": [], "wed": [], "thu": [], "fri": [], "sat": [], "sun": []},
		"holidays": ["2026-03-30"], "working_days": [{"date": "2026-03-28", "hours": [{"start": "10:00", "end": "12:00"}]}]}`
	var spec sla.Spec
	if err := json.Unmarshal([]byte(stored), &spec); err != nil {
		t.Fatal(err)
	}
	c := compile(t, spec, moscow)
	// Saturday 11:00 (working day) + 90: 60 on Saturday, Monday the 30th is a holiday,
	// then Monday April 6th 09:00 + 30.
	if got, want := c.Add(at(t, moscow, "2026-03-28 11:00"), 90), at(t, moscow, "2026-04-06 09:30"); !got.Equal(want) {
		t.Errorf("Add = %s, want %s", wall(got, moscow), wall(want, moscow))
	}
}

// addMinuteWalk is the obvious Add: step a minute at a time and count the open minutes.
// It agrees with Add when t and every boundary fall on whole minutes.
func addMinuteWalk(c sla.Calendar, t time.Time, minutes int) time.Time {
	for !c.IsOpen(t) {
		t = t.Add(time.Minute)
	}
	for ; minutes > 0; t = t.Add(time.Minute) {
		if c.IsOpen(t) {
			minutes--
		}
	}
	return t.UTC()
}

// wallOpen is IsOpen read off the wall clock: the instant is open when its local time of
// day is inside one of its local date's spans. It agrees with IsOpen except in the
// repeated hour when the clocks go back, where a wall time names two instants.
func wallOpen(spec sla.Spec, loc *time.Location, t time.Time) bool {
	w := t.In(loc)
	date := w.Format(time.DateOnly)
	hours := spec.WeeklyHours[strings.ToLower(w.Weekday().String()[:3])]
	if slices.Contains(spec.Holidays, date) {
		hours = nil
	}
	for _, wd := range spec.WorkingDays {
		if wd.Date == date {
			hours = wd.Hours
		}
	}
	clockSeconds := func(s string) int {
		tm, _ := time.Parse("15:04", strings.Replace(s, "24:00", "00:00", 1))
		if s == "24:00" {
			return 24 * 3600
		}
		return tm.Hour()*3600 + tm.Minute()*60
	}
	sec := w.Hour()*3600 + w.Minute()*60 + w.Second()
	for _, s := range hours {
		if clockSeconds(s.Start) <= sec && sec < clockSeconds(s.End) {
			return true
		}
	}
	return false
}

// ambiguous reports whether the wall time of t in loc is shown at another instant too.
func ambiguous(t time.Time, loc *time.Location) bool {
	_, off := t.In(loc).Zone()
	local := t.Unix() + int64(off)
	seen := map[int]bool{off: true}
	for h := -48; h <= 48; h++ {
		_, o := t.Add(time.Duration(h) * time.Hour).In(loc).Zone()
		if seen[o] {
			continue
		}
		seen[o] = true
		if _, o2 := time.Unix(local-int64(o), 0).In(loc).Zone(); o2 == o {
			return true
		}
	}
	return false
}

// Zones for the properties: DST in both hemispheres, 30- and 45-minute offsets and
// switches, switches at midnight (Sao Paulo, Tehran), a skipped day (Apia, 2011-12-30).
var propertyZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Europe/Moscow", "Australia/Lord_Howe",
	"America/Sao_Paulo", "Pacific/Apia", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham", "Asia/Tehran"}

var (
	rangeStart = time.Date(2009, 1, 1, 0, 0, 0, 0, time.UTC)
	rangeEnd   = time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
)

// transitions lists the instants at which loc changes offset between rangeStart and rangeEnd.
func transitions(loc *time.Location) []time.Time {
	var out []time.Time
	for t := rangeStart; t.Before(rangeEnd); {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() {
			break
		}
		out = append(out, end)
		t = end
	}
	return out
}

func randomSpans(r *rand.Rand) []sla.SpanSpec {
	switch r.IntN(6) {
	case 0:
		return nil
	case 1:
		return spans("00:00-24:00")
	}
	marks := map[int]bool{}
	for k := 1 + r.IntN(3); len(marks) < 2*k; {
		m := r.IntN(24*60 + 1)
		if r.IntN(2) == 0 {
			m = m / 60 * 60 // whole hours meet the switches
		}
		marks[m] = true
	}
	sorted := slices.Sorted(maps.Keys(marks))
	clock := func(m int) string { return time.Date(2000, 1, 1, 0, m, 0, 0, time.UTC).Format("15:04") }
	var out []sla.SpanSpec
	for i := 0; i < len(sorted); i += 2 {
		end := clock(sorted[i+1])
		if sorted[i+1] == 24*60 {
			end = "24:00"
		}
		out = append(out, sla.SpanSpec{Start: clock(sorted[i]), End: end})
	}
	return out
}

// randomSpec is a calendar with holidays and working days within 20 days of base.
func randomSpec(r *rand.Rand, base time.Time) sla.Spec {
	spec := sla.Spec{WeeklyHours: map[string][]sla.SpanSpec{}}
	for _, day := range strings.Fields(everyDay) {
		spec.WeeklyHours[day] = randomSpans(r)
	}
	if _, err := sla.Compile(spec, time.UTC); err != nil {
		spec.WeeklyHours["mon"] = spans("09:00-17:00")
	}
	used := map[string]bool{}
	date := func() string { return base.AddDate(0, 0, r.IntN(41)-20).Format(time.DateOnly) }
	for range r.IntN(6) {
		if d := date(); !used[d] {
			used[d] = true
			spec.Holidays = append(spec.Holidays, d)
		}
	}
	for range r.IntN(4) {
		if d := date(); !used[d] {
			used[d] = true
			spec.WorkingDays = append(spec.WorkingDays, sla.DaySpec{Date: d, Hours: randomSpans(r)})
		}
	}
	return spec
}

// TestProperties checks random calendars in random zones, around random instants and
// around the zones' offset changes: the round trip Minutes(t, Add(t, n)) == n, IsOpen
// against the wall clock, Add against the minute walk, and the shape of Add(t, 0).
func TestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 3))
	calendars, samples := 120, 25
	if testing.Short() {
		calendars = 20
	}
	for i := range calendars {
		loc := mustLoad(propertyZones[i%len(propertyZones)])
		switches := transitions(loc)
		base := rangeStart.Add(time.Duration(r.Int64N(int64(rangeEnd.Sub(rangeStart)))))
		if len(switches) > 0 && r.IntN(3) > 0 {
			base = switches[r.IntN(len(switches))]
		}
		spec := randomSpec(r, base)
		c := compile(t, spec, loc)
		for range samples {
			from := base.Add(time.Duration(r.Int64N(int64(40*24*time.Hour))) - 20*24*time.Hour)
			if r.IntN(4) == 0 {
				from = from.Truncate(time.Hour)
			}
			fail := func(format string, args ...any) {
				t.Helper()
				t.Fatalf("%s, spec %+v, from %s: "+format, append([]any{loc, spec, wall(from, loc)}, args...)...)
			}

			open := c.IsOpen(from)
			if !ambiguous(from, loc) && open != wallOpen(spec, loc, from) {
				fail("IsOpen = %v, the wall clock says %v", open, !open)
			}

			opening := c.Add(from, 0)
			switch {
			case opening.Before(from):
				fail("Add(from, 0) = %s is before from", wall(opening, loc))
			case open && !opening.Equal(from):
				fail("open, but Add(from, 0) = %s", wall(opening, loc))
			case !c.IsOpen(opening):
				fail("Add(from, 0) = %s is not open", wall(opening, loc))
			case !open && c.IsOpen(opening.Add(-time.Nanosecond)):
				fail("Add(from, 0) = %s is not the next opening", wall(opening, loc))
			}

			n := r.IntN(3000)
			if r.IntN(5) == 0 {
				n = r.IntN(200000)
			}
			due := c.Add(from, n)
			for _, start := range []time.Time{from, opening} {
				if got := c.Minutes(start, c.Add(start, n)); got != n {
					fail("Minutes(%s, Add(%s, %d)) = %d", wall(start, loc), wall(start, loc), n, got)
				}
			}
			if n > 0 && !c.IsOpen(due.Add(-time.Nanosecond)) {
				fail("the minute before Add(from, %d) = %s is not working time", n, wall(due, loc))
			}
			if next := c.Add(from, n+1); next.Sub(due) < time.Minute {
				fail("Add(from, %d) = %s but Add(from, %d) = %s", n, wall(due, loc), n+1, wall(next, loc))
			}

			mid := from.Add(time.Duration(r.Int64N(int64(due.Sub(from)) + 1)))
			if split := c.Minutes(from, mid) + c.Minutes(mid, due); split != n && split != n-1 {
				fail("Minutes split at %s adds up to %d, want %d (or one less for rounding)", wall(mid, loc), split, n)
			}

			if r.IntN(5) == 0 {
				whole := from.Truncate(time.Minute)
				small := r.IntN(600)
				if got, want := c.Add(whole, small), addMinuteWalk(c, whole, small); !got.Equal(want) {
					fail("Add(%s, %d) = %s, the minute walk says %s", wall(whole, loc), small, wall(got, loc), wall(want, loc))
				}
			}
		}
	}
}

// TestAlwaysOpenMatchesSpans checks that AlwaysOpen and a 00:00–24:00 week agree, across
// the offset changes of several zones.
func TestAlwaysOpenMatchesSpans(t *testing.T) {
	r := rand.New(rand.NewPCG(24, 7))
	for _, name := range propertyZones {
		loc := mustLoad(name)
		always, spans := sla.AlwaysOpen(loc), compile(t, sla.Spec{WeeklyHours: weekly(everyDay, "00:00-24:00")}, loc)
		switches := append(transitions(loc), rangeStart, rangeEnd)
		for range 200 {
			from := switches[r.IntN(len(switches))].Add(time.Duration(r.Int64N(int64(96*time.Hour))) - 48*time.Hour)
			n := r.IntN(5000)
			if a, s := always.Add(from, n), spans.Add(from, n); !a.Equal(s) || !a.Equal(from.Add(time.Duration(n)*time.Minute)) {
				t.Fatalf("%s: Add(%s, %d): AlwaysOpen %s, spans %s", name, wall(from, loc), n, wall(a, loc), wall(s, loc))
			}
			to := from.Add(time.Duration(r.Int64N(int64(96 * time.Hour))))
			if a, s := always.Minutes(from, to), spans.Minutes(from, to); a != s || a != int(to.Sub(from)/time.Minute) {
				t.Fatalf("%s: Minutes(%s, %s): AlwaysOpen %d, spans %d", name, wall(from, loc), wall(to, loc), a, s)
			}
		}
	}
}

// BenchmarkAddYear adds a year of minutes (525,600) on a 5/2 09:00–18:00 calendar: the
// day walk Add does against the minute walk as baseline.
func BenchmarkAddYear(b *testing.B) {
	c := compile(b, sla.Spec{WeeklyHours: weekly(weekdays, "09:00-18:00")}, berlin)
	from := at(b, berlin, "2026-01-05 09:00")
	const year = 525600
	if got, want := c.Add(from, year), addMinuteWalk(c, from, year); !got.Equal(want) {
		b.Fatalf("day walk %s, minute walk %s", got, want)
	}
	b.Run("day-walk", func(b *testing.B) {
		for b.Loop() {
			c.Add(from, year)
		}
	})
	b.Run("baseline-minute-walk", func(b *testing.B) {
		for b.Loop() {
			addMinuteWalk(c, from, year)
		}
	})
}
