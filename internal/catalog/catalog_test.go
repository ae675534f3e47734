package catalog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/page"
)

// ---- fixtures ----

// seq makes names unique within a test database.
var seq atomic.Int64

func next() int64 { return seq.Add(1) }

func ptr[T any](v T) *T { return &v }

func mustService(t *testing.T) (*Service, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.MustPool(t)
	return NewService(pool), pool
}

func mustClient(t *testing.T, s *Service) Client {
	t.Helper()
	c, err := s.CreateClient(t.Context(), ClientInput{Name: fmt.Sprintf("Client %d", next())})
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	return c
}

func weekdays9to18() map[string][]Span {
	week := map[string][]Span{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		week[d] = []Span{{Start: "09:00", End: "13:00"}, {Start: "14:00", End: "18:00"}}
	}
	return week
}

func mustCalendar(t *testing.T, s *Service) Calendar {
	t.Helper()
	c, err := s.CreateCalendar(t.Context(), CalendarInput{
		Name: fmt.Sprintf("Calendar %d", next()), TimeZone: "Europe/Moscow", WeeklyHours: weekdays9to18(),
	})
	if err != nil {
		t.Fatalf("create calendar: %v", err)
	}
	return c
}

func targets(reaction, resolution int) map[string]SLATarget {
	m := map[string]SLATarget{}
	for i, p := range Priorities {
		m[p] = SLATarget{ReactionMinutes: reaction * (len(Priorities) - i), ResolutionMinutes: resolution * (len(Priorities) - i)}
	}
	return m
}

func mustSLAPolicy(t *testing.T, s *Service) SLAPolicy {
	t.Helper()
	p, err := s.CreateSLAPolicy(t.Context(), SLAPolicyInput{Name: fmt.Sprintf("Policy %d", next()), Targets: targets(30, 240)})
	if err != nil {
		t.Fatalf("create sla policy: %v", err)
	}
	return p
}

func contractInput(clientID, policyID, calendarID uuid.UUID) ContractInput {
	return ContractInput{
		ClientID: clientID.String(), Number: fmt.Sprintf("C-%d/26", next()), StartsOn: "2026-01-01",
		SLAPolicyID: policyID.String(), CalendarID: calendarID.String(),
	}
}

func mustContract(t *testing.T, s *Service, clientID, policyID, calendarID uuid.UUID) Contract {
	t.Helper()
	c, err := s.CreateContract(t.Context(), contractInput(clientID, policyID, calendarID))
	if err != nil {
		t.Fatalf("create contract: %v", err)
	}
	return c
}

func siteInput(clientID uuid.UUID) SiteInput {
	return SiteInput{
		ClientID: clientID.String(), Name: fmt.Sprintf("Shop %d", next()), Address: "Tverskaya 1, Moscow",
		Location: geo.Point{Lat: 55.7558, Lng: 37.6173}.Input(), TimeZone: "Europe/Moscow",
	}
}

func mustSite(t *testing.T, s *Service, clientID uuid.UUID) Site {
	t.Helper()
	site, err := s.CreateSite(t.Context(), siteInput(clientID))
	if err != nil {
		t.Fatalf("create site: %v", err)
	}
	return site
}

func mustAsset(t *testing.T, s *Service, siteID uuid.UUID, assetType string) Asset {
	t.Helper()
	a, err := s.CreateAsset(t.Context(), AssetInput{
		SiteID: siteID.String(), AssetType: assetType, Manufacturer: ptr("Carrier"),
		SerialNumber: ptr(fmt.Sprintf("SN-%d-X", next())),
	})
	if err != nil {
		t.Fatalf("create asset: %v", err)
	}
	return a
}

func mustSkill(t *testing.T, s *Service, code string) Skill {
	t.Helper()
	k, err := s.CreateSkill(t.Context(), SkillInput{Code: code, Name: strings.ToUpper(code)})
	if err != nil {
		t.Fatalf("create skill: %v", err)
	}
	return k
}

// mustUser inserts a staff user straight into the table: the catalog only reads users.
func mustUser(t *testing.T, pool *pgxpool.Pool, role string) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	n := next()
	_, err := pool.Exec(t.Context(), `
		INSERT INTO users (id, email, full_name, phone, role, password_hash) VALUES ($1, $2, $3, $4, $5, 'x')`,
		id, fmt.Sprintf("user%d@example.com", n), fmt.Sprintf("User %d.", n), "+7 900 000-00-00", role)
	if err != nil {
		t.Fatalf("insert user: %v", err)
	}
	return id
}

func engineerInput(userID, calendarID uuid.UUID, skills ...uuid.UUID) EngineerInput {
	in := EngineerInput{
		UserID: userID.String(), CalendarID: calendarID.String(), SkillIDs: []string{},
		HomeBase: geo.Point{Lat: 55.75, Lng: 37.61}.Input(),
	}
	for _, k := range skills {
		in.SkillIDs = append(in.SkillIDs, k.String())
	}
	return in
}

func mustEngineer(t *testing.T, s *Service, pool *pgxpool.Pool, calendarID uuid.UUID, skills ...uuid.UUID) Engineer {
	t.Helper()
	e, err := s.CreateEngineer(t.Context(), engineerInput(mustUser(t, pool, "engineer"), calendarID, skills...))
	if err != nil {
		t.Fatalf("create engineer: %v", err)
	}
	return e
}

// mustFieldError checks err is an apperr of the code naming field.
func mustFieldError(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("want %s error on %q, got %v", code, field, err)
	}
	if ae.Code != code {
		t.Fatalf("want code %s on %q, got %v", code, field, err)
	}
	if _, ok := ae.Fields[field]; !ok {
		t.Fatalf("want a problem with %q, got fields %v", field, ae.Fields)
	}
}

func mustCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if got := apperr.CodeOf(err); got != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

