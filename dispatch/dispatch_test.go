package dispatch

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/ticket"
)

// fixedNow is a Monday 10:00 in Moscow, inside every day shift below.
var fixedNow = time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)

// field is a test world: one client with a contract, calendars that are on (24×7) and
// off (never on a Monday) now, skills, and helpers to place engineers and file tickets.
type field struct {
	t                *testing.T
	pool             *pgxpool.Pool
	tickets          *ticket.Service
	d                *Service
	client, contract uuid.UUID
	onShift, offDuty uuid.UUID
	skills           []uuid.UUID
}

func newField(t *testing.T, o Options) *field {
	t.Helper()
	pool := dbtest.MustPool(t)
	f := &field{t: t, pool: pool, client: uuid.New(), contract: uuid.New(), onShift: uuid.New(), offDuty: uuid.New()}
	now := func() time.Time { return fixedNow }
	f.tickets = ticket.NewService(pool, ticket.Options{Now: now})
	o.Now = now
	f.d = NewService(pool, f.tickets, o)
	policy := uuid.New()
	all := `[{"start": "00:00", "end": "24:00"}]`
	f.exec(`INSERT INTO calendars (id, name, time_zone, weekly_hours) VALUES
		($1, '24x7', 'Europe/Moscow', jsonb_build_object('mon', $3::jsonb, 'tue', $3::jsonb, 'wed', $3::jsonb,
			'thu', $3::jsonb, 'fri', $3::jsonb, 'sat', $3::jsonb, 'sun', $3::jsonb)),
		($2, 'weekends', 'Europe/Moscow', jsonb_build_object('sat', $3::jsonb, 'sun', $3::jsonb))`, f.onShift, f.offDuty, all)
	f.exec(`INSERT INTO sla_policies (id, name) VALUES ($1, 'P')`, policy)
	f.exec(`INSERT INTO sla_targets (policy_id, priority, reaction_minutes, resolution_minutes)
		SELECT $1, p, 60, 480 FROM unnest('{low,normal,high,critical}'::text[]) p`, policy)
	f.exec(`INSERT INTO clients (id, name) VALUES ($1, 'ООО Клиент')`, f.client)
	f.exec(`INSERT INTO contracts (id, client_id, number, starts_on, sla_policy_id, calendar_id, dispatch_mode)
		VALUES ($1, $2, 'D-1', '2026-01-01', $3, $4, 'auto')`, f.contract, f.client, policy, f.onShift)
	for i := range 4 {
		id := uuid.New()
		f.skills = append(f.skills, id)
		f.exec(`INSERT INTO skills (id, code, name) VALUES ($1, $2, $2)`, id, "skill_"+string(rune('a'+i)))
	}
	return f
}

func (f *field) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.pool.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%v\n%s", err, sql)
	}
}

type engineerSpec struct {
	at       geo.Point
	skills   []uuid.UUID
	capacity int
	calendar uuid.UUID
	load     int // open jobs
}

// engineer places an engineer with a user, reporting from at just now.
func (f *field) engineer(e engineerSpec) uuid.UUID {
	f.t.Helper()
	id, user := uuid.New(), uuid.New()
	if e.capacity == 0 {
		e.capacity = 5
	}
	if e.calendar == uuid.Nil {
		e.calendar = f.onShift
	}
	f.exec(`INSERT INTO users (id, email, full_name, role, password_hash) VALUES ($1, $2, 'Инженер', 'engineer', 'x')`,
		user, user.String()+"@example.com")
	f.exec(`INSERT INTO engineers (id, user_id, home_base, calendar_id, capacity, last_location, last_location_at)
		VALUES ($1, $2, $3, $4, $5, $3, $6)`, id, user, e.at, e.calendar, e.capacity, fixedNow.Add(-time.Minute))
	for _, s := range e.skills {
		f.exec(`INSERT INTO engineer_skills (engineer_id, skill_id) VALUES ($1, $2)`, id, s)
	}
	if e.load > 0 {
		f.exec(`UPDATE engineers SET open_jobs = $2 WHERE id = $1`, id, e.load)
	}
	return id
}

