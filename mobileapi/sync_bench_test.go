package mobileapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/dispatch"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/checklist"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/page"
	"fieldsvc/internal/ticket"
)

// The mobile sync benchmarks of issue 5 on a desk of 1,000 engineers, one of whom (the
// engineer under test) has 300 open work orders; each figure beside a baseline measured
// in the same run.
//
//	go test -run '^$' -bench Sync -benchtime 2s ./mobileapi | go run ./scripts/benchtable
//
// Targets: initial sync ≤ 250 ms and ≤ 1 MB gzipped; empty incremental pull p99 ≤ 5 ms in
// the server.
//
// "In the server" here means Service.Pull or Service.Push plus what the handler does with
// the answer: encoding/json (Fiber's c.JSON) and gzip at BestSpeed (the route group's
// compress middleware, LevelBestSpeed). HTTP itself is left out. The pool has pgxpool's
// default size, as the server runs.
//
// Each top-level benchmark builds its own world (a few seconds) in its own dbtest database,
// dropped when it ends: the push benchmark changes the data, and a database shared
// between benchmarks would have no safe moment to be dropped without a TestMain.

const (
	syncEngineers = 1_000
	syncOrders    = 300    // open work orders of the engineer under test
	syncHistory   = 20_000 // finished tickets of the past year, among all engineers
	syncClients   = 300
	syncSites     = 2 // per client; one asset at each site
	syncSkills    = 12
)

// syncWorldName states the data sizes in every benchmark name.
var syncWorldName = fmt.Sprintf("engineers-%dk-orders-%d", syncEngineers/1000, syncOrders)

// syncWorld is a database filled by buildSyncWorld, with the services on it and the
// engineer under test.
type syncWorld struct {
	pool    *pgxpool.Pool
	queries atomic.Int64 // statements sent on pool, counted by syncTracer
	tickets *ticket.Service
	m       *Service
	p       auth.Principal // the engineer under test…
	id      uuid.UUID      // …their engineer id…
	device  uuid.UUID      // …and device
	number  int            // the last 2027-number handed out by freshTickets
}

// syncTracer counts the statements a pool sends (BEGIN, COMMIT and SAVEPOINT included):
// the round trips a call costs.
type syncTracer struct{ w *syncWorld }

func (t syncTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.w.queries.Add(1)
	return ctx
}