// mustPages walks a list two items at a time and checks it yields want, in id order.
func mustPages[T any](t *testing.T, list func(p page.Request) (page.Page[T], error), id func(T) uuid.UUID, want ...uuid.UUID) {
	t.Helper()
	var got []uuid.UUID
	p := page.Request{Limit: 2}
	for pages := 0; ; pages++ {
		if pages > len(want)+1 {
			t.Fatal("paging does not end")
		}
		pg, err := list(p)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, item := range pg.Items {
			got = append(got, id(item))
		}
		if pg.NextCursor == "" {
			break
		}
		after := uuid.MustParse(pg.NextCursor)
		p.After = &after
	}
	want = slices.Clone(want)
	slices.SortFunc(want, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	if !slices.Equal(got, want) {
		t.Fatalf("paged ids\n got %v\nwant %v", got, want)
	}
}

// mustNotFound checks get, update and set-active of an unknown id each answer NotFound.
func mustNotFound[In, Out any](t *testing.T, get func(uuid.UUID) (Out, error),
	update func(uuid.UUID, In) (Out, error), in In, setActive func(uuid.UUID, bool) (Out, error)) {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	_, err := get(id)
	mustCode(t, err, apperr.NotFound)
	_, err = update(id, in)
	mustCode(t, err, apperr.NotFound)
	_, err = setActive(id, false)
	mustCode(t, err, apperr.NotFound)
}

// ---- clients ----

func TestClientTaxIDConflict(t *testing.T) {
	t.Parallel()
	s, _ := mustService(t)
	ctx := t.Context()
	if _, err := s.CreateClient(ctx, ClientInput{Name: "Alpha", TaxID: ptr("7701234567")}); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateClient(ctx, ClientInput{Name: "Beta", TaxID: ptr("7701234567")})
	mustFieldError(t, err, apperr.Conflict, "tax_id")
}

// A client's account manager must be an active manager; it is set and cleared by update.
func TestClientAccountManager(t *testing.T) {
	t.Parallel()
	s, pool := mustService(t)
	ctx := t.Context()
	manager, dispatcher, gone := mustUser(t, pool, "manager"), mustUser(t, pool, "dispatcher"), mustUser(t, pool, "manager")
	if _, err := pool.Exec(ctx, `UPDATE users SET active = false WHERE id = $1`, gone); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{dispatcher.String(), gone.String(), uuid.NewString(), "nobody"} {
		_, err := s.CreateClient(ctx, ClientInput{Name: "Alpha", AccountManagerID: &bad})
		mustFieldError(t, err, apperr.Invalid, "account_manager_id")
	}
	c, err := s.CreateClient(ctx, ClientInput{Name: "Alpha", AccountManagerID: ptr(manager.String())})
	if err != nil || c.AccountManagerID == nil || *c.AccountManagerID != manager {
		t.Fatalf("created %+v, %v", c, err)
	}
	// Once the manager has left, the client still saves with them; another client cannot take them.
	if _, err := pool.Exec(ctx, `UPDATE users SET active = false WHERE id = $1`, manager); err != nil {
		t.Fatal(err)
	}
	if c, err = s.UpdateClient(ctx, c.ID, ClientInput{Name: "Alpha AG", AccountManagerID: ptr(manager.String())}); err != nil ||
		c.Name != "Alpha AG" || c.AccountManagerID == nil {
		t.Fatalf("saved again with a manager who left: %+v, %v", c, err)
	}
	other := mustClient(t, s)
	_, err = s.UpdateClient(ctx, other.ID, ClientInput{Name: other.Name, AccountManagerID: ptr(manager.String())})
	mustFieldError(t, err, apperr.Invalid, "account_manager_id")
	if c, err = s.UpdateClient(ctx, c.ID, ClientInput{Name: "Alpha"}); err != nil || c.AccountManagerID != nil {
		t.Fatalf("cleared: %+v, %v", c, err)
	}
}

// ---- contracts ----

func TestContracts(t *testing.T) {
	t.Parallel()
	s, _ := mustService(t)
	ctx := t.Context()
	client, policy, cal := mustClient(t, s), mustSLAPolicy(t, s), mustCalendar(t, s)

	t.Run("create get update deactivate", func(t *testing.T) {
		in := contractInput(client.ID, policy.ID, cal.ID)
		c, err := s.CreateContract(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if c.DefaultPriority != "normal" || c.StartsOn != "2026-01-01" || c.EndsOn != nil || !c.Active ||
			c.ClientID != client.ID || c.SLAPolicyID != policy.ID || c.CalendarID != cal.ID {
			t.Fatalf("created %+v", c)
		}
		in.EndsOn, in.DefaultPriority, in.Number = ptr("2026-12-31"), "high", "  N-1  "
		c, err = s.UpdateContract(ctx, c.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if c.EndsOn == nil || *c.EndsOn != "2026-12-31" || c.DefaultPriority != "high" || c.Number != "N-1" {
			t.Fatalf("updated %+v", c)
		}
		got, err := s.GetContract(ctx, c.ID)
		if err != nil || got.Number != "N-1" || got.UpdatedAt.Before(got.CreatedAt) {
			t.Fatalf("get %+v, %v", got, err)
		}
		c, err = s.SetContractActive(ctx, c.ID, false)
		if err != nil || c.Active {
			t.Fatalf("deactivate: %+v, %v", c, err)
		}
		c, err = s.SetContractActive(ctx, c.ID, true)
		if err != nil || !c.Active {
			t.Fatalf("reactivate: %+v, %v", c, err)
		}
	})

	t.Run("validation", func(t *testing.T) {
		in := contractInput(client.ID, policy.ID, cal.ID)
		in.StartsOn, in.EndsOn = "2026-05-01", ptr("2026-04-30")
		_, err := s.CreateContract(ctx, in)
		mustFieldError(t, err, apperr.Invalid, "ends_on")

		_, err = s.CreateContract(ctx, ContractInput{ClientID: "nope", StartsOn: "2026-02-30", DefaultPriority: "urgent"})
		for _, f := range []string{"client_id", "number", "starts_on", "sla_policy_id", "calendar_id", "default_priority"} {
			mustFieldError(t, err, apperr.Invalid, f)
		}
	})

	t.Run("unknown references", func(t *testing.T) {
		for field, mutate := range map[string]func(*ContractInput){
			"client_id":     func(in *ContractInput) { in.ClientID = uuid.NewString() },
			"sla_policy_id": func(in *ContractInput) { in.SLAPolicyID = uuid.NewString() },
			"calendar_id":   func(in *ContractInput) { in.CalendarID = uuid.NewString() },
		} {
			in := contractInput(client.ID, policy.ID, cal.ID)
			mutate(&in)
			_, err := s.CreateContract(ctx, in)
			mustFieldError(t, err, apperr.Invalid, field)
		}
	})

	t.Run("number is unique per client", func(t *testing.T) {
		in := contractInput(client.ID, policy.ID, cal.ID)
		if _, err := s.CreateContract(ctx, in); err != nil {
			t.Fatal(err)
		}
		_, err := s.CreateContract(ctx, in)
		mustFieldError(t, err, apperr.Conflict, "number")
		in.ClientID = mustClient(t, s).ID.String()
		if _, err := s.CreateContract(ctx, in); err != nil {
			t.Fatalf("same number, other client: %v", err)
		}
	})

	t.Run("not found", func(t *testing.T) {
		mustNotFound(t, func(id uuid.UUID) (Contract, error) { return s.GetContract(ctx, id) },
			func(id uuid.UUID, in ContractInput) (Contract, error) { return s.UpdateContract(ctx, id, in) },
			contractInput(client.ID, policy.ID, cal.ID),
			func(id uuid.UUID, a bool) (Contract, error) { return s.SetContractActive(ctx, id, a) })
	})

	t.Run("list", func(t *testing.T) {
		other := mustClient(t, s)
		var ids []uuid.UUID
		for range 5 {
			ids = append(ids, mustContract(t, s, other.ID, policy.ID, cal.ID).ID)
		}
		mustPages(t, func(p page.Request) (page.Page[Contract], error) {
			return s.ListContracts(ctx, Filter{ClientID: &other.ID}, p)
		}, func(c Contract) uuid.UUID { return c.ID }, ids...)

		if _, err := s.SetContractActive(ctx, ids[1], false); err != nil {
			t.Fatal(err)
		}
		mustPages(t, func(p page.Request) (page.Page[Contract], error) {
			return s.ListContracts(ctx, Filter{ClientID: &other.ID, Active: ptr(false)}, p)
		}, func(c Contract) uuid.UUID { return c.ID }, ids[1])

		c, _ := s.GetContract(ctx, ids[3])
		mustPages(t, func(p page.Request) (page.Page[Contract], error) {
			return s.ListContracts(ctx, Filter{Query: strings.ToLower(c.Number)}, p)
		}, func(c Contract) uuid.UUID { return c.ID }, ids[3])
	})
}

// ---- SLA policies ----

func TestSLAPolicies(t *testing.T) {
	t.Parallel()
	s, _ := mustService(t)
	ctx := t.Context()

	t.Run("create get update deactivate", func(t *testing.T) {
		p, err := s.CreateSLAPolicy(ctx, SLAPolicyInput{Name: "Gold", Targets: targets(15, 120)})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Targets) != 4 || p.Targets["critical"] != (SLATarget{15, 120}) || p.Targets["low"] != (SLATarget{60, 480}) {
			t.Fatalf("created %+v", p)
		}
		tg := targets(15, 120)
		tg["critical"] = SLATarget{ReactionMinutes: 5, ResolutionMinutes: 5}
		p, err = s.UpdateSLAPolicy(ctx, p.ID, SLAPolicyInput{Name: "Gold+", Targets: tg})
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "Gold+" || p.Targets["critical"] != (SLATarget{5, 5}) || p.Targets["high"] != (SLATarget{30, 240}) {
			t.Fatalf("updated %+v", p)
		}
		p, err = s.SetSLAPolicyActive(ctx, p.ID, false)
		if err != nil || p.Active || len(p.Targets) != 4 {
			t.Fatalf("deactivate %+v, %v", p, err)
		}
		_, err = s.CreateSLAPolicy(ctx, SLAPolicyInput{Name: "gold+", Targets: targets(15, 120)})
		mustFieldError(t, err, apperr.Conflict, "name")
	})

	t.Run("validation", func(t *testing.T) {
		missing := targets(10, 100)
		delete(missing, "high")
		_, err := s.CreateSLAPolicy(ctx, SLAPolicyInput{Name: "x", Targets: missing})
		mustFieldError(t, err, apperr.Invalid, "targets.high")

		backwards := targets(10, 100)
		backwards["normal"] = SLATarget{ReactionMinutes: 60, ResolutionMinutes: 30}
		_, err = s.CreateSLAPolicy(ctx, SLAPolicyInput{Name: "x", Targets: backwards})
		mustFieldError(t, err, apperr.Invalid, "targets.normal.resolution_minutes")

		odd := targets(10, 100)
		odd["urgent"] = SLATarget{1, 1}
		odd["low"] = SLATarget{0, 10}
		_, err = s.CreateSLAPolicy(ctx, SLAPolicyInput{Name: " ", Targets: odd})
		for _, f := range []string{"name", "targets.urgent", "targets.low.reaction_minutes"} {
			mustFieldError(t, err, apperr.Invalid, f)
		}

		long := targets(10, 100)
		long["critical"] = SLATarget{525601, 525601}
		_, err = s.CreateSLAPolicy(ctx, SLAPolicyInput{Name: "x", Targets: long})
		mustFieldError(t, err, apperr.Invalid, "targets.critical.reaction_minutes")

		_, err = s.CreateSLAPolicy(ctx, SLAPolicyInput{Name: "x"})
		mustFieldError(t, err, apperr.Invalid, "targets.low")
	})

	t.Run("not found", func(t *testing.T) {
		mustNotFound(t, func(id uuid.UUID) (SLAPolicy, error) { return s.GetSLAPolicy(ctx, id) },
			func(id uuid.UUID, in SLAPolicyInput) (SLAPolicy, error) { return s.UpdateSLAPolicy(ctx, id, in) },
			SLAPolicyInput{Name: "x", Targets: targets(1, 1)},
			func(id uuid.UUID, a bool) (SLAPolicy, error) { return s.SetSLAPolicyActive(ctx, id, a) })
	})

	t.Run("list", func(t *testing.T) {
		var ids []uuid.UUID
		for i := range 5 {
			p, err := s.CreateSLAPolicy(ctx, SLAPolicyInput{Name: fmt.Sprintf("Listed %d", i), Targets: targets(10, 60)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, p.ID)
		}
		mustPages(t, func(p page.Request) (page.Page[SLAPolicy], error) {
			pg, err := s.ListSLAPolicies(ctx, Filter{Query: "listed"}, p)
			for _, item := range pg.Items {
				if len(item.Targets) != 4 {
					t.Fatalf("listed without targets: %+v", item)
				}
			}
			return pg, err
		}, func(p SLAPolicy) uuid.UUID { return p.ID }, ids...)
	})
}

// ---- calendars ----

func TestCalendars(t *testing.T) {
	t.Parallel()
	s, _ := mustService(t)
	ctx := t.Context()

	t.Run("create get update deactivate", func(t *testing.T) {
		c, err := s.CreateCalendar(ctx, CalendarInput{
			Name: "Moscow office", TimeZone: "Europe/Moscow", WeeklyHours: weekdays9to18(),
			Holidays:    []string{"2026-01-07", "2026-01-01"},
			WorkingDays: []WorkingDay{{Date: "2026-01-10", Hours: []Span{{Start: "10:00", End: "15:00"}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.WeeklyHours) != 7 || len(c.WeeklyHours["sun"]) != 0 || c.WeeklyHours["sun"] == nil ||
			c.WeeklyHours["mon"][1] != (Span{"14:00", "18:00"}) {
			t.Fatalf("weekly hours %+v", c.WeeklyHours)
		}
		if !slices.Equal(c.Holidays, []string{"2026-01-01", "2026-01-07"}) {
			t.Fatalf("holidays %v", c.Holidays)
		}
		if len(c.WorkingDays) != 1 || c.WorkingDays[0].Date != "2026-01-10" || c.WorkingDays[0].Hours[0].End != "15:00" {
			t.Fatalf("working days %+v", c.WorkingDays)
		}

		allDay := map[string][]Span{}
		for _, d := range Weekdays {
			allDay[d] = []Span{{Start: "00:00", End: "24:00"}}
		}
		c, err = s.UpdateCalendar(ctx, c.ID, CalendarInput{Name: "24x7", TimeZone: "Asia/Yekaterinburg", WeeklyHours: allDay})
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "24x7" || c.TimeZone != "Asia/Yekaterinburg" || c.WeeklyHours["sun"][0] != (Span{"00:00", "24:00"}) ||
			len(c.Holidays) != 0 || c.Holidays == nil || len(c.WorkingDays) != 0 || c.WorkingDays == nil {
			t.Fatalf("updated %+v", c)
		}
		c, err = s.SetCalendarActive(ctx, c.ID, false)
		if err != nil || c.Active {
			t.Fatalf("deactivate %+v, %v", c, err)
		}
	})

	t.Run("validation", func(t *testing.T) {
		base := func() CalendarInput {
			return CalendarInput{Name: "x", TimeZone: "Europe/Moscow", WeeklyHours: weekdays9to18()}
		}
		cases := []struct {
			name   string
			mutate func(*CalendarInput)
			fields []string
		}{
			{"unknown day", func(in *CalendarInput) { in.WeeklyHours["monday"] = []Span{{"09:00", "10:00"}} },
				[]string{"weekly_hours.monday"}},
			{"overlapping spans", func(in *CalendarInput) {
				in.WeeklyHours["tue"] = []Span{{"09:00", "13:00"}, {"12:00", "18:00"}}
			}, []string{"weekly_hours.tue[1].start"}},
			{"unsorted spans", func(in *CalendarInput) {
				in.WeeklyHours["wed"] = []Span{{"14:00", "18:00"}, {"09:00", "13:00"}}
			}, []string{"weekly_hours.wed[1].start"}},
			{"24:00 as a start", func(in *CalendarInput) { in.WeeklyHours["sat"] = []Span{{"24:00", "24:00"}} },
				[]string{"weekly_hours.sat[0].start"}},
			{"end before start", func(in *CalendarInput) { in.WeeklyHours["mon"] = []Span{{"18:00", "09:00"}} },
				[]string{"weekly_hours.mon[0].end"}},
			{"malformed times", func(in *CalendarInput) {
				in.WeeklyHours["thu"] = []Span{{"9:00", "12:60"}, {"13:00", "24:01"}, {"+1:00", "00:00"}}
			}, []string{"weekly_hours.thu[0].start", "weekly_hours.thu[0].end", "weekly_hours.thu[1].end",
				"weekly_hours.thu[2].start", "weekly_hours.thu[2].end"}},
			{"holiday also a working day", func(in *CalendarInput) {
				in.Holidays = []string{"2026-03-08"}
				in.WorkingDays = []WorkingDay{{Date: "2026-03-08", Hours: []Span{{"10:00", "14:00"}}}}
			}, []string{"working_days[0].date"}},
			{"bad and repeated holidays", func(in *CalendarInput) {
				in.Holidays = []string{"2026-01-01", "2026-13-01", "2026-01-01"}
			}, []string{"holidays[1]", "holidays[2]"}},
			{"working day without hours", func(in *CalendarInput) {
				in.WorkingDays = []WorkingDay{{Date: "2026-03-07"}, {Date: "2026-03-07", Hours: []Span{{"10:00", "11:00"}}}}
			}, []string{"working_days[0].hours", "working_days[1].date"}},
			{"bad working day span", func(in *CalendarInput) {
				in.WorkingDays = []WorkingDay{{Date: "2026-03-07", Hours: []Span{{"10:00", "11:00"}, {"10:30", "12:00"}}}}
			}, []string{"working_days[0].hours[1].start"}},
			{"bad zone", func(in *CalendarInput) { in.TimeZone = "Mars/Olympus" }, []string{"time_zone"}},
			{"local zone", func(in *CalendarInput) { in.TimeZone = "Local" }, []string{"time_zone"}},
			{"no name", func(in *CalendarInput) { in.Name = "" }, []string{"name"}},
			{"no working time all week", func(in *CalendarInput) { in.WeeklyHours = nil }, []string{"weekly_hours"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				in := base()
				tc.mutate(&in)
				_, err := s.CreateCalendar(ctx, in)
				for _, f := range tc.fields {
					mustFieldError(t, err, apperr.Invalid, f)
				}
				var ae *apperr.Error
				errors.As(err, &ae)
				if len(ae.Fields) != len(tc.fields) {
					t.Fatalf("want problems with %v only, got %v", tc.fields, ae.Fields)
				}
			})
		}
	})

	t.Run("adjacent spans and a day off", func(t *testing.T) {
		c, err := s.CreateCalendar(ctx, CalendarInput{Name: "x", TimeZone: "UTC", WeeklyHours: map[string][]Span{
			"mon": {{"00:00", "12:00"}, {"12:00", "24:00"}}, "sun": nil,
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.WeeklyHours["mon"]) != 2 || len(c.WeeklyHours["tue"]) != 0 {
			t.Fatalf("%+v", c.WeeklyHours)
		}
	})

	t.Run("not found", func(t *testing.T) {
		mustNotFound(t, func(id uuid.UUID) (Calendar, error) { return s.GetCalendar(ctx, id) },
			func(id uuid.UUID, in CalendarInput) (Calendar, error) { return s.UpdateCalendar(ctx, id, in) },
			CalendarInput{Name: "x", TimeZone: "UTC", WeeklyHours: weekdays9to18()},
			func(id uuid.UUID, a bool) (Calendar, error) { return s.SetCalendarActive(ctx, id, a) })
	})

	t.Run("list", func(t *testing.T) {
		var ids []uuid.UUID
		for i := range 5 {
			c, err := s.CreateCalendar(ctx, CalendarInput{Name: fmt.Sprintf("Paged %d", i), TimeZone: "UTC", WeeklyHours: weekdays9to18()})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		mustPages(t, func(p page.Request) (page.Page[Calendar], error) {
			return s.ListCalendars(ctx, Filter{Query: "PAGED", Active: ptr(true)}, p)
		}, func(c Calendar) uuid.UUID { return c.ID }, ids...)
	})
}

// ---- sites ----

func TestSites(t *testing.T) {
	t.Parallel()
	s, pool := mustService(t)
	ctx := t.Context()
	client := mustClient(t, s)

	t.Run("create get update deactivate", func(t *testing.T) {
		site, err := s.CreateSite(ctx, siteInput(client.ID))
		if err != nil {
			t.Fatal(err)
		}
		if site.Location != (geo.Point{Lat: 55.7558, Lng: 37.6173}) || site.ClientID != client.ID || site.TimeZone != "Europe/Moscow" {
			t.Fatalf("created %+v", site)
		}
		in := siteInput(client.ID)
		in.Location, in.ContactName, in.ContactPhone, in.Address = geo.Point{Lat: -33.8688, Lng: 151.2093}.Input(), ptr("Anna"), ptr(""), "Nevsky 2"
		site, err = s.UpdateSite(ctx, site.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if site.Location != (geo.Point{Lat: -33.8688, Lng: 151.2093}) || *site.ContactName != "Anna" ||
			site.ContactPhone != nil || site.Address != "Nevsky 2" {
			t.Fatalf("updated %+v", site)
		}
		site, err = s.SetSiteActive(ctx, site.ID, false)
		if err != nil || site.Active {
			t.Fatalf("deactivate %+v, %v", site, err)
		}
	})

	t.Run("validation", func(t *testing.T) {
		in := siteInput(client.ID)
		in.Location = geo.Point{Lat: 91, Lng: 37}.Input()
		_, err := s.CreateSite(ctx, in)
		mustFieldError(t, err, apperr.Invalid, "location")
		in.Location = geo.Point{Lat: 55, Lng: 181}.Input()
		_, err = s.CreateSite(ctx, in)
		mustFieldError(t, err, apperr.Invalid, "location")

		_, err = s.CreateSite(ctx, SiteInput{TimeZone: "Moscow"})
		for _, f := range []string{"client_id", "name", "address", "location", "time_zone"} {
			mustFieldError(t, err, apperr.Invalid, f)
		}

		in = siteInput(uuid.Must(uuid.NewV7()))
		_, err = s.CreateSite(ctx, in)
		mustFieldError(t, err, apperr.Invalid, "client_id")
	})

	t.Run("a site with tickets stays with its client", func(t *testing.T) {
		site := mustSite(t, s, client.ID)
		_, err := pool.Exec(ctx, `
			INSERT INTO tickets (id, number, client_id, site_id, kind, priority, title)
			VALUES ($1, '2026-000001', $2, $3, 'incident', 'normal', 'Fridge is warm')`,
			uuid.Must(uuid.NewV7()), client.ID, site.ID)
		if err != nil {
			t.Fatal(err)
		}
		in := siteInput(mustClient(t, s).ID)
		_, err = s.UpdateSite(ctx, site.ID, in)
		mustFieldError(t, err, apperr.Conflict, "client_id")
		in.ClientID = client.ID.String()
		if _, err := s.UpdateSite(ctx, site.ID, in); err != nil {
			t.Fatalf("update without moving: %v", err)
		}
	})

	t.Run("not found", func(t *testing.T) {
		mustNotFound(t, func(id uuid.UUID) (Site, error) { return s.GetSite(ctx, id) },
			func(id uuid.UUID, in SiteInput) (Site, error) { return s.UpdateSite(ctx, id, in) },
			siteInput(client.ID),
			func(id uuid.UUID, a bool) (Site, error) { return s.SetSiteActive(ctx, id, a) })
	})

	t.Run("list", func(t *testing.T) {
		other := mustClient(t, s)
		var ids []uuid.UUID
		for range 5 {
			ids = append(ids, mustSite(t, s, other.ID).ID)
		}
		mustPages(t, func(p page.Request) (page.Page[Site], error) {
			return s.ListSites(ctx, Filter{ClientID: &other.ID}, p)
		}, func(s Site) uuid.UUID { return s.ID }, ids...)

		in := siteInput(other.ID)
		in.Address = "Lenina 100% street"
		odd, err := s.CreateSite(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		mustPages(t, func(p page.Request) (page.Page[Site], error) {
			return s.ListSites(ctx, Filter{Query: "100%"}, p)
		}, func(s Site) uuid.UUID { return s.ID }, odd.ID)
	})
}

// ---- assets ----

func TestAssets(t *testing.T) {
	t.Parallel()
	s, _ := mustService(t)
	ctx := t.Context()
	client := mustClient(t, s)
	site := mustSite(t, s, client.ID)

	t.Run("create get update deactivate", func(t *testing.T) {
		a, err := s.CreateAsset(ctx, AssetInput{
			SiteID: site.ID.String(), AssetType: "refrigeration", Manufacturer: ptr("Bitzer"), Model: ptr("4FES-5Y"),
			SerialNumber: ptr("BZ-1"), InstalledOn: ptr("2024-03-01"), WarrantyUntil: ptr("2027-03-01"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if a.ClientID != client.ID || a.SiteID != site.ID || *a.InstalledOn != "2024-03-01" || *a.WarrantyUntil != "2027-03-01" {
			t.Fatalf("created %+v", a)
		}
		other := mustSite(t, s, mustClient(t, s).ID)
		a, err = s.UpdateAsset(ctx, a.ID, AssetInput{SiteID: other.ID.String(), AssetType: "cash_register"})
		if err != nil {
			t.Fatal(err)
		}
		if a.SiteID != other.ID || a.ClientID != other.ClientID || a.AssetType != "cash_register" ||
			a.Manufacturer != nil || a.InstalledOn != nil {
			t.Fatalf("updated %+v", a)
		}
		a, err = s.SetAssetActive(ctx, a.ID, false)
		if err != nil || a.Active {
			t.Fatalf("deactivate %+v, %v", a, err)
		}
	})

	t.Run("validation", func(t *testing.T) {
		_, err := s.CreateAsset(ctx, AssetInput{SiteID: site.ID.String(), AssetType: "Cash Register",
			InstalledOn: ptr("2024-03-01"), WarrantyUntil: ptr("2024-02-01")})
		mustFieldError(t, err, apperr.Invalid, "asset_type")
		mustFieldError(t, err, apperr.Invalid, "warranty_until")

		_, err = s.CreateAsset(ctx, AssetInput{SiteID: uuid.NewString(), AssetType: "hvac"})
		mustFieldError(t, err, apperr.Invalid, "site_id")

		mustAsset(t, s, site.ID, "hvac")
		in := AssetInput{SiteID: site.ID.String(), AssetType: "hvac", Manufacturer: ptr("Daikin"), SerialNumber: ptr("D-1")}
		if _, err := s.CreateAsset(ctx, in); err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateAsset(ctx, in)
		mustFieldError(t, err, apperr.Conflict, "serial_number")
	})

	t.Run("not found", func(t *testing.T) {
		mustNotFound(t, func(id uuid.UUID) (Asset, error) { return s.GetAsset(ctx, id) },
			func(id uuid.UUID, in AssetInput) (Asset, error) { return s.UpdateAsset(ctx, id, in) },
			AssetInput{SiteID: site.ID.String(), AssetType: "hvac"},
			func(id uuid.UUID, a bool) (Asset, error) { return s.SetAssetActive(ctx, id, a) })
	})

	t.Run("list", func(t *testing.T) {
		otherClient := mustClient(t, s)
		s1, s2 := mustSite(t, s, otherClient.ID), mustSite(t, s, otherClient.ID)
		var all, elevators []uuid.UUID
		for i := range 6 {
			siteID, typ := s1.ID, "elevator"
			if i%2 == 1 {
				siteID, typ = s2.ID, "escalator"
			}
			a := mustAsset(t, s, siteID, typ)
			all = append(all, a.ID)
			if typ == "elevator" {
				elevators = append(elevators, a.ID)
			}
		}
		id := func(a Asset) uuid.UUID { return a.ID }
		mustPages(t, func(p page.Request) (page.Page[Asset], error) {
			return s.ListAssets(ctx, Filter{ClientID: &otherClient.ID}, p)
		}, id, all...)
		mustPages(t, func(p page.Request) (page.Page[Asset], error) {
			return s.ListAssets(ctx, Filter{ClientID: &otherClient.ID, Type: "elevator"}, p)
		}, id, elevators...)
		mustPages(t, func(p page.Request) (page.Page[Asset], error) {
			return s.ListAssets(ctx, Filter{SiteID: &s1.ID, Active: ptr(true)}, p)
		}, id, elevators...)
		a, _ := s.GetAsset(ctx, all[4])
		mustPages(t, func(p page.Request) (page.Page[Asset], error) {
			return s.ListAssets(ctx, Filter{Query: strings.ToLower(*a.SerialNumber)}, p)
		}, id, all[4])
	})
}

// ---- skills ----

func TestSkills(t *testing.T) {
	t.Parallel()
	s, _ := mustService(t)
	ctx := t.Context()

	t.Run("create get update deactivate", func(t *testing.T) {
		k, err := s.CreateSkill(ctx, SkillInput{Code: "refrigeration", Name: "Refrigeration"})
		if err != nil {
			t.Fatal(err)
		}
		k, err = s.UpdateSkill(ctx, k.ID, SkillInput{Code: "refrigeration_2", Name: "Refrigeration, level 2"})
		if err != nil || k.Code != "refrigeration_2" {
			t.Fatalf("update %+v, %v", k, err)
		}
		k, err = s.SetSkillActive(ctx, k.ID, false)
		if err != nil || k.Active {
			t.Fatalf("deactivate %+v, %v", k, err)
		}
		_, err = s.CreateSkill(ctx, SkillInput{Code: "refrigeration_2", Name: "Again"})
		mustFieldError(t, err, apperr.Conflict, "code")
		_, err = s.CreateSkill(ctx, SkillInput{Code: "2fast", Name: ""})
		mustFieldError(t, err, apperr.Invalid, "code")
		mustFieldError(t, err, apperr.Invalid, "name")
	})

	t.Run("not found", func(t *testing.T) {
		mustNotFound(t, func(id uuid.UUID) (Skill, error) { return s.GetSkill(ctx, id) },
			func(id uuid.UUID, in SkillInput) (Skill, error) { return s.UpdateSkill(ctx, id, in) },
			SkillInput{Code: "hvac", Name: "HVAC"},
			func(id uuid.UUID, a bool) (Skill, error) { return s.SetSkillActive(ctx, id, a) })
	})

	t.Run("list", func(t *testing.T) {
		var ids []uuid.UUID
		for i := range 5 {
			ids = append(ids, mustSkill(t, s, fmt.Sprintf("paged_%d", i)).ID)
		}
		mustPages(t, func(p page.Request) (page.Page[Skill], error) {
			return s.ListSkills(ctx, Filter{Query: "paged_"}, p)
		}, func(k Skill) uuid.UUID { return k.ID }, ids...)
	})
}

// ---- engineers ----

func TestEngineers(t *testing.T) {
	t.Parallel()
	s, pool := mustService(t)
	ctx := t.Context()
	cal := mustCalendar(t, s)
	hvac, elec, fridge := mustSkill(t, s, "hvac"), mustSkill(t, s, "electrical"), mustSkill(t, s, "refrigeration")

	t.Run("create get update deactivate", func(t *testing.T) {
		userID := mustUser(t, pool, "engineer")
		e, err := s.CreateEngineer(ctx, engineerInput(userID, cal.ID, hvac.ID, elec.ID))
		if err != nil {
			t.Fatal(err)
		}
		if e.UserID != userID || e.Capacity != 5 || e.LastLocation != nil || e.LastLocationAt != nil ||
			e.FullName == "" || e.Email == "" || e.Phone == nil || e.HomeBase != (geo.Point{Lat: 55.75, Lng: 37.61}) {
			t.Fatalf("created %+v", e)
		}
		if codes := skillCodes(e); !slices.Equal(codes, []string{"electrical", "hvac"}) {
			t.Fatalf("skills %v", codes)
		}

		in := engineerInput(userID, cal.ID, fridge.ID, hvac.ID)
		in.Capacity, in.HomeBase = ptr(12), geo.Point{Lat: 59.93, Lng: 30.33}.Input()
		e, err = s.UpdateEngineer(ctx, e.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if codes := skillCodes(e); !slices.Equal(codes, []string{"hvac", "refrigeration"}) || e.Capacity != 12 ||
			e.HomeBase != (geo.Point{Lat: 59.93, Lng: 30.33}) {
			t.Fatalf("updated %+v", e)
		}

		seen := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
		_, err = pool.Exec(ctx, `UPDATE engineers SET last_location = $2, last_location_at = $3 WHERE id = $1`,
			e.ID, geo.Point{Lat: 55.8, Lng: 37.5}, seen)
		if err != nil {
			t.Fatal(err)
		}
		e, err = s.UpdateEngineer(ctx, e.ID, engineerInput(userID, cal.ID))
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Skills) != 0 || e.Skills == nil || e.Capacity != 5 {
			t.Fatalf("skills not replaced: %+v", e)
		}
		if e.LastLocation == nil || *e.LastLocation != (geo.Point{Lat: 55.8, Lng: 37.5}) || !e.LastLocationAt.Equal(seen) {
			t.Fatalf("last location %v at %v", e.LastLocation, e.LastLocationAt)
		}

		e, err = s.SetEngineerActive(ctx, e.ID, false)
		if err != nil || e.Active {
			t.Fatalf("deactivate %+v, %v", e, err)
		}
	})

	t.Run("the user must be an engineer", func(t *testing.T) {
		_, err := s.CreateEngineer(ctx, engineerInput(mustUser(t, pool, "dispatcher"), cal.ID))
		mustFieldError(t, err, apperr.Invalid, "user_id")
		_, err = s.CreateEngineer(ctx, engineerInput(uuid.Must(uuid.NewV7()), cal.ID))
		mustFieldError(t, err, apperr.Invalid, "user_id")

		e := mustEngineer(t, s, pool, cal.ID)
		_, err = s.UpdateEngineer(ctx, e.ID, engineerInput(mustUser(t, pool, "manager"), cal.ID))
		mustFieldError(t, err, apperr.Invalid, "user_id")

		_, err = s.CreateEngineer(ctx, engineerInput(e.UserID, cal.ID))
		mustFieldError(t, err, apperr.Conflict, "user_id")
	})

	t.Run("skills", func(t *testing.T) {
		userID := mustUser(t, pool, "engineer")
		_, err := s.CreateEngineer(ctx, engineerInput(userID, cal.ID, hvac.ID, uuid.Must(uuid.NewV7())))
		mustFieldError(t, err, apperr.Invalid, "skill_ids")

		in := engineerInput(userID, cal.ID, hvac.ID, elec.ID, hvac.ID)
		in.SkillIDs = append(in.SkillIDs, "hvac")
		_, err = s.CreateEngineer(ctx, in)
		mustFieldError(t, err, apperr.Invalid, "skill_ids[2]")
		mustFieldError(t, err, apperr.Invalid, "skill_ids[3]")

		// Nothing of the failed creates was kept: the user can still become an engineer.
		e, err := s.CreateEngineer(ctx, engineerInput(userID, cal.ID, hvac.ID))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.UpdateEngineer(ctx, e.ID, engineerInput(userID, cal.ID, elec.ID, uuid.Must(uuid.NewV7())))
		mustFieldError(t, err, apperr.Invalid, "skill_ids")
		e, err = s.GetEngineer(ctx, e.ID)
		if err != nil || !slices.Equal(skillCodes(e), []string{"hvac"}) {
			t.Fatalf("a failed update changed the skills: %+v, %v", e, err)
		}
	})

	t.Run("validation and references", func(t *testing.T) {
		in := engineerInput(mustUser(t, pool, "engineer"), cal.ID)
		in.Capacity, in.HomeBase = ptr(0), geo.Point{Lat: 10, Lng: -181}.Input()
		_, err := s.CreateEngineer(ctx, in)
		mustFieldError(t, err, apperr.Invalid, "capacity")
		mustFieldError(t, err, apperr.Invalid, "home_base")

		_, err = s.CreateEngineer(ctx, EngineerInput{})
		for _, f := range []string{"user_id", "home_base", "calendar_id"} {
			mustFieldError(t, err, apperr.Invalid, f)
		}

		in = engineerInput(mustUser(t, pool, "engineer"), uuid.Must(uuid.NewV7()))
		_, err = s.CreateEngineer(ctx, in)
		mustFieldError(t, err, apperr.Invalid, "calendar_id")
	})

	t.Run("not found", func(t *testing.T) {
		mustNotFound(t, func(id uuid.UUID) (Engineer, error) { return s.GetEngineer(ctx, id) },
			func(id uuid.UUID, in EngineerInput) (Engineer, error) { return s.UpdateEngineer(ctx, id, in) },
			engineerInput(mustUser(t, pool, "engineer"), cal.ID),
			func(id uuid.UUID, a bool) (Engineer, error) { return s.SetEngineerActive(ctx, id, a) })
	})

	t.Run("list", func(t *testing.T) {
		rare := mustSkill(t, s, "elevators")
		var ids []uuid.UUID
		for range 5 {
			ids = append(ids, mustEngineer(t, s, pool, cal.ID, rare.ID, hvac.ID).ID)
		}
		id := func(e Engineer) uuid.UUID { return e.ID }
		mustPages(t, func(p page.Request) (page.Page[Engineer], error) {
			pg, err := s.ListEngineers(ctx, Filter{SkillID: &rare.ID}, p)
			for _, e := range pg.Items {
				if !slices.Equal(skillCodes(e), []string{"elevators", "hvac"}) {
					t.Fatalf("listed skills %v", skillCodes(e))
				}
			}
			return pg, err
		}, id, ids...)

		e, _ := s.GetEngineer(ctx, ids[2])
		mustPages(t, func(p page.Request) (page.Page[Engineer], error) {
			return s.ListEngineers(ctx, Filter{Query: strings.ToUpper(e.Email)}, p)
		}, id, ids[2])
		mustPages(t, func(p page.Request) (page.Page[Engineer], error) {
			return s.ListEngineers(ctx, Filter{Query: e.FullName, Active: ptr(true)}, p)
		}, id, ids[2])
	})
}

func skillCodes(e Engineer) []string {
	codes := make([]string, 0, len(e.Skills))
	for _, k := range e.Skills {
		codes = append(codes, k.Code)
	}
	return codes
}

func TestMissingCoordinatesAreNotZero(t *testing.T) {
	s := NewService(dbtest.MustPool(t))
	client := mustClient(t, s)
	lat := 55.7
	for field, loc := range map[string]*geo.Input{"location.lng": {Lat: &lat}, "location.lat": {Lng: &lat}} {
		_, err := s.CreateSite(t.Context(), SiteInput{ClientID: client.ID.String(), Name: "Склад",
			Address: "Москва", Location: loc, TimeZone: "Europe/Moscow"})
		var e *apperr.Error
		if !errors.As(err, &e) || e.Fields[field] == "" {
			t.Errorf("a site without %s: got %v, want a field error", field, err)
		}
	}
}

func TestContractDispatchSettings(t *testing.T) {
	s, _ := mustService(t)
	ctx := t.Context()
	client, policy, cal := mustClient(t, s), mustSLAPolicy(t, s), mustCalendar(t, s)
	in := contractInput(client.ID, policy.ID, cal.ID)
	mode, radius := "suggest", 25000
	in.DispatchMode, in.DispatchRadiusM = &mode, &radius
	c, err := s.CreateContract(ctx, in)
	if err != nil || c.DispatchMode == nil || *c.DispatchMode != "suggest" || c.DispatchRadiusM == nil || *c.DispatchRadiusM != 25000 {
		t.Fatalf("contract %+v %v", c, err)
	}
	in.DispatchMode, in.DispatchRadiusM = nil, nil
	if c, err = s.UpdateContract(ctx, c.ID, in); err != nil || c.DispatchMode != nil || c.DispatchRadiusM != nil {
		t.Fatalf("cleared settings %+v %v", c, err)
	}
	bad, zero := "sometimes", 0
	in.DispatchMode, in.DispatchRadiusM = &bad, &zero
	_, err = s.CreateContract(ctx, in)
	var e *apperr.Error
	if !errors.As(err, &e) || e.Fields["dispatch_mode"] == "" || e.Fields["dispatch_radius_m"] == "" {
		t.Fatalf("bad settings: %v", err)
	}
}