// ticketAt files a ticket at a new site at p needing skills.
func (f *field) ticketAt(p geo.Point, skills ...uuid.UUID) uuid.UUID {
	f.t.Helper()
	site, id := uuid.New(), uuid.New()
	f.exec(`INSERT INTO sites (id, client_id, name, address, location, time_zone) VALUES ($1, $2, 'Точка', 'Адрес', $3, 'Europe/Moscow')`,
		site, f.client, p)
	f.exec(`WITH n AS (INSERT INTO ticket_numbers (year, last) VALUES (2026, 1)
			ON CONFLICT (year) DO UPDATE SET last = ticket_numbers.last + 1 RETURNING last)
		INSERT INTO tickets (id, number, client_id, contract_id, site_id, kind, priority, title)
		SELECT $1, '2026-' || lpad(n.last::text, 6, '0'), $2, $3, $4, 'incident', 'normal', 'Поломка' FROM n`,
		id, f.client, f.contract, site)
	for _, s := range skills {
		f.exec(`INSERT INTO ticket_skills (ticket_id, skill_id) VALUES ($1, $2)`, id, s)
	}
	return id
}

// sphereMetres is the great-circle distance on PostGIS's sphere (WGS 84 mean radius).
func sphereMetres(a, b geo.Point) float64 {
	const r = 6371008.7714
	la1, la2 := a.Lat*math.Pi/180, b.Lat*math.Pi/180
	dla, dlo := la2-la1, (b.Lng-a.Lng)*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

func TestRankingEqualsBruteForceOnRandomData(t *testing.T) {
	f := newField(t, Options{})
	r := rand.New(rand.NewPCG(7, 11))
	type eng struct {
		id     uuid.UUID
		spec   engineerSpec
		usable bool
	}
	var all []eng
	for range 300 {
		spec := engineerSpec{at: geo.Point{Lat: 55.5 + r.Float64()*0.5, Lng: 37.3 + r.Float64()*0.6},
			capacity: 1 + r.IntN(6)}
		spec.load = r.IntN(spec.capacity + 1)
		for _, s := range f.skills {
			if r.IntN(3) > 0 {
				spec.skills = append(spec.skills, s)
			}
		}
		if r.IntN(8) == 0 {
			spec.calendar = f.offDuty
		}
		all = append(all, eng{id: f.engineer(spec), spec: spec})
	}
	// Each trial's ticket and the brute force's ranking: every engineer who passes the
	// hard filters, scored by the definition (travel minutes at the configured detour and
	// speed, plus 15 minutes per open job) and ordered by score, distance and id.
	metresPerMinute := f.d.opts.SpeedKPH * 1000 / 60 / f.d.opts.Detour
	byScore := func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.DistanceM, b.DistanceM), bytes.Compare(a.EngineerID[:], b.EngineerID[:]))
	}
	var tickets []uuid.UUID
	var wants [][]Candidate
	for range 25 {
		site := geo.Point{Lat: 55.5 + r.Float64()*0.5, Lng: 37.3 + r.Float64()*0.6}
		need := f.skills[:r.IntN(3)]
		tickets = append(tickets, f.ticketAt(site, need...))
		var want []Candidate
		for _, e := range all {
			ok := e.spec.calendar != f.offDuty && e.spec.load < e.spec.capacity
			for _, s := range need {
				ok = ok && slices.Contains(e.spec.skills, s)
			}
			if ok {
				d := sphereMetres(e.spec.at, site)
				want = append(want, Candidate{EngineerID: e.id, DistanceM: d, Load: e.spec.load,
					Score: d/metresPerMinute + 15*float64(e.spec.load), ETASecs: int(math.Round(d / metresPerMinute * 60))})
			}
		}
		slices.SortFunc(want, byScore)
		wants = append(wants, want)
	}
	same := func(how string, trial int, got, want []Candidate) {
		t.Helper()
		for i := range got {
			if got[i].EngineerID != want[i].EngineerID || math.Abs(got[i].DistanceM-want[i].DistanceM) > 0.5 {
				t.Fatalf("%s, trial %d, rank %d: got %s at %.1f m (load %d), brute force %s at %.1f m (load %d)", how, trial, i,
					got[i].EngineerID, got[i].DistanceM, got[i].Load, want[i].EngineerID, want[i].DistanceM, want[i].Load)
			}
			if math.Abs(got[i].Score-want[i].Score) > 0.01 || max(got[i].ETASecs-want[i].ETASecs, want[i].ETASecs-got[i].ETASecs) > 1 {
				t.Fatalf("%s, trial %d, rank %d: score %.3f and ETA %d s, by definition %.3f and %d s", how, trial, i,
					got[i].Score, got[i].ETASecs, want[i].Score, want[i].ETASecs)
			}
		}
	}
	ctx := context.Background()
	for trial, id := range tickets {
		got, err := f.d.Candidates(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != min(10, len(wants[trial])) {
			t.Fatalf("trial %d: %d candidates, brute force has %d", trial, len(got), len(wants[trial]))
		}
		same("one ticket", trial, got, wants[trial])
	}
	// All tickets in one query, as a dispatch batch ranks them: each needing its own
	// rounds, and only its first candidate made sure of.
	needs, err := f.d.loadNeeds(ctx, tickets)
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]need, len(tickets))
	for i, id := range tickets {
		batch[i] = needs[id]
	}
	for _, sure := range []int{10, 1} {
		ranked, err := f.d.rankAll(ctx, candidateSQL, batch, 10, sure)
		if err != nil {
			t.Fatal(err)
		}
		for trial, got := range ranked {
			if len(wants[trial]) > 0 && len(got) == 0 {
				t.Fatalf("batch, trial %d: nobody, brute force has %d", trial, len(wants[trial]))
			}
			if sure == 1 {
				got = got[:min(1, len(got))]
			}
			same(fmt.Sprintf("batch sure of %d", sure), trial, got, wants[trial])
		}
	}
}