func (syncTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// newSyncWorld creates a database (dropped when b ends), fills it, and builds the services
// as cmd wires them.
func newSyncWorld(b *testing.B) *syncWorld {
	b.Helper()
	ctx := context.Background()
	w := &syncWorld{}
	w.pool = dbtest.MustTracedPool(b, dbtest.MustURL(b), syncTracer{w})

	start := time.Now()
	buildSyncWorld(b, w.pool)
	b.Logf("world %s built in %s", syncWorldName, time.Since(start).Round(time.Millisecond))

	w.tickets = ticket.NewService(w.pool, ticket.Options{})
	sessions, err := auth.NewService(w.pool, auth.Options{Secret: []byte("bench-secret-that-is-long-enough-for-hs256"),
		AccessTTL: 15 * time.Minute, RefreshTTL: 24 * time.Hour, BcryptCost: 4})
	if err != nil {
		b.Fatal(err)
	}
	w.m = NewService(w.pool, Deps{Tickets: w.tickets, Locations: dispatch.NewService(w.pool, w.tickets, dispatch.Options{}),
		Sessions: sessions, Checklists: checklist.NewService(w.pool, w.tickets, nil, checklist.Options{})},
		Options{Secret: []byte("cursor-secret-that-is-long-enough-for-hmac")})
	var user uuid.UUID
	err = w.pool.QueryRow(ctx, `SELECT u.id, e.id, d.id FROM users u JOIN engineers e ON e.user_id = u.id
		JOIN devices d ON d.user_id = u.id WHERE u.email = 'sync-engineer-0001@example.com'`).Scan(&user, &w.id, &w.device)
	if err != nil {
		b.Fatal(err)
	}
	w.p = auth.Principal{UserID: user, Role: auth.Engineer}
	return w
}

// buildSyncWorld fills an empty migrated database with INSERT … SELECT statements:
//   - 12 skills, a 24×7 calendar, a dispatcher;
//   - 300 clients with 2 sites each (random points in Moscow) and one asset at each site;
//   - 1,000 engineers with a user and a device each; engineer 0001 is the one under test;
//   - open work: 300 tickets for the engineer under test (assigned … in progress, a few
//     waiting for parts), 2–6 for every other engineer, at random sites, 90 % on the
//     site's asset, needing 0–2 skills; 1–5 comments each (desk and engineer) for the
//     engineer under test, 0–2 for the others; a time entry or two on the engineer under
//     test's work in progress;
//   - 20,000 finished tickets of the past year (closed, resolved, cancelled), half of them
//     with a comment: a few finished in the last days are still in their engineers' scope.
//
// The scope trigger fills sync_scope as the assigned tickets are inserted.
func buildSyncWorld(tb testing.TB, pool *pgxpool.Pool) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Release()
	exec := func(sql string, args ...any) {
		tb.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			tb.Fatalf("%v\n%s", err, sql)
		}
	}
	count := func(sql string, args ...any) int {
		tb.Helper()
		var n int
		if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			tb.Fatalf("%v\n%s", err, sql)
		}
		return n
	}
	const point = `ST_SetSRID(ST_MakePoint(37.37 + random() * 0.48, 55.57 + random() * 0.34), 4326)::geography`
	const text = `'Не держит температуру, на табло ошибка E3. Компрессор включается и через минуту выключается, ` +
		`в камере +12. Товар перенесли в соседнюю камеру. Доступ со двора, ключ у администратора смены. '`

	exec(`SELECT setseed(0.42)`)
	exec(`INSERT INTO calendars (id, name, time_zone, weekly_hours) VALUES (gen_random_uuid(), '24x7', 'Europe/Moscow',
		(SELECT jsonb_object_agg(d, '[{"start": "00:00", "end": "24:00"}]'::jsonb) FROM unnest('{mon,tue,wed,thu,fri,sat,sun}'::text[]) d))`)
	exec(`INSERT INTO skills (id, code, name) SELECT gen_random_uuid(), 'skill_' || lpad(i::text, 2, '0'), 'Навык ' || i
		FROM generate_series(1, $1::int) i`, syncSkills)
	exec(`INSERT INTO clients (id, name, phone) SELECT gen_random_uuid(), 'ООО «Клиент ' || i || '»', '+7 495 ' || lpad(i::text, 7, '0')
		FROM generate_series(1, $1::int) i`, syncClients)
	exec(`INSERT INTO sites (id, client_id, name, address, location, time_zone, contact_name, contact_phone)
		SELECT gen_random_uuid(), c.id, 'Магазин №' || i, 'Москва, ул. Строителей, д. ' || (1 + floor(random() * 200)::int),
			`+point+`, 'Europe/Moscow', 'Администратор смены', '+7 916 ' || lpad(floor(random() * 1e7)::text, 7, '0')
		FROM clients c, generate_series(1, $1::int) i`, syncSites)
	exec(`INSERT INTO assets (id, site_id, asset_type, manufacturer, model, serial_number, installed_on, warranty_until)
		SELECT gen_random_uuid(), id, 'refrigeration', 'Carrier', 'Xarios 600', 'SN-' || upper(left(md5(random()::text), 12)),
			'2022-03-01', '2027-03-01'
		FROM sites`)
	// Sites numbered 1…n with their client and asset, to pick one at random by number.
	exec(`CREATE TEMP TABLE sync_site AS
		SELECT row_number() OVER (ORDER BY s.id)::int AS n, s.id AS site_id, s.client_id, a.id AS asset_id
		FROM sites s JOIN assets a ON a.site_id = s.id`)
	defer exec(`DROP TABLE sync_site`)
	exec(`CREATE UNIQUE INDEX ON sync_site (n)`)
	exec(`ANALYZE sync_site`)
	nsites := count(`SELECT count(*) FROM sync_site`)

	exec(`INSERT INTO users (id, email, full_name, role, password_hash) VALUES (gen_random_uuid(), 'sync-desk@example.com', 'Диспетчер', 'dispatcher', 'x')`)
	exec(`INSERT INTO users (id, email, full_name, role, password_hash, phone)
		SELECT gen_random_uuid(), 'sync-engineer-' || lpad(i::text, 4, '0') || '@example.com', 'Инженер ' || i, 'engineer', 'x',
			'+7 926 ' || lpad(i::text, 7, '0')
		FROM generate_series(1, $1::int) i`, syncEngineers)
	exec(`INSERT INTO engineers (id, user_id, home_base, calendar_id, capacity)
		SELECT gen_random_uuid(), u.id, ` + point + `, (SELECT id FROM calendars), 100 FROM users u WHERE u.role = 'engineer'`)
	exec(`INSERT INTO devices (id, user_id, platform, app_version, registered_at)
		SELECT gen_random_uuid(), id, CASE WHEN random() < 0.8 THEN 'android' ELSE 'ios' END, '1.4.2', now() - interval '30 days'
		FROM users WHERE role = 'engineer'`)
	// Engineers numbered 1…n, 1 being the engineer under test.
	exec(`CREATE TEMP TABLE sync_eng AS
		SELECT row_number() OVER (ORDER BY u.email)::int AS n, e.id AS engineer_id, u.id AS user_id
		FROM users u JOIN engineers e ON e.user_id = u.id`)
	defer exec(`DROP TABLE sync_eng`)
	exec(`CREATE UNIQUE INDEX ON sync_eng (n)`)
	exec(`ANALYZE sync_eng`)
	exec(`CREATE TEMP SEQUENCE sync_number`)
	defer exec(`DROP SEQUENCE sync_number`)

	// Open work, assigned: the triggers count it into open_jobs and put it in scope.
	exec(`WITH j AS MATERIALIZED (
			SELECT e.n AS en, e.engineer_id, 1 + floor(random() * $1)::int AS sn, random() AS rs, random() AS rp,
				random() AS ra, random() AS age, random() AS rd
			FROM sync_eng e CROSS JOIN LATERAL generate_series(1, CASE WHEN e.n = 1 THEN $2::int ELSE 2 + floor(random() * 5)::int END)),
		k AS (SELECT *, CASE WHEN rs < 0.4 THEN 'assigned' WHEN rs < 0.6 THEN 'accepted' WHEN rs < 0.7 THEN 'en_route'
				WHEN rs < 0.95 THEN 'in_progress' ELSE 'waiting' END AS status,
				now() - interval '10 minutes' - age * interval '3 days' AS created FROM j)
		INSERT INTO tickets (id, number, client_id, site_id, asset_id, kind, priority, status, waiting_on, title, description,
			assignee_id, created_at, updated_at, reaction_minutes, resolution_minutes, reaction_due_at, resolution_due_at,
			reaction_state, resolution_state, first_response_at)
		SELECT gen_random_uuid(), '2026-' || lpad(nextval('sync_number')::text, 6, '0'), s.client_id, s.site_id,
			CASE WHEN k.ra < 0.9 THEN s.asset_id END, 'incident', (ARRAY['low', 'normal', 'high', 'critical'])[1 + floor(k.rp * 4)::int],
			k.status, CASE WHEN k.status = 'waiting' THEN 'parts' END, 'Холодильная камера не держит температуру',
			left(`+text+`, 80 + floor(k.rd * 120)::int), k.engineer_id, k.created, k.created + interval '5 minutes',
			120, 1440, k.created + interval '2 hours', k.created + interval '1 day', 'met', 'ok', k.created + interval '5 minutes'
		FROM k JOIN sync_site s ON s.n = k.sn`, nsites, syncOrders)
	exec(`WITH t AS MATERIALIZED (SELECT id, CASE WHEN r < 0.3 THEN 0 WHEN r < 0.75 THEN 1 ELSE 2 END AS k
			FROM (SELECT id, random() AS r FROM tickets) x)
		INSERT INTO ticket_skills (ticket_id, skill_id)
		SELECT t.id, s.id FROM t CROSS JOIN LATERAL (SELECT id FROM skills ORDER BY random() LIMIT t.k) s`)
	exec(`WITH c AS MATERIALIZED (
			SELECT t.id AS ticket_id, t.created_at, e.n = 1 AS mine, e.user_id AS engineer_user, i, random() AS r
			FROM tickets t JOIN sync_eng e ON e.engineer_id = t.assignee_id
			CROSS JOIN LATERAL generate_series(1, CASE WHEN e.n = 1 THEN 1 + floor(random() * 5)::int ELSE floor(random() * 3)::int END) i)
		INSERT INTO comments (id, ticket_id, author_id, visibility, body, created_at)
		SELECT gen_random_uuid(), c.ticket_id,
			CASE WHEN c.i % 2 = 1 THEN (SELECT id FROM users WHERE email = 'sync-desk@example.com') ELSE c.engineer_user END,
			CASE WHEN c.r < 0.8 THEN 'public' ELSE 'internal' END, left(` + text + `, 30 + floor(c.r * 150)::int),
			c.created_at + c.i * interval '7 minutes'
		FROM c`)
	exec(`INSERT INTO time_entries (id, ticket_id, engineer_id, started_at, ended_at, note)
		SELECT gen_random_uuid(), t.id, t.assignee_id, now() - i * interval '3 hours', now() - i * interval '3 hours' + interval '45 minutes',
			'Диагностика'
		FROM tickets t JOIN sync_eng e ON e.engineer_id = t.assignee_id AND e.n = 1
		CROSS JOIN LATERAL generate_series(1, 1 + floor(random() * 2)::int) i
		WHERE t.status IN ('in_progress', 'waiting')`)

	// History: finished in the past year. The scope keeps what finished in its last days.
	exec(`WITH g AS MATERIALIZED (SELECT i, 1 + floor(random() * $1)::int AS sn, 1 + floor(random() * $2)::int AS en,
				random() AS rs, random() AS rp, 0.5 + random() * 364.5 AS age
			FROM generate_series(1, $3::int) i),
		h AS (SELECT g.*, now() - g.age * interval '1 day' AS created FROM g)
		INSERT INTO tickets (id, number, client_id, site_id, asset_id, kind, priority, status, title, description, assignee_id,
			created_at, resolved_at, closed_at, updated_at)
		SELECT gen_random_uuid(), '2025-' || lpad(h.i::text, 6, '0'), s.client_id, s.site_id, s.asset_id,
			(ARRAY['incident', 'request', 'consultation', 'preventive'])[1 + h.i % 4],
			(ARRAY['low', 'normal', 'high', 'critical'])[1 + floor(h.rp * 4)::int],
			CASE WHEN h.rs < 0.75 THEN 'closed' WHEN h.rs < 0.93 THEN 'resolved' ELSE 'cancelled' END,
			'Заявка №' || h.i, left(`+text+`, 120), CASE WHEN h.rs < 0.93 THEN e.engineer_id END, h.created,
			CASE WHEN h.rs < 0.93 THEN h.created + h.age * interval '3 hours' END,
			CASE WHEN h.rs < 0.75 THEN h.created + h.age * interval '6 hours' END,
			h.created + h.age * interval '6 hours'
		FROM h JOIN sync_site s ON s.n = h.sn JOIN sync_eng e ON e.n = h.en`, nsites, syncEngineers, syncHistory)
	exec(`INSERT INTO comments (id, ticket_id, author_id, visibility, body, created_at)
		SELECT gen_random_uuid(), t.id, (SELECT id FROM users WHERE email = 'sync-desk@example.com'), 'public', 'Работы выполнены',
			t.created_at + interval '1 hour'
		FROM tickets t WHERE t.number LIKE '2025-%' AND random() < 0.5`)
	exec(`VACUUM ANALYZE`)

	if n := count(`SELECT count(*) FROM engineers`); n != syncEngineers {
		tb.Fatalf("%d engineers, want %d", n, syncEngineers)
	}
	open := count(`SELECT count(*) FROM tickets t JOIN sync_eng e ON e.engineer_id = t.assignee_id AND e.n = 1
		WHERE t.status NOT IN ('resolved', 'closed', 'cancelled')`)
	scoped := count(`SELECT count(*) FROM sync_scope s JOIN sync_eng e ON e.engineer_id = s.engineer_id AND e.n = 1
		WHERE s.entity = 'ticket' AND s.present`)
	if open != syncOrders || scoped < open {
		tb.Fatalf("the engineer under test has %d open tickets (want %d), %d in scope", open, syncOrders, scoped)
	}
}

