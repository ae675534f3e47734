package postgres_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twpayne/go-geom"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/postgres"
)

func TestMigrationsProduceACurrentPostGISSchema(t *testing.T) {
	pool := dbtest.MustPool(t)
	ctx := context.Background()
	var version string
	if err := pool.QueryRow(ctx, `SELECT postgis_lib_version()`).Scan(&version); err != nil {
		t.Fatalf("postgis is not installed in the migrated database: %v", err)
	}
	current, target, err := postgres.SchemaVersions(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if current != target || target < 1 {
		t.Fatalf("schema at %d, binary wants %d", current, target)
	}
	if err := postgres.CheckSchema(ctx, pool); err != nil {
		t.Fatal(err)
	}
	// Migrating again is a no-op.
	applied, err := postgres.Migrate(ctx, pool)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second migrate applied %v, err %v", applied, err)
	}
	var indexed bool
	err = pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE tablename = 'sites' AND indexdef LIKE '%USING gist (location)%')`).Scan(&indexed)
	if err != nil || !indexed {
		t.Fatalf("sites.location has no GiST index (err %v)", err)
	}
}

func TestCheckSchemaRefusesAnOlderDatabase(t *testing.T) {
	pool := dbtest.MustPool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	err := postgres.CheckSchema(ctx, pool)
	if err == nil {
		t.Fatal("an old schema was accepted")
	}
	t.Log(err)
}

func TestGeometryCodecRoundTrip(t *testing.T) {
	pool := dbtest.MustPool(t)
	ctx := context.Background()
	for _, p := range []geo.Point{{Lat: 55.7558, Lng: 37.6173}, {Lat: -89.99, Lng: 179.999}, {Lat: 0, Lng: -180}} {
		var got geo.Point
		var lat, lng float64
		err := pool.QueryRow(ctx, `SELECT $1::geography, ST_Y($1::geometry), ST_X($1::geometry)`, p).Scan(&got, &lat, &lng)
		if err != nil {
			t.Fatal(err)
		}
		if got != p || math.Abs(lat-p.Lat) > 1e-12 || math.Abs(lng-p.Lng) > 1e-12 {
			t.Fatalf("sent %+v, got back %+v (PostGIS saw lat %v lng %v)", p, got, lat, lng)
		}
	}
	// A NULL geography scans into a nil pointer; go-geom values work as well.
	var missing *geo.Point
	var g geom.T
	err := pool.QueryRow(ctx, `SELECT NULL::geography, ST_GeogFromText('SRID=4326;POINT(30.3 59.9)')`).Scan(&missing, &g)
	if err != nil {
		t.Fatal(err)
	}
	if missing != nil || g.(*geom.Point).Y() != 59.9 || g.SRID() != geo.SRID {
		t.Fatalf("got %v and %v", missing, g)
	}
	// Distances come out in metres on the spheroid: Moscow to St Petersburg is ~634 km.
	var metres float64
	err = pool.QueryRow(ctx, `SELECT ST_Distance($1::geography, $2::geography)`,
		geo.Point{Lat: 55.7558, Lng: 37.6173}, geo.Point{Lat: 59.9386, Lng: 30.3141}).Scan(&metres)
	if err != nil || metres < 630e3 || metres > 640e3 {
		t.Fatalf("distance %v m, err %v", metres, err)
	}
}

func fieldError(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	var e *apperr.Error
	if !errors.As(postgres.MapError(err), &e) || e.Code != code || e.Fields[field] == "" {
		t.Fatalf("got %v, want %s on field %q", postgres.MapError(err), code, field)
	}
}

func mustClientAndSite(t *testing.T, pool *pgxpool.Pool) (client, site uuid.UUID) {
	t.Helper()
	client, site = uuid.New(), uuid.New()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO clients (id, name, tax_id) VALUES ($1, 'ООО Ромашка', '7701234567')`, client); err != nil {
		t.Fatal(err)
	}
	_, err := pool.Exec(ctx, `INSERT INTO sites (id, client_id, name, address, location, time_zone)
		VALUES ($1, $2, 'Склад', 'Москва, ул. Тверская, д. 1', $3, 'Europe/Moscow')`, site, client, geo.Point{Lat: 55.76, Lng: 37.61})
	if err != nil {
		t.Fatal(err)
	}
	return client, site
}

