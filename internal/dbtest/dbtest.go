// Package dbtest gives each test its own PostgreSQL database, cloned in milliseconds from
// a template that is migrated once per migrations hash. It needs the server that
// `make test` starts (or DATABASE_URL pointing at one whose user may create databases),
// and fails loudly without it.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/postgres"
	"fieldsvc/migrations"
)

var template struct {
	once sync.Once
	name string
	err  error
}

// AdminURL is the server the tests use, from DATABASE_URL.
func AdminURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		tb.Fatal("DATABASE_URL is not set: run the tests with `make test`, which starts PostgreSQL " +
			"(or `eval \"$(scripts/services.sh env)\"` after `make services-up`)")
	}
	return u
}

// MustURL creates a fresh migrated database for this test, dropped when the test ends,
// and returns its URL.
func MustURL(tb testing.TB) string {
	tb.Helper()
	admin := AdminURL(tb)
	template.once.Do(func() { template.name, template.err = ensureTemplate(admin) })
	if template.err != nil {
		tb.Fatalf("dbtest: template database: %v", template.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := "fieldsvc_test_" + randomHex(8)
	if err := adminExec(ctx, admin, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, template.name)); err != nil {
		tb.Fatalf("dbtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := adminExec(ctx, admin, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			tb.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})
	dbURL, err := withDatabase(admin, name)
	if err != nil {
		tb.Fatal(err)
	}
	return dbURL
}

// MustPool is MustURL with a connected pool, closed when the test ends.
func MustPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := postgres.Connect(context.Background(), MustURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	// Registered after MustURL's cleanup, so it runs first: the pool closes before the drop.
	tb.Cleanup(pool.Close)
	return pool
}

// ensureTemplate builds the template for the current migrations once per server. The
// advisory lock serialises test binaries that start together; building under a
// temporary name and renaming makes a half-built template impossible to clone.
func ensureTemplate(admin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	hash, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "fieldsvc_tmpl_" + hash
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w (is PostgreSQL running? `make services-up`)", redact(admin), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('fieldsvc_dbtest_template'))`); err != nil {
		return "", err
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	for _, sql := range []string{
		fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building),
		fmt.Sprintf(`CREATE DATABASE %s`, building),
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return "", err
		}
	}
	buildURL, err := withDatabase(admin, building)
	if err != nil {
		return "", err
	}
	pool, err := postgres.Connect(ctx, buildURL)
	if err != nil {
		return "", err
	}
	_, err = postgres.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		return "", err
	}
	// The rename publishes the template. Templates of other migrations stay: another
	// checkout on this server may be testing with them.
	_, err = conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name))
	if err != nil {
		return "", err
	}
	return name, nil
}

func migrationsHash() (string, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		data, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

func adminExec(ctx context.Context, admin, sql string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns admin with its database replaced by name.
func withDatabase(admin, name string) (string, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", fmt.Errorf("dbtest: DATABASE_URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "DATABASE_URL"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}

// MustTracedPool connects to url with postgres.Connect's settings plus tracer, which sees
// every statement (benchmarks count round trips with it). The pool closes when tb ends.
func MustTracedPool(tb testing.TB, url string, tracer pgx.QueryTracer) *pgxpool.Pool {
	tb.Helper()
	ctx := context.Background()
	plain, err := postgres.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := plain.Config()
	plain.Close()
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close) // registered after MustURL's drop, so it runs first
	return pool
}