// freshTickets files n tickets assigned to the engineer under test at random sites, for
// the push benchmark's ticket actions.
func (w *syncWorld) freshTickets(tb testing.TB, n int) []uuid.UUID {
	tb.Helper()
	rows, err := w.pool.Query(context.Background(), `
		WITH s AS (SELECT row_number() OVER (ORDER BY s.id)::int AS n, s.id, s.client_id, a.id AS asset_id
				FROM sites s JOIN assets a ON a.site_id = s.id),
			g AS MATERIALIZED (SELECT i, 1 + floor(random() * (SELECT count(*) FROM s))::int AS sn
				FROM generate_series($1::int + 1, $1::int + $2::int) i)
		INSERT INTO tickets (id, number, client_id, site_id, asset_id, kind, priority, status, title, assignee_id)
		SELECT gen_random_uuid(), '2027-' || lpad(g.i::text, 6, '0'), s.client_id, s.id, s.asset_id, 'incident', 'normal',
			'assigned', 'Новая заявка', $3
		FROM g JOIN s ON s.n = g.sn
		RETURNING id`, w.number, n, w.id)
	if err != nil {
		tb.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil || len(ids) != n {
		tb.Fatalf("%d fresh tickets of %d: %v", len(ids), n, err)
	}
	w.number += n
	return ids
}

// syncWire is what the handler does with an answer: encoding/json (Fiber's c.JSON), then
// gzip at BestSpeed (the compress middleware at LevelBestSpeed; its writers are pooled,
// so one is reused here).
type syncWire struct {
	buf bytes.Buffer
	zw  *gzip.Writer
}

func newSyncWire() *syncWire {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return &syncWire{zw: zw}
}

// send encodes v as the server would and returns the JSON and the gzipped sizes.
func (s *syncWire) send(v any) (raw, gz int, err error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, 0, err
	}
	s.buf.Reset()
	s.zw.Reset(&s.buf)
	if _, err := s.zw.Write(body); err != nil {
		return 0, 0, err
	}
	if err := s.zw.Close(); err != nil {
		return 0, 0, err
	}
	return len(body), s.buf.Len(), nil
}

