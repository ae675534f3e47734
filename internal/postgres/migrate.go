package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"fieldsvc/migrations"
)

// Migrate applies every pending migration. A session advisory lock makes concurrent
// runs (several replicas starting at once) wait for each other instead of colliding.
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := newProvider(db)
	if err != nil {
		return nil, err
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	applied := make([]string, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Path)
	}
	return applied, nil
}

func newProvider(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("postgres: migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return p, nil
}

// SchemaVersions returns the version the database is at and the newest version this
// binary carries. It only reads: a database never migrated is at version 0.
func SchemaVersions(ctx context.Context, q Querier) (current, target int64, err error) {
	target, err = embeddedVersion()
	if err != nil {
		return 0, 0, err
	}
	err = q.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&current)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: never migrated
		return 0, target, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return current, target, nil
}

// CheckSchema refuses a database older than the binary, naming the command that fixes it.
func CheckSchema(ctx context.Context, q Querier) error {
	current, target, err := SchemaVersions(ctx, q)
	if err != nil {
		return err
	}
	if current < target {
		return fmt.Errorf("database schema is at version %d but this binary needs %d: run `fieldsvc migrate`", current, target)
	}
	return nil
}

func embeddedVersion() (int64, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return 0, err
	}
	var newest int64
	for _, name := range names {
		digits, _, _ := strings.Cut(name, "_")
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("postgres: migration %s has no numeric version", name)
		}
		newest = max(newest, v)
	}
	return newest, nil
}