func TestHardFilters(t *testing.T) {
	f := newField(t, Options{})
	ctx := context.Background()
	site := geo.Point{Lat: 55.75, Lng: 37.62}
	near := geo.Point{Lat: 55.751, Lng: 37.621}
	skill := f.skills[0]
	qualified := f.engineer(engineerSpec{at: geo.Point{Lat: 55.80, Lng: 37.70}, skills: []uuid.UUID{skill}})
	unskilled := f.engineer(engineerSpec{at: near})
	offShift := f.engineer(engineerSpec{at: near, skills: []uuid.UUID{skill}, calendar: f.offDuty})
	full := f.engineer(engineerSpec{at: near, skills: []uuid.UUID{skill}, capacity: 2, load: 2})
	onLeave := f.engineer(engineerSpec{at: near, skills: []uuid.UUID{skill}})
	f.exec(`INSERT INTO engineer_time_off (id, engineer_id, period) VALUES ($1, $2, tstzrange($3, $4))`,
		uuid.New(), onLeave, fixedNow.Add(-time.Hour), fixedNow.Add(48*time.Hour))
	inactive := f.engineer(engineerSpec{at: near, skills: []uuid.UUID{skill}})
	f.exec(`UPDATE engineers SET active = false WHERE id = $1`, inactive)
	ids := func() []uuid.UUID {
		cands, err := f.d.Candidates(ctx, f.ticketAt(site, skill))
		if err != nil {
			t.Fatal(err)
		}
		var out []uuid.UUID
		for _, c := range cands {
			out = append(out, c.EngineerID)
		}
		return out
	}
	if got := ids(); !slices.Equal(got, []uuid.UUID{qualified}) {
		t.Fatalf("candidates %v, want only %v (excluded: unskilled %v, off shift %v, full %v, on leave %v, inactive %v)",
			got, qualified, unskilled, offShift, full, onLeave, inactive)
	}
	// Marked available outside their shift, the off-shift engineer is nearest.
	f.exec(`UPDATE engineers SET available_until = $2 WHERE id = $1`, offShift, fixedNow.Add(time.Hour))
	if got := ids(); len(got) != 2 || got[0] != offShift {
		t.Fatalf("with the off-shift engineer available: %v", got)
	}
	// A contract radius of 2 km leaves out the qualified engineer ~8 km away.
	f.exec(`UPDATE contracts SET dispatch_radius_m = 2000 WHERE id = $1`, f.contract)
	if got := ids(); !slices.Equal(got, []uuid.UUID{offShift}) {
		t.Fatalf("within 2 km: %v", got)
	}
}