// syncSent is what one full sync (or its baseline) sent.
type syncSent struct {
	pages, raw, gz int
	rows           map[string]int // table → rows upserted
}

// fullSync pulls from an empty cursor until nothing more is waiting, encoding each page
// as the server would, and returns the cursor to go on from.
func (w *syncWorld) fullSync(ctx context.Context, wire *syncWire) (string, syncSent, error) {
	sent := syncSent{rows: map[string]int{}}
	cursor := ""
	for {
		pg, err := w.m.Pull(ctx, w.p, w.device, cursor)
		if err != nil {
			return "", sent, err
		}
		if pg.Reset {
			return "", sent, fmt.Errorf("reset: %s", pg.Reason)
		}
		raw, gz, err := wire.send(pg)
		if err != nil {
			return "", sent, err
		}
		sent.pages++
		sent.raw += raw
		sent.gz += gz
		for name, ch := range pg.Changes {
			sent.rows[name] += len(ch.Upserted)
		}
		cursor = pg.NextCursor
		if !pg.HasMore {
			return cursor, sent, nil
		}
	}
}

// The baseline's rows: plain structs read with plain queries, as a REST endpoint would.
type (
	naiveSite struct {
		ID           uuid.UUID `json:"id"`
		ClientID     uuid.UUID `json:"client_id"`
		ClientName   string    `json:"client_name"`
		ClientPhone  *string   `json:"client_phone"`
		Name         string    `json:"name"`
		Address      string    `json:"address"`
		Lat          float64   `json:"lat"`
		Lng          float64   `json:"lng"`
		TimeZone     string    `json:"time_zone"`
		ContactName  *string   `json:"contact_name"`
		ContactPhone *string   `json:"contact_phone"`
		Active       bool      `json:"active"`
	}
	naiveAsset struct {
		ID            uuid.UUID  `json:"id"`
		SiteID        uuid.UUID  `json:"site_id"`
		AssetType     string     `json:"asset_type"`
		Manufacturer  *string    `json:"manufacturer"`
		Model         *string    `json:"model"`
		SerialNumber  *string    `json:"serial_number"`
		InstalledOn   *time.Time `json:"installed_on"`
		WarrantyUntil *time.Time `json:"warranty_until"`
		Active        bool       `json:"active"`
	}
	naiveTimeEntry struct {
		ID         uuid.UUID `json:"id"`
		TicketID   uuid.UUID `json:"ticket_id"`
		EngineerID uuid.UUID `json:"engineer_id"`
		StartedAt  time.Time `json:"started_at"`
		EndedAt    time.Time `json:"ended_at"`
		Note       string    `json:"note"`
	}
	naiveSkill struct {
		ID     uuid.UUID `json:"id"`
		Code   string    `json:"code"`
		Name   string    `json:"name"`
		Active bool      `json:"active"`
	}
	naiveSync struct {
		Skills      []naiveSkill     `json:"skills"`
		Sites       []naiveSite      `json:"sites"`
		Assets      []naiveAsset     `json:"assets"`
		Tickets     []ticket.Ticket  `json:"tickets"`
		Comments    []ticket.Comment `json:"comments"`
		TimeEntries []naiveTimeEntry `json:"time_entries"`
	}
)