func TestConstraintsBecomeFieldErrors(t *testing.T) {
	pool := dbtest.MustPool(t)
	ctx := context.Background()
	client, site := mustClientAndSite(t, pool)

	_, err := pool.Exec(ctx, `INSERT INTO clients (id, name, tax_id) VALUES ($1, 'Другой', '7701234567')`, uuid.New())
	fieldError(t, err, apperr.Conflict, "tax_id")

	_, err = pool.Exec(ctx, `INSERT INTO sites (id, client_id, name, address, location, time_zone)
		VALUES ($1, $2, 'X', 'Y', $3, 'UTC')`, uuid.New(), uuid.New(), geo.Point{Lat: 1, Lng: 1})
	fieldError(t, err, apperr.Invalid, "client_id")

	_, err = pool.Exec(ctx, `INSERT INTO users (id, email, full_name, role, password_hash) VALUES ($1, 'a@b.c', 'A', 'client', 'x')`, uuid.New())
	fieldError(t, err, apperr.Invalid, "client_id")

	// A ticket's site must belong to the ticket's client, even if both exist.
	other := mustClient(t, pool, "7709999999")
	_, err = pool.Exec(ctx, `INSERT INTO tickets (id, number, client_id, site_id, kind, priority, title)
		VALUES ($1, '2026-000001', $2, $3, 'incident', 'normal', 'Не работает')`, uuid.New(), other, site)
	fieldError(t, err, apperr.Invalid, "site_id")
	_, err = pool.Exec(ctx, `INSERT INTO tickets (id, number, client_id, site_id, kind, priority, title)
		VALUES ($1, '2026-000001', $2, $3, 'incident', 'normal', 'Не работает')`, uuid.New(), client, site)
	if err != nil {
		t.Fatalf("a consistent ticket was refused: %v", err)
	}
}

func mustClient(t *testing.T, pool *pgxpool.Pool, tax string) uuid.UUID {
	t.Helper()
	client := uuid.New()
	if _, err := pool.Exec(context.Background(), `INSERT INTO clients (id, name, tax_id) VALUES ($1, 'ООО Лютик', $2)`, client, tax); err != nil {
		t.Fatal(err)
	}
	return client
}

func TestTicketEventsAreAppendOnly(t *testing.T) {
	pool := dbtest.MustPool(t)
	ctx := context.Background()
	client, site := mustClientAndSite(t, pool)
	ticket := uuid.New()
	_, err := pool.Exec(ctx, `INSERT INTO tickets (id, number, client_id, site_id, kind, priority, title)
		VALUES ($1, '2026-000007', $2, $3, 'incident', 'high', 'Течёт')`, ticket, client, site)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO ticket_events (ticket_id, kind, to_status) VALUES ($1, 'created', 'new')`, ticket); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE ticket_events SET kind = 'forged'`); err == nil {
		t.Fatal("an event was rewritten")
	}
	if _, err := pool.Exec(ctx, `DELETE FROM ticket_events`); err == nil {
		t.Fatal("an event was deleted")
	}
}