func TestAntimeridianAndHighLatitude(t *testing.T) {
	f := newField(t, Options{})
	ctx := context.Background()
	across := f.engineer(engineerSpec{at: geo.Point{Lat: 65.0, Lng: -179.95}}) // ~4 km away, over the date line
	f.engineer(engineerSpec{at: geo.Point{Lat: 65.0, Lng: 179.5}})             // ~21 km away on the same side
	cands, err := f.d.Candidates(ctx, f.ticketAt(geo.Point{Lat: 65.0, Lng: 179.97}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cands) != 2 || cands[0].EngineerID != across || cands[0].DistanceM > 5000 {
		t.Fatalf("near the antimeridian: %+v", cands)
	}
	// Near the pole a degree of longitude is a few kilometres: the one 20° of longitude
	// away on the same parallel is nearer than the one half a degree of latitude south.
	north := f.engineer(engineerSpec{at: geo.Point{Lat: 89.5, Lng: 20}})
	f.engineer(engineerSpec{at: geo.Point{Lat: 89.0, Lng: 0}})
	cands, err = f.d.Candidates(ctx, f.ticketAt(geo.Point{Lat: 89.5, Lng: 0}))
	if err != nil {
		t.Fatal(err)
	}
	if cands[0].EngineerID != north || math.Abs(cands[0].DistanceM-sphereMetres(geo.Point{Lat: 89.5, Lng: 20}, geo.Point{Lat: 89.5, Lng: 0})) > 1 {
		t.Fatalf("near the pole: %+v", cands[0])
	}
}

func TestEqualDistancesBreakTiesByID(t *testing.T) {
	f := newField(t, Options{})
	at := geo.Point{Lat: 55.7, Lng: 37.6}
	var ids []uuid.UUID
	// All on one spot, and more than the first round reads (4k rows), so the tie spans
	// the rows read: only reading on past them finds the lowest ids.
	for range 100 {
		ids = append(ids, f.engineer(engineerSpec{at: at}))
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	ticketID := f.ticketAt(geo.Point{Lat: 55.71, Lng: 37.61})
	for range 3 {
		cands, err := f.d.Candidates(context.Background(), ticketID)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cands {
			if c.EngineerID != ids[i] {
				t.Fatalf("rank %d is %s, want %s (ties go to the lower id)", i, c.EngineerID, ids[i])
			}
		}
	}
}

func TestNobodyQualifies(t *testing.T) {
	f := newField(t, Options{})
	ctx := context.Background()
	f.engineer(engineerSpec{at: geo.Point{Lat: 55.7, Lng: 37.6}, calendar: f.offDuty, skills: f.skills[:1]})
	id := f.ticketAt(geo.Point{Lat: 55.7, Lng: 37.6}, f.skills[0])
	out, err := f.d.AutoDispatch(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if out.Assigned != nil || out.Funnel == nil || out.Funnel.WithSkills != 1 || out.Funnel.OnShift != 0 {
		t.Fatalf("outcome %+v", out)
	}
	tk, err := f.tickets.Get(ctx, auth.Principal{Role: auth.Dispatcher}, id)
	if err != nil || tk.Status != ticket.New || tk.AssigneeID != nil {
		t.Fatalf("ticket %+v %v", tk, err)
	}
	events, _ := f.tickets.History(ctx, auth.Principal{Role: auth.Dispatcher}, id)
	if last := events[len(events)-1]; last.Kind != "dispatch_failed" || last.Data["reason"] != "no engineer qualifies" {
		t.Fatalf("no event for dispatchers: %+v", events)
	}
}

func TestConcurrentDispatchNeverOverfillsAnEngineer(t *testing.T) {
	f := newField(t, Options{})
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 5))
	var engineers []uuid.UUID
	for range 12 {
		engineers = append(engineers, f.engineer(engineerSpec{at: geo.Point{Lat: 55.7 + r.Float64()*0.1, Lng: 37.6 + r.Float64()*0.1},
			capacity: 1 + r.IntN(3)}))
	}
	var tickets []uuid.UUID
	for range 60 { // far more work than the 12 engineers can hold
		tickets = append(tickets, f.ticketAt(geo.Point{Lat: 55.7 + r.Float64()*0.1, Lng: 37.6 + r.Float64()*0.1}))
	}
	// Four servers (each its own pool and placers) dispatch at once, while dispatchers
	// assign every third ticket by hand to an engineer of their choosing.
	servers := []*Service{f.d}
	for range 3 {
		pool, err := pgxpool.NewWithConfig(ctx, f.pool.Config())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		servers = append(servers, NewService(pool, ticket.NewService(pool, ticket.Options{Now: f.d.opts.Now}), f.d.opts))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	assigned, auto := 0, 0
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := servers[w%len(servers)]
			for i := w; i < len(tickets); i += 16 {
				if i%3 == 0 {
					err := d.tickets.AssignTo(ctx, ticket.System, tickets[i], engineers[i%len(engineers)], ticket.Assignment{Mode: "manual"})
					var ae *apperr.Error
					if err != nil && !(errors.As(err, &ae) && ae.Code == apperr.Conflict) {
						t.Error(err)
						return
					}
					if err == nil {
						mu.Lock()
						assigned++
						mu.Unlock()
					}
					continue
				}
				out, err := d.AutoDispatch(ctx, tickets[i])
				if err != nil {
					t.Error(err)
					return
				}
				if out.Assigned != nil {
					mu.Lock()
					assigned, auto = assigned+1, auto+1
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	var over, mismatched, capacity int
	err := f.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE open_jobs > capacity),
			count(*) FILTER (WHERE open_jobs <> (SELECT count(*) FROM tickets t WHERE t.assignee_id = e.id AND t.status = 'assigned')),
			sum(capacity)
		FROM engineers e`).Scan(&over, &mismatched, &capacity)
	if err != nil {
		t.Fatal(err)
	}
	if over != 0 || mismatched != 0 || assigned != capacity {
		t.Fatalf("%d engineers over capacity, %d miscounted; %d assignments for %d places", over, mismatched, assigned, capacity)
	}
	var reasons int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM ticket_assignments WHERE mode = 'auto' AND distance_m > 0 AND reasons ? 'travel_minutes'`).Scan(&reasons); err != nil || reasons != auto {
		t.Fatalf("%d assignments stored their reasons, want %d (%v)", reasons, auto, err)
	}
}

// Tickets dispatched in one batch are spread as they would be one after another: the
// load the batch gives an engineer counts against them for the next ticket.
func TestABatchSpreadsWorkAsOneByOneWould(t *testing.T) {
	f := newField(t, Options{})
	site := geo.Point{Lat: 55.75, Lng: 37.62}
	near := f.engineer(engineerSpec{at: site})
	farther := f.engineer(engineerSpec{at: geo.Point{Lat: 55.768, Lng: 37.62}}) // 2 km: ~5 minutes more, less than a job
	jobs := []*job{{ticket: f.ticketAt(site), by: ticket.System}, {ticket: f.ticketAt(site), by: ticket.System}}
	f.d.dispatchAll(context.Background(), jobs)
	for i, want := range []uuid.UUID{near, farther} {
		if j := jobs[i]; j.err != nil || j.out.Assigned == nil || j.out.Assigned.EngineerID != want {
			t.Fatalf("ticket %d: %+v, %v; want engineer %s", i, j.out, j.err, want)
		}
	}
	if jobs[1].out.Assigned.Load != 0 || jobs[0].out.Assigned.Load != 0 {
		t.Errorf("loads recorded: %d and %d, want both engineers free when chosen", jobs[0].out.Assigned.Load, jobs[1].out.Assigned.Load)
	}
}

// Many tickets at one site in one batch all find engineers while any have room, though
// each was first offered only the same few nearest.
func TestABurstAtOneSiteFillsEveryFreeEngineer(t *testing.T) {
	f := newField(t, Options{})
	site := geo.Point{Lat: 55.75, Lng: 37.62}
	for i := range 6 {
		f.engineer(engineerSpec{at: geo.Point{Lat: 55.75 + float64(i)*0.002, Lng: 37.62}, capacity: 1})
	}
	var jobs []*job
	for range 8 {
		jobs = append(jobs, &job{ticket: f.ticketAt(site), by: ticket.System, record: true})
	}
	f.d.dispatchAll(context.Background(), jobs)
	placed := 0
	for _, j := range jobs {
		if j.err != nil {
			t.Fatal(j.err)
		}
		if j.out.Assigned != nil {
			placed++
		}
	}
	var failed, attempts int
	if err := f.pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM ticket_events WHERE kind = 'dispatch_failed'),
		(SELECT count(*) FROM dispatch_attempts)`).Scan(&failed, &attempts); err != nil {
		t.Fatal(err)
	}
	if placed != 6 || failed != 2 || attempts != 2 {
		t.Fatalf("%d placed, %d dispatch_failed events, %d waiting for the sweep; want 6 (every engineer), 2 and 2",
			placed, failed, attempts)
	}
}

// A batch that fails for the database's sake leaves its tickets on the sweep's list.
func TestAFailedBatchLeavesItsTicketsForTheSweep(t *testing.T) {
	f := newField(t, Options{})
	f.engineer(engineerSpec{at: geo.Point{Lat: 55.75, Lng: 37.62}})
	id := f.ticketAt(geo.Point{Lat: 55.75, Lng: 37.62})
	j := &job{ticket: id, by: ticket.System, record: true, done: make(chan struct{})}
	f.d.tickets = failingPlace{f.tickets}
	f.d.place([]*job{j})
	var waiting bool
	if err := f.pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM dispatch_attempts WHERE ticket_id = $1)`, id).
		Scan(&waiting); err != nil || j.err == nil || !waiting {
		t.Fatalf("after a failed batch: error %v, on the sweep's list %v (%v)", j.err, waiting, err)
	}
}

type failingPlace struct{ *ticket.Service }

func (failingPlace) Place(context.Context, []ticket.Offer) ([]ticket.Placed, error) {
	return nil, errors.New("connection reset")
}