// naiveQuery runs sql and collects its rows into T by position.
func naiveQuery[T any](ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) ([]T, error) {
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[T])
}

// naiveSyncOnce is the baseline's full sync: the engineer's tickets through
// ticket.Service.List (pages of 500, the engineer's own view, kept in Go when open or
// finished within the days the sync keeps them), then one query each for their sites
// (with the client), assets, comments and time entries by id list, and the skills; all
// of it encoded with encoding/json in one document and gzipped. It reads what the sync
// serves, in as few round trips as a careful REST endpoint would, without change stamps
// or a scope journal.
func (w *syncWorld) naiveSyncOnce(ctx context.Context, wire *syncWire) (syncSent, error) {
	var out naiveSync
	var finishedDays int
	if err := w.pool.QueryRow(ctx, `SELECT finished_days FROM sync_settings`).Scan(&finishedDays); err != nil {
		return syncSent{}, err
	}
	since := time.Now().Add(-time.Duration(finishedDays) * 24 * time.Hour)
	var pr page.Request
	pr.Limit = 500
	pages := 0
	for {
		got, err := w.tickets.List(ctx, w.p, ticket.Filter{}, pr)
		if err != nil {
			return syncSent{}, err
		}
		pages++
		for _, t := range got.Items {
			finished := t.UpdatedAt
			if t.ClosedAt != nil {
				finished = *t.ClosedAt
			} else if t.ResolvedAt != nil {
				finished = *t.ResolvedAt
			}
			if t.Status.Open() || finished.After(since) {
				out.Tickets = append(out.Tickets, t)
			}
		}
		if got.NextCursor == "" {
			break
		}
		after, err := uuid.Parse(got.NextCursor)
		if err != nil {
			return syncSent{}, err
		}
		pr.After = &after
	}
	ids := make([]uuid.UUID, 0, len(out.Tickets))
	var sites, assets []uuid.UUID
	for _, t := range out.Tickets {
		ids = append(ids, t.ID)
		sites = append(sites, t.SiteID)
		if t.AssetID != nil {
			assets = append(assets, *t.AssetID)
		}
	}
	var err error
	if out.Skills, err = naiveQuery[naiveSkill](ctx, w.pool, `SELECT id, code, name, active FROM skills ORDER BY id`); err != nil {
		return syncSent{}, err
	}
	if out.Sites, err = naiveQuery[naiveSite](ctx, w.pool, `SELECT s.id, s.client_id, c.name, c.phone, s.name, s.address,
			ST_Y(s.location::geometry), ST_X(s.location::geometry), s.time_zone, s.contact_name, s.contact_phone, s.active
		FROM sites s JOIN clients c ON c.id = s.client_id WHERE s.id = ANY($1) ORDER BY s.id`, sites); err != nil {
		return syncSent{}, err
	}
	if out.Assets, err = naiveQuery[naiveAsset](ctx, w.pool, `SELECT id, site_id, asset_type, manufacturer, model, serial_number,
			installed_on, warranty_until, active FROM assets WHERE id = ANY($1) ORDER BY id`, assets); err != nil {
		return syncSent{}, err
	}
	if out.Comments, err = naiveQuery[ticket.Comment](ctx, w.pool, `SELECT c.id, c.ticket_id, c.author_id, u.full_name, u.role,
			c.visibility, c.body, c.created_at
		FROM comments c JOIN users u ON u.id = c.author_id WHERE c.ticket_id = ANY($1) ORDER BY c.id`, ids); err != nil {
		return syncSent{}, err
	}
	if out.TimeEntries, err = naiveQuery[naiveTimeEntry](ctx, w.pool, `SELECT id, ticket_id, engineer_id, started_at, ended_at, note
		FROM time_entries WHERE ticket_id = ANY($1) ORDER BY id`, ids); err != nil {
		return syncSent{}, err
	}
	raw, gz, err := wire.send(out)
	if err != nil {
		return syncSent{}, err
	}
	return syncSent{pages: pages, raw: raw, gz: gz, rows: map[string]int{"skills": len(out.Skills), "sites": len(out.Sites),
		"assets": len(out.Assets), "tickets": len(out.Tickets), "comments": len(out.Comments), "time_entries": len(out.TimeEntries)}}, nil
}

