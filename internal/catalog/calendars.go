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
	"fieldsvc/internal/sla"
	"fieldsvc/internal/valid"
)

// Weekdays are the keys of a calendar's weekly hours, Monday first.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// Limits that keep a calendar a calendar.
const (
	maxSpansPerDay  = 48
	maxCalendarDays = 1000 // holidays, and separately working days
)

// Calendar is a business calendar: the working hours of each weekday in the calendar's
// own time zone, holidays, and working days that override the week (a Saturday moved to
// be a working day, a shortened day before a holiday). Around the clock is every day
// [{"start": "00:00", "end": "24:00"}].
type Calendar struct {
	ID          uuid.UUID         `json:"id"`
	Name        string            `json:"name"`
	TimeZone    string            `json:"time_zone"`
	WeeklyHours map[string][]Span `json:"weekly_hours"`
	Holidays    []string          `json:"holidays"`
	WorkingDays []WorkingDay      `json:"working_days"`
	Active      bool              `json:"active"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// Span is a stretch of working time within one day, "HH:MM" to "HH:MM"; the end may be
// "24:00", the day's end.
type Span struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// WorkingDay is a date whose working hours replace the weekday's.
type WorkingDay struct {
	Date  string `json:"date"`
	Hours []Span `json:"hours"`
}

// CalendarInput creates a calendar or replaces it. A weekday missing from WeeklyHours
// is a day off.
type CalendarInput struct {
	Name        string            `json:"name"`
	TimeZone    string            `json:"time_zone"`
	WeeklyHours map[string][]Span `json:"weekly_hours"`
	Holidays    []string          `json:"holidays"`
	WorkingDays []WorkingDay      `json:"working_days"`
}

// calendarFields is a CalendarInput that passed validation, normalised: every weekday
// present, holidays and working days in date order.
type calendarFields struct {
	name, timeZone string
	weeklyHours    map[string][]Span
	holidays       []time.Time
	workingDays    []WorkingDay
}

const calendarSelect = `SELECT k.id, k.name, k.time_zone, k.weekly_hours, k.holidays, k.working_days,
	k.active, k.created_at, k.updated_at FROM calendars k`

func scanCalendar(row pgx.Row) (Calendar, error) {
	var c Calendar
	var holidays []time.Time
	err := row.Scan(&c.ID, &c.Name, &c.TimeZone, &c.WeeklyHours, &holidays, &c.WorkingDays,
		&c.Active, &c.CreatedAt, &c.UpdatedAt)
	c.WeeklyHours = fullWeek(c.WeeklyHours)
	c.Holidays = make([]string, 0, len(holidays))
	for _, d := range holidays {
		c.Holidays = append(c.Holidays, formatDate(d))
	}
	if c.WorkingDays == nil {
		c.WorkingDays = []WorkingDay{}
	}
	for i := range c.WorkingDays {
		if c.WorkingDays[i].Hours == nil {
			c.WorkingDays[i].Hours = []Span{}
		}
	}
	return c, err
}

// fullWeek returns the weekly hours with every weekday present (a day off as []).
func fullWeek(week map[string][]Span) map[string][]Span {
	out := make(map[string][]Span, len(Weekdays))
	for _, day := range Weekdays {
		out[day] = week[day]
		if out[day] == nil {
			out[day] = []Span{}
		}
	}
	return out
}

func (in CalendarInput) validate() (calendarFields, error) {
	var errs valid.Errors
	f := calendarFields{
		name:     errs.Text("name", in.Name, true, 200),
		timeZone: errs.TimeZone("time_zone", strings.TrimSpace(in.TimeZone)),
	}

	for day := range in.WeeklyHours {
		errs.Check(slices.Contains(Weekdays, day), "weekly_hours."+day, "is not a weekday; use "+strings.Join(Weekdays, ", "))
	}
	f.weeklyHours = fullWeek(nil)
	for _, day := range Weekdays {
		if spans := in.WeeklyHours[day]; spans != nil {
			f.weeklyHours[day] = checkSpans(&errs, "weekly_hours."+day, spans)
		}
	}

	errs.Check(len(in.Holidays) <= maxCalendarDays, "holidays", fmt.Sprintf("must list at most %d dates", maxCalendarDays))
	holidays := map[time.Time]bool{}
	for i, s := range in.Holidays {
		field := fmt.Sprintf("holidays[%d]", i)
		d := errs.Date(field, s)
		if _, bad := errs[field]; bad {
			continue
		}
		errs.Check(!holidays[d], field, "is listed twice")
		holidays[d] = true
	}
	f.holidays = make([]time.Time, 0, len(holidays))
	for d := range holidays {
		f.holidays = append(f.holidays, d)
	}
	slices.SortFunc(f.holidays, func(a, b time.Time) int { return a.Compare(b) })

	errs.Check(len(in.WorkingDays) <= maxCalendarDays, "working_days", fmt.Sprintf("must list at most %d days", maxCalendarDays))
	workingDays := map[time.Time]bool{}
	f.workingDays = make([]WorkingDay, 0, len(in.WorkingDays))
	for i, wd := range in.WorkingDays {
		prefix := fmt.Sprintf("working_days[%d]", i)
		dateField := prefix + ".date"
		d := errs.Date(dateField, wd.Date)
		if _, bad := errs[dateField]; !bad {
			errs.Check(!workingDays[d], dateField, "is listed twice")
			errs.Check(!holidays[d], dateField, "is also a holiday")
			workingDays[d] = true
		}
		errs.Check(len(wd.Hours) > 0, prefix+".hours", "needs at least one span of working time")
		f.workingDays = append(f.workingDays, WorkingDay{Date: formatDate(d), Hours: checkSpans(&errs, prefix+".hours", wd.Hours)})
	}
	slices.SortFunc(f.workingDays, func(a, b WorkingDay) int { return strings.Compare(a.Date, b.Date) })
	hasWork := false
	for _, spans := range f.weeklyHours {
		hasWork = hasWork || len(spans) > 0
	}
	errs.Check(hasWork, "weekly_hours", "needs working time on at least one day of the week")
	if len(errs) == 0 { // the SLA clocks must be able to run on whatever is stored
		if _, err := sla.Compile(f.spec(), time.UTC); err != nil {
			errs.Add("weekly_hours", err.Error())
		}
	}
	return f, errs.Err()
}

// spec is the calendar as the SLA engine reads it.
func (f calendarFields) spec() sla.Spec {
	spec := sla.Spec{WeeklyHours: map[string][]sla.SpanSpec{}}
	spans := func(in []Span) []sla.SpanSpec {
		out := make([]sla.SpanSpec, len(in))
		for i, sp := range in {
			out[i] = sla.SpanSpec{Start: sp.Start, End: sp.End}
		}
		return out
	}
	for day, in := range f.weeklyHours {
		spec.WeeklyHours[day] = spans(in)
	}
	for _, d := range f.holidays {
		spec.Holidays = append(spec.Holidays, formatDate(d))
	}
	for _, wd := range f.workingDays {
		spec.WorkingDays = append(spec.WorkingDays, sla.DaySpec{Date: wd.Date, Hours: spans(wd.Hours)})
	}
	return spec
}

// checkSpans checks one day's spans (field is e.g. weekly_hours.mon): each "HH:MM" to
// "HH:MM" with start before end, in order and not overlapping.
func checkSpans(e *valid.Errors, field string, spans []Span) []Span {
	if len(spans) > maxSpansPerDay {
		e.Add(field, fmt.Sprintf("must have at most %d spans", maxSpansPerDay))
	}
	prevEnd := -1
	for i, sp := range spans {
		at := fmt.Sprintf("%s[%d]", field, i)
		start, startOK := clockMinutes(sp.Start, false)
		end, endOK := clockMinutes(sp.End, true)
		e.Check(startOK, at+".start", "must be a time of day from 00:00 to 23:59")
		e.Check(endOK, at+".end", "must be a time of day from 00:01 to 24:00")
		if !startOK || !endOK {
			prevEnd = -1
			continue
		}
		e.Check(start < end, at+".end", "must be after start")
		e.Check(start >= prevEnd, at+".start", "must not be before the previous span's end (spans go in order and do not overlap)")
		prevEnd = end
	}
	if spans == nil {
		return []Span{}
	}
	return spans
}

// clockMinutes parses "HH:MM" into minutes after midnight. "24:00" is allowed only
// when end is true.
func clockMinutes(s string, end bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if m > 59 {
		return 0, false
	}
	minutes := h*60 + m
	if end {
		return minutes, minutes > 0 && minutes <= 24*60
	}
	return minutes, h < 24
}

// CreateCalendar adds a business calendar.
func (s *Service) CreateCalendar(ctx context.Context, in CalendarInput) (Calendar, error) {
	f, err := in.validate()
	if err != nil {
		return Calendar{}, err
	}
	id := uuid.Must(uuid.NewV7())
	_, err = s.pool.Exec(ctx, `
		INSERT INTO calendars (id, name, time_zone, weekly_hours, holidays, working_days)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		id, f.name, f.timeZone, f.weeklyHours, f.holidays, f.workingDays)
	if err != nil {
		return Calendar{}, fmt.Errorf("catalog: create calendar: %w", postgres.MapError(err))
	}
	return s.GetCalendar(ctx, id)
}