func TestWithTxRollsBackOnErrorAndPanic(t *testing.T) {
	pool := dbtest.MustPool(t)
	ctx := context.Background()
	insert := func(tx pgx.Tx, name string) {
		if _, err := tx.Exec(ctx, `INSERT INTO skills (id, code, name) VALUES ($1, $2, $2)`, uuid.New(), name); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("boom")
	if err := postgres.WithTx(ctx, pool, func(tx pgx.Tx) error { insert(tx, "welding"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = postgres.WithTx(ctx, pool, func(tx pgx.Tx) error { insert(tx, "plumbing"); panic("boom") })
	}()
	if err := postgres.WithTx(ctx, pool, func(tx pgx.Tx) error { insert(tx, "hvac"); return nil }); err != nil {
		t.Fatal(err)
	}
	var codes []string
	rows, _ := pool.Query(ctx, `SELECT code FROM skills ORDER BY code`)
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(codes) != 1 || codes[0] != "hvac" {
		t.Fatalf("skills after the transactions: %v (err %v)", codes, err)
	}
}

func TestNestedTransactionsAreSavepoints(t *testing.T) {
	pool := dbtest.MustPool(t)
	ctx := context.Background()
	insert := func(ctx context.Context, code string, fail bool) error {
		return postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO skills (id, code, name) VALUES ($1, $2, $2)`, uuid.New(), code); err != nil {
				return err
			}
			if fail {
				return errors.New("refused")
			}
			return nil
		})
	}
	err := postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
		inner := postgres.InTx(ctx, tx)
		if err := insert(inner, "kept", false); err != nil {
			return err
		}
		if err := insert(inner, "undone", true); err == nil {
			t.Fatal("the failing savepoint reported success")
		}
		var n int
		if err := postgres.Q(inner, pool).QueryRow(ctx, `SELECT count(*) FROM skills`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("inside the transaction %d skills (%v), want 1", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := pool.Query(ctx, `SELECT code FROM skills`)
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(codes) != 1 || codes[0] != "kept" {
		t.Fatalf("after commit: %v %v", codes, err)
	}
}

// skillCodes lists the skills' codes in order.
func skillCodes(t *testing.T, q postgres.Querier) []string {
	t.Helper()
	rows, _ := q.Query(context.Background(), `SELECT code FROM skills ORDER BY code`)
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

func TestWithTxBatchRunsItsFirstQueriesInTheTransaction(t *testing.T) {
	pool := dbtest.MustPool(t)
	ctx := context.Background()
	const insert = `INSERT INTO skills (id, code, name) VALUES (gen_random_uuid(), $1, $1)`
	boom := errors.New("boom")
	run := func(ctx context.Context, first string, fail error) (seen []string, called bool, err error) {
		var b pgx.Batch
		postgres.GenericPlans(&b)
		b.Queue(insert, first)
		b.Queue(`SELECT code FROM skills ORDER BY code`).Query(func(rows pgx.Rows) (err error) {
			seen, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		err = postgres.WithTxBatch(ctx, pool, &b, func(tx pgx.Tx) error {
			called = true
			var mode string
			if err := tx.QueryRow(ctx, `SELECT current_setting('plan_cache_mode')`).Scan(&mode); err != nil || mode != "force_generic_plan" {
				t.Errorf("plan_cache_mode in the transaction is %q (%v)", mode, err)
			}
			if _, err := tx.Exec(ctx, insert, first+"_then"); err != nil {
				return err
			}
			return fail
		})
		return seen, called, err
	}

	// fn fails: the batch's writes go with its own.
	if seen, called, err := run(ctx, "welding", boom); !errors.Is(err, boom) || !called || len(seen) != 1 || seen[0] != "welding" {
		t.Fatalf("failing fn: err %v, called %v, the batch read %v", err, called, seen)
	}
	// A query of the batch fails (a duplicate code): fn never runs.
	if _, err := pool.Exec(ctx, insert, "hvac"); err != nil {
		t.Fatal(err)
	}
	if _, called, err := run(ctx, "hvac", nil); err == nil || called {
		t.Fatalf("failing batch: err %v, fn called %v", err, called)
	}
	if _, _, err := run(ctx, "plumbing", nil); err != nil {
		t.Fatal(err)
	}
	if codes := skillCodes(t, pool); !slices.Equal(codes, []string{"hvac", "plumbing", "plumbing_then"}) {
		t.Fatalf("skills after the transactions: %v", codes)
	}
	if n := pool.Stat().AcquiredConns(); n != 0 {
		t.Fatalf("%d connections still acquired", n)
	}

	// Inside a transaction ctx carries, a failure undoes only the savepoint's work.
	err := postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
		inner := postgres.InTx(ctx, tx)
		if _, _, err := run(inner, "welding", boom); !errors.Is(err, boom) {
			t.Fatalf("nested: %v", err)
		}
		_, _, err := run(inner, "roofing", nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if codes := skillCodes(t, pool); !slices.Equal(codes, []string{"hvac", "plumbing", "plumbing_then", "roofing", "roofing_then"}) {
		t.Fatalf("skills after the nested transactions: %v", codes)
	}
}

func TestGenericPlansEndWithTheBatchOutsideATransaction(t *testing.T) {
	pool := dbtest.MustPool(t)
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var b pgx.Batch
	var during, after string
	postgres.GenericPlans(&b)
	b.Queue(`SELECT current_setting('plan_cache_mode')`).QueryRow(func(row pgx.Row) error { return row.Scan(&during) })
	if err := conn.SendBatch(ctx, &b).Close(); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT current_setting('plan_cache_mode')`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if during != "force_generic_plan" || after != "auto" {
		t.Fatalf("plan_cache_mode %q in the batch and %q after it", during, after)
	}
}