// reportSent reports the figures of the last full sync and the time per sync.
func reportSent(b *testing.B, sent syncSent, queries int64) {
	b.ReportMetric(float64(b.Elapsed())/1e6/float64(b.N), "ms/sync")
	b.ReportMetric(float64(sent.gz)/1000, "gzip-KB")
	b.ReportMetric(float64(sent.raw)/1000, "json-KB")
	b.ReportMetric(float64(sent.pages), "pages")
	b.ReportMetric(float64(queries)/float64(b.N), "queries/sync")
}

// BenchmarkSyncInitial is the first sync of the engineer with 300 open work orders and
// what they need (about 230 sites and as many assets, 870 comments, 190 time entries, 12 skills):
//   - initial: Pull from an empty cursor, again with each next cursor until has_more is
//     false, every page JSON-encoded and gzipped as the handler does;
//   - baseline-json-marshal-of-ticket-list: the same rows read the plain REST way
//     (naiveSyncOnce: ticket.Service.List, then one query per kind) and encoded with
//     encoding/json as one document, gzipped alike.
//
// Before timing, both are checked to carry the same number of rows of each kind.
func BenchmarkSyncInitial(b *testing.B) {
	w := newSyncWorld(b)
	ctx := context.Background()
	wire := newSyncWire()
	_, synced, err := w.fullSync(ctx, wire)
	if err != nil {
		b.Fatal(err)
	}
	naive, err := w.naiveSyncOnce(ctx, wire)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"skills", "sites", "assets", "tickets", "comments", "time_entries"} {
		if synced.rows[name] != naive.rows[name] || synced.rows[name] == 0 {
			b.Fatalf("%s: %d rows synced, %d by the baseline", name, synced.rows[name], naive.rows[name])
		}
	}
	b.Logf("a full sync carries %v in %d pages", synced.rows, synced.pages)

	name := syncWorldName + "/"
	b.Run(name+"initial", func(b *testing.B) {
		var sent syncSent
		q := w.queries.Load()
		for b.Loop() {
			var err error
			if _, sent, err = w.fullSync(ctx, wire); err != nil {
				b.Fatal(err)
			}
		}
		reportSent(b, sent, w.queries.Load()-q)
	})
	b.Run(name+"baseline-json-marshal-of-ticket-list", func(b *testing.B) {
		var sent syncSent
		q := w.queries.Load()
		for b.Loop() {
			var err error
			if sent, err = w.naiveSyncOnce(ctx, wire); err != nil {
				b.Fatal(err)
			}
		}
		reportSent(b, sent, w.queries.Load()-q)
	})
}

