package maintenance

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/checklist"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/ticket"
)

// benchStart is a Monday morning.
var benchStart = time.Date(2027, 3, 1, 5, 0, 0, 0, time.UTC)

// benchPlans fills a fresh database with n plans on n assets at 500 sites in six time
// zones, none generated yet, in a mix a service company has: monthly (50 %), quarterly
// (15 %), weekly (10 %), yearly (10 %) and every 30–180 days after completion (15 %), each
// needing one of four skills. It returns the maintenance service on that database.
func benchPlans(b testing.TB, n, batch, workers int) (*Service, *pgxpool.Pool) {
	b.Helper()
	pool := dbtest.MustPool(b)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%v\n%s", err, sql)
		}
	}
	exec(`INSERT INTO clients (id, name) SELECT gen_random_uuid(), 'Client ' || g FROM generate_series(1, 50) g`)
	policy, calendar := uuid.New(), uuid.New()
	exec(`INSERT INTO sla_policies (id, name) VALUES ($1, 'Standard')`, policy)
	exec(`INSERT INTO calendars (id, name, time_zone, weekly_hours) VALUES ($1, '24/7', 'UTC', '{}')`, calendar)
	exec(`INSERT INTO contracts (id, client_id, number, starts_on, sla_policy_id, calendar_id)
		SELECT gen_random_uuid(), id, 'C-1', '2026-01-01', $1, $2 FROM clients`, policy, calendar)
	exec(`INSERT INTO sites (id, client_id, name, address, location, time_zone)
		SELECT gen_random_uuid(), (SELECT id FROM clients ORDER BY id OFFSET g % 50 LIMIT 1), 'Site ' || g, 'Address ' || g,
			ST_MakePoint(30 + g % 20, 50 + g % 10)::geography,
			(ARRAY['Europe/Berlin', 'Europe/Moscow', 'Asia/Tokyo', 'America/New_York', 'Asia/Yekaterinburg', 'UTC'])[1 + g % 6]
		FROM generate_series(1, 500) g`)
	exec(`INSERT INTO skills (id, code, name) SELECT gen_random_uuid(), 'skill' || g, 'Skill ' || g FROM generate_series(1, 4) g`)
	exec(`CREATE TEMP TABLE site_list AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM sites`)
	exec(`INSERT INTO assets (id, site_id, asset_type)
		SELECT gen_random_uuid(), s.id, 'unit' FROM generate_series(0, $1 - 1) g JOIN site_list s ON s.i = g % 500`, n)
	exec(`INSERT INTO pm_plans (id, asset_id, name, cron, interval_days, horizon_days, lead_hours, duration_minutes,
			priority, starts_on, next_due_at, generate_at)
		SELECT gen_random_uuid(), a.id, 'Plan ' || a.g,
			CASE WHEN a.g % 20 < 10 THEN '0 9 ' || (1 + a.g % 28) || ' * *'
				WHEN a.g % 20 < 13 THEN '0 10 ' || (1 + a.g % 28) || ' */3 *'
				WHEN a.g % 20 < 15 THEN '30 8 * * ' || (1 + a.g % 5)
				WHEN a.g % 20 < 17 THEN '0 11 ' || (1 + a.g % 28) || ' ' || (1 + a.g % 12) || ' *' END,
			CASE WHEN a.g % 20 >= 17 THEN 30 + a.g % 151 END,
			30, 24, 60, 'normal', '2027-01-01',
			CASE WHEN a.g % 20 >= 17 THEN $1::timestamptz + (a.g % 29) * interval '1 day' ELSE $1::timestamptz - interval '1 day' END,
			$1::timestamptz - interval '30 days'
		FROM (SELECT id, row_number() OVER (ORDER BY id) AS g FROM assets) a`, benchStart)
	exec(`INSERT INTO pm_plan_skills (plan_id, skill_id)
		SELECT p.id, (SELECT id FROM skills ORDER BY id OFFSET abs(hashtext(p.id::text)) % 4 LIMIT 1) FROM pm_plans p`)
	exec(`ANALYZE`)
	now := func() time.Time { return benchStart }
	tickets := ticket.NewService(pool, ticket.Options{Now: now})
	lists := checklist.NewService(pool, tickets, nil, checklist.Options{Now: now})
	tickets.AddHooks(lists.Hooks())
	return NewService(pool, tickets, lists, Options{Now: now, BatchSize: batch, Workers: workers}), pool
}

// BenchmarkGenerate makes 30 days of work orders for 100k plans, then runs again: once as
// the scheduler does (the next-due index says nothing is due), and once with every cron
// plan's place rewound, so that each occurrence is offered again and refused by its key.
// The baseline generates plan by plan, one transaction each and one at a time, on 1k
// plans. Each first run
// starts from a fresh database, built with the timer stopped.
func BenchmarkGenerate(b *testing.B) {
	ctx := context.Background()
	generate := func(b *testing.B, s *Service, r *GenerateResult) {
		b.Helper()
		got, err := s.Generate(ctx)
		if err != nil {
			b.Fatal(err)
		}
		r.Plans += got.Plans
		r.WorkOrders += got.WorkOrders
	}
	report := func(b *testing.B, r GenerateResult, plans int) {
		took := b.Elapsed()
		b.ReportMetric(took.Seconds()/float64(b.N), "s/run")
		b.ReportMetric(float64(r.WorkOrders)/took.Seconds(), "work-orders/s")
		b.ReportMetric(took.Seconds()*100_000/float64(plans*b.N), "s/100k-plans")
	}
	// Databases live as long as owner: the first run's stays for the reruns.
	firstRuns := func(owner testing.TB, plans, batch, workers int, last **Service, lastPool **pgxpool.Pool) func(b *testing.B) {
		return func(b *testing.B) {
			var r GenerateResult
			for range b.N {
				b.StopTimer()
				s, pool := benchPlans(owner, plans, batch, workers)
				b.StartTimer()
				generate(b, s, &r)
				if last != nil {
					*last, *lastPool = s, pool
				}
			}
			report(b, r, plans)
			b.ReportMetric(float64(r.WorkOrders)/float64(b.N), "work-orders")
		}
	}
	b.Run("plans=100k,days=30/baseline-one-by-one-1k", firstRuns(b, 1000, 1, 1, nil, nil))
	var s *Service
	var pool *pgxpool.Pool
	b.Run("plans=100k,days=30/first-run", firstRuns(b, 100_000, 0, 0, &s, &pool))
	if s == nil {
		b.Fatal("the first run failed")
	}
	b.Run("plans=100k,days=30/rerun", func(b *testing.B) {
		var r GenerateResult
		for b.Loop() {
			generate(b, s, &r)
		}
		if r.WorkOrders != 0 {
			b.Fatalf("a rerun made %d work orders", r.WorkOrders)
		}
		report(b, r, 100_000)
	})
	b.Run("plans=100k,days=30/rerun-rewound", func(b *testing.B) {
		var r GenerateResult
		for range b.N {
			b.StopTimer()
			if _, err := pool.Exec(ctx, `UPDATE pm_plans SET next_due_at = $1, generate_at = $1 WHERE cron IS NOT NULL`,
				benchStart.Add(-24*time.Hour)); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			generate(b, s, &r)
		}
		if r.WorkOrders != 0 {
			b.Fatalf("a rewound rerun made %d work orders", r.WorkOrders)
		}
		report(b, r, 100_000)
	})
}
