// Package postgres is the one place that knows how the service talks to PostgreSQL:
// the pool, transactions, migrations, and turning driver errors into apperr errors.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Connect opens a pool whose connections understand PostGIS geometry (see geometry.go)
// and scan timestamps in UTC.
func Connect(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DATABASE_URL: %w", err)
	}
	// pgxpool's default (four connections on two cores) would leave requests queueing
	// behind the periodic jobs and dispatch batches; pool_max_conns in the URL decides.
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, 12)
	}
	// Times rendered by the database (JSON built in SQL) are UTC like the API's.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		// Times leave the service in UTC, whatever the server's or the machine's zone.
		conn.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return registerGeometry(ctx, conn)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return pool, nil
}

// Querier is what both a pool and a transaction offer, so store functions take either.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type txKey struct{}

// InTx returns ctx carrying tx: services called with it work inside that transaction
// (WithTx nests as a savepoint, Q reads through it). A sync push applies a whole batch
// of mutations this way, through the same services the HTTP API uses.
func InTx(ctx context.Context, tx pgx.Tx) context.Context { return context.WithValue(ctx, txKey{}, tx) }

// Q is the transaction ctx carries, or pool.
func Q(ctx context.Context, pool *pgxpool.Pool) Querier {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return tx
	}
	return pool
}

// GenericPlans queues the setting that makes the rest of b's transaction plan each
// statement once, whatever its parameters. It is for statements that take arrays of
// ids: PostgreSQL would plan each call afresh for its array's length, and planning a
// join over a table with many indexes costs more than running it. Their plans never
// depend on the values. (set_config, unlike SET LOCAL, works in the implicit
// transaction of a batch sent outside one, without a warning.)
func GenericPlans(b *pgx.Batch) {
	b.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`)
}

// WithTx runs fn in a transaction, committing when it returns nil and rolling back
// otherwise (also when it panics). Inside a transaction ctx carries, fn runs in a
// savepoint of it: its failure undoes only its own work.
func WithTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx) error) error {
	return WithTxBatch(ctx, pool, nil, fn)
}

// WithTxBatch is WithTx whose transaction starts with the queries of first (nil: none),
// sent in the same round trip as its BEGIN; their callbacks have run, and have
// succeeded, when fn is called. A transaction that reads and locks rows before it
// decides what to write saves a round trip this way.
func WithTxBatch(ctx context.Context, pool *pgxpool.Pool, first *pgx.Batch, fn func(tx pgx.Tx) error) (err error) {
	tx, err := begin(ctx, pool, first)
	if tx == nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer func() {
		if err != nil {
			// The rollback's own error adds nothing: the transaction is gone either way.
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
	}()
	if err != nil { // a query of first failed
		return err
	}
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return MapError(fmt.Errorf("postgres: commit: %w", err))
	}
	return nil
}

// begin starts the transaction (a savepoint of the one ctx carries) and runs first in it.
// Once the transaction exists it is returned, with the error of first if any, to be
// rolled back.
func begin(ctx context.Context, pool *pgxpool.Pool, first *pgx.Batch) (pgx.Tx, error) {
	outer, nested := ctx.Value(txKey{}).(pgx.Tx)
	if !nested && first != nil {
		var b pgx.Batch
		b.BeginTx(pgx.TxOptions{})
		b.QueuedQueries = append(b.QueuedQueries, first.QueuedQueries...)
		results := pool.SendBatch(ctx, &b)
		return results.Tx(), results.Close()
	}
	var tx pgx.Tx
	var err error
	if nested {
		tx, err = outer.Begin(ctx)
	} else {
		tx, err = pool.Begin(ctx)
	}
	if err == nil && first != nil {
		err = tx.SendBatch(ctx, first).Close()
	}
	return tx, err
}

// ErrNoRows reports whether err means a query found nothing.
func ErrNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