// syncPercentileMs is the p-quantile (nearest rank) of sorted durations, in milliseconds.
func syncPercentileMs(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := max(0, int(math.Ceil(p*float64(len(sorted))))-1)
	return float64(sorted[i]) / 1e6
}

// syncLatencies runs call once per b.Loop iteration and reports the p50 and p99 of the
// calls' own durations, how many calls they come from, and the statements per call.
// When the iterations are fewer than minCalls, more calls are made after them, outside
// the timing of ns/op.
func syncLatencies(b *testing.B, w *syncWorld, minCalls int, call func() error, untimed ...func() error) {
	var took []time.Duration
	q := w.queries.Load()
	var theirs int64 // statements of the untimed work, not the call's
	timed := func() {
		for _, u := range untimed {
			before := w.queries.Load()
			if err := u(); err != nil {
				b.Fatal(err)
			}
			theirs += w.queries.Load() - before
		}
		start := time.Now()
		if err := call(); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	for b.Loop() {
		timed()
	}
	for len(took) < minCalls {
		timed()
	}
	queries := w.queries.Load() - q - theirs
	slices.Sort(took)
	b.ReportMetric(syncPercentileMs(took, 0.50), "p50-ms")
	b.ReportMetric(syncPercentileMs(took, 0.99), "p99-ms")
	b.ReportMetric(float64(len(took)), "calls")
	b.ReportMetric(float64(queries)/float64(len(took)), "queries/call")
}

// BenchmarkSyncIncremental is the pull of a device that is up to date, when nothing has
// changed (the app's periodic check, and the answer to most "sync now" pushes):
//   - incremental-empty: Pull with the current cursor (each call with the cursor the
//     previous one returned), encoded as the handler does; p50/p99 of at least 300 calls;
//   - baseline-full-resync: what it costs without the cursor, an initial sync every time
//     (its percentiles come from the calls the benchmark time allows, about 20 at 2 s).
//
// Before timing, the incremental page is checked to be empty.
func BenchmarkSyncIncremental(b *testing.B) {
	w := newSyncWorld(b)
	ctx := context.Background()
	wire := newSyncWire()
	cursor, _, err := w.fullSync(ctx, wire)
	if err != nil {
		b.Fatal(err)
	}
	pull := func() error {
		pg, err := w.m.Pull(ctx, w.p, w.device, cursor)
		if err != nil {
			return err
		}
		if pg.Reset || pg.HasMore {
			return fmt.Errorf("an empty pull answered reset %v (%s), has_more %v", pg.Reset, pg.Reason, pg.HasMore)
		}
		cursor = pg.NextCursor
		_, _, err = wire.send(pg)
		return err
	}
	pg, err := w.m.Pull(ctx, w.p, w.device, cursor)
	if err != nil {
		b.Fatal(err)
	}
	for name, ch := range pg.Changes {
		if len(ch.Upserted)+len(ch.Removed) > 0 || pg.HasMore || pg.Reset {
			b.Fatalf("nothing changed, yet the pull brings %s: %d upserted, %d removed", name, len(ch.Upserted), len(ch.Removed))
		}
	}
	cursor = pg.NextCursor

	// On a working server other engineers' work changes all the time: the window is
	// never empty, though nothing in this engineer's scope changed.
	var elsewhere uuid.UUID
	if err := w.pool.QueryRow(ctx, `SELECT id FROM tickets WHERE assignee_id IS DISTINCT FROM
		(SELECT id FROM engineers WHERE user_id = $1) LIMIT 1`, w.p.UserID).Scan(&elsewhere); err != nil {
		b.Fatal(err)
	}
	otherWork := func() error {
		_, err := w.pool.Exec(ctx, `UPDATE tickets SET description = md5(random()::text) WHERE id = $1`, elsewhere)
		return err
	}
	name := syncWorldName + "/"
	b.Run(name+"incremental-empty", func(b *testing.B) {
		syncLatencies(b, w, 300, pull)
	})
	b.Run(name+"incremental-others-busy", func(b *testing.B) {
		syncLatencies(b, w, 300, pull, otherWork)
	})
	b.Run(name+"baseline-full-resync", func(b *testing.B) {
		syncLatencies(b, w, 0, func() error {
			_, _, err := w.fullSync(ctx, wire)
			return err
		})
	})
}

// pushBatch is the 100 mutations of a busy stretch of the engineer's day offline, with
// fresh ids: 8 ticket actions (accept, start travel, start work, resolve on each of two
// fresh tickets), and about 30 each of comments and time entries on the engineer's open
// work orders and location points.
func (w *syncWorld) pushBatch(fresh [2]uuid.UUID, open []uuid.UUID, seq int) []Mutation {
	now := time.Now().UTC()
	steps := []ticket.Action{ticket.Accept, ticket.StartTravel, ticket.StartWork, ticket.Resolve}
	out := make([]Mutation, 0, 100)
	for i := range 100 {
		m := Mutation{ID: uuid.NewString()}
		on := open[(seq*100+i)%len(open)].String()
		switch {
		case i%10 == 0 && i/10%5 < 4: // 0, 10, 20, 30 on the first fresh ticket; 50, 60, 70, 80 on the second
			act := string(steps[i/10%5])
			m.Type, m.TicketID, m.Action = "ticket.action", new(fresh[i/50].String()), &act
			if act == string(ticket.Resolve) {
				m.Note = new("Заменён пускатель, камера держит −18")
			}
		case i%3 == 0:
			at := now.Add(-time.Duration(100-i) * time.Minute)
			m.Type, m.RecordedAt = "location", &at
			m.Location = geo.Point{Lat: 55.75 + float64(i)*1e-4, Lng: 37.61 + float64(i)*1e-4}.Input()
			m.AccuracyM = new(12.0)
		case i%3 == 1:
			m.Type, m.TicketID, m.Body = "comment.add", &on, new("Проверил давление, заказал фильтр-осушитель")
		default:
			start := now.Add(-time.Duration(200-i) * time.Minute)
			end := start.Add(40 * time.Minute)
			m.Type, m.TicketID, m.StartedAt, m.EndedAt, m.Note = "time_entry.add", &on, &start, &end, new("Диагностика")
		}
		out = append(out, m)
	}
	return out
}

// BenchmarkSyncPush is a push of 100 mutations (pushBatch) by the engineer under test:
//   - push-100: one Push of the batch, applied in one transaction;
//   - baseline-100-pushes-of-1: the same kind of batch sent one mutation per Push, as an
//     app without batching would (each its own transaction and device check).
//
// Batches and their fresh tickets are made before the clock starts; every result is
// checked to be applied.
func BenchmarkSyncPush(b *testing.B) {
	w := newSyncWorld(b)
	ctx := context.Background()
	rows, err := w.pool.Query(ctx, `SELECT id FROM tickets WHERE assignee_id = $1 AND status NOT IN ('resolved', 'closed', 'cancelled')
		ORDER BY id`, w.id)
	if err != nil {
		b.Fatal(err)
	}
	open, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		b.Fatal(err)
	}
	seq := 0
	batches := func(b *testing.B) [][]Mutation {
		b.Helper()
		fresh := w.freshTickets(b, 2*b.N)
		out := make([][]Mutation, b.N)
		for i := range out {
			out[i] = w.pushBatch([2]uuid.UUID{fresh[2*i], fresh[2*i+1]}, open, seq)
			seq++
		}
		return out
	}
	check := func(b *testing.B, batch []Mutation, results []Result) {
		b.Helper()
		for i, r := range results {
			if r.Status != "applied" {
				b.Fatalf("mutation %d (%s): %+v", i, batch[i].Type, r)
			}
		}
	}
	report := func(b *testing.B, queries int64) {
		b.ReportMetric(float64(b.Elapsed())/1e6/float64(b.N), "ms/100-mutations")
		b.ReportMetric(float64(queries)/float64(b.N), "queries/100-mutations")
	}

	name := syncWorldName + "/"
	b.Run(name+"push-100", func(b *testing.B) {
		work := batches(b)
		q := w.queries.Load()
		b.ResetTimer()
		for i := range b.N {
			results, err := w.m.Push(ctx, w.p, w.device, work[i])
			if err != nil {
				b.Fatal(err)
			}
			check(b, work[i], results)
		}
		b.StopTimer()
		report(b, w.queries.Load()-q)
	})
	b.Run(name+"baseline-100-pushes-of-1", func(b *testing.B) {
		work := batches(b)
		q := w.queries.Load()
		b.ResetTimer()
		for i := range b.N {
			for j := range work[i] {
				results, err := w.m.Push(ctx, w.p, w.device, work[i][j:j+1])
				if err != nil {
					b.Fatal(err)
				}
				check(b, work[i][j:j+1], results)
			}
		}
		b.StopTimer()
		report(b, w.queries.Load()-q)
	})
}