// UpdateCalendar replaces a calendar.
func (s *Service) UpdateCalendar(ctx context.Context, id uuid.UUID, in CalendarInput) (Calendar, error) {
	f, err := in.validate()
	if err != nil {
		return Calendar{}, err
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE calendars SET name = $2, time_zone = $3, weekly_hours = $4, holidays = $5, working_days = $6
		WHERE id = $1`,
		id, f.name, f.timeZone, f.weeklyHours, f.holidays, f.workingDays)
	if err := postgres.Affected(tag, err, "calendar", id); err != nil {
		return Calendar{}, fmt.Errorf("catalog: update calendar: %w", err)
	}
	return s.GetCalendar(ctx, id)
}

var calendars = table[Calendar]{name: "calendars", what: "calendar", alias: "k", sel: calendarSelect, scan: scanCalendar,
	id: func(x Calendar) uuid.UUID { return x.ID }, search: []string{"k.name"}}

// SetCalendarActive deactivates or reactivates a calendar.
func (s *Service) SetCalendarActive(ctx context.Context, id uuid.UUID, active bool) (Calendar, error) {
	return calendars.setActive(ctx, s.pool, id, active)
}

// GetCalendar returns one calendar.
func (s *Service) GetCalendar(ctx context.Context, id uuid.UUID) (Calendar, error) {
	return calendars.get(ctx, s.pool, id)
}

// ListCalendars returns a page of calendars, filtered by active and q (part of the name).
func (s *Service) ListCalendars(ctx context.Context, f Filter, p page.Request) (page.Page[Calendar], error) {
	return calendars.list(ctx, s.pool, f, postgres.Where{}, p)
}

// Compiled returns every calendar compiled in its own time zone, by id: engineers'
// shifts as dispatch and the maintenance load read them. A calendar whose zone this
// machine does not know is left out: nobody is on that shift.
func Compiled(ctx context.Context, q postgres.Querier) (map[uuid.UUID]sla.Calendar, error) {
	rows, err := q.Query(ctx, `SELECT id, time_zone, jsonb_build_object('weekly_hours', weekly_hours,
		'holidays', to_jsonb(holidays), 'working_days', working_days) FROM calendars`)
	if err != nil {
		return nil, fmt.Errorf("catalog: calendars: %w", err)
	}
	defer rows.Close()
	cals := map[uuid.UUID]sla.Calendar{}
	for rows.Next() {
		var id uuid.UUID
		var zone string
		var spec sla.Spec
		if err := rows.Scan(&id, &zone, &spec); err != nil {
			return nil, fmt.Errorf("catalog: calendars: %w", err)
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			continue // the catalog checks zones when calendars are saved
		}
		if cal, err := sla.Compile(spec, loc); err == nil {
			cals[id] = cal
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: calendars: %w", err)
	}
	return cals, nil
}
