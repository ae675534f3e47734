package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/page"
)

// Where builds a WHERE clause from optional filters.
type Where struct {
	conds []string
	Args  []any
}

// Add appends a condition; its %s is replaced by the argument's placeholder.
func (w *Where) Add(cond string, arg any) {
	w.Args = append(w.Args, arg)
	w.conds = append(w.conds, fmt.Sprintf(cond, "$"+strconv.Itoa(len(w.Args))))
}

// Cond appends a condition that takes no argument.
func (w *Where) Cond(cond string) { w.conds = append(w.conds, cond) }

// SQL returns " WHERE a AND b", or "" without conditions.
func (w *Where) SQL() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// Scanner reads one row into a T; the same function serves Get and List.
type Scanner[T any] func(row pgx.Row) (T, error)

// GetByID runs query (whose only parameter is the id) and scans its one row. No row is
// a NotFound naming what was looked for.
func GetByID[T any](ctx context.Context, q Querier, what, query string, id uuid.UUID, scan Scanner[T]) (T, error) {
	v, err := scan(q.QueryRow(ctx, query, id))
	if ErrNoRows(err) {
		return v, apperr.New(apperr.NotFound, "%s %s not found", what, id)
	}
	if err != nil {
		return v, fmt.Errorf("postgres: get %s: %w", what, MapError(err))
	}
	return v, nil
}

// Key is the id column a list is ordered and paged by; Desc lists newest first.
type Key struct {
	Column string
	Desc   bool
}

// ListPage runs base (a SELECT without WHERE) with the filters and keyset pagination on
// key, returning one page.
func ListPage[T any](ctx context.Context, q Querier, base string, w Where, key Key, p page.Request,
	scan Scanner[T], id func(T) uuid.UUID) (page.Page[T], error) {
	cmp, dir := ">", "ASC"
	if key.Desc {
		cmp, dir = "<", "DESC"
	}
	if p.After != nil {
		w.Add(key.Column+" "+cmp+" %s", *p.After)
	}
	sql := fmt.Sprintf("%s%s ORDER BY %s %s LIMIT %d", base, w.SQL(), key.Column, dir, p.Size()+1)
	rows, err := q.Query(ctx, sql, w.Args...)
	if err != nil {
		return page.Page[T]{}, fmt.Errorf("postgres: list: %w", MapError(err))
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
	if err != nil {
		return page.Page[T]{}, fmt.Errorf("postgres: list: %w", MapError(err))
	}
	return page.New(items, p, id), nil
}

// SetActive flips the active flag of one row of table (a constant from the caller).
func SetActive(ctx context.Context, q Querier, table, what string, id uuid.UUID, active bool) error {
	tag, err := q.Exec(ctx, "UPDATE "+table+" SET active = $2 WHERE id = $1", id, active)
	if err != nil {
		return fmt.Errorf("postgres: set active: %w", MapError(err))
	}
	if tag.RowsAffected() == 0 {
		return apperr.New(apperr.NotFound, "%s %s not found", what, id)
	}
	return nil
}

// Affected turns "no row changed" into a NotFound, for updates by id.
func Affected(tag interface{ RowsAffected() int64 }, err error, what string, id uuid.UUID) error {
	if err != nil {
		return MapError(err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.New(apperr.NotFound, "%s %s not found", what, id)
	}
	return nil
}

// Contains returns an ILIKE pattern matching text that contains s literally.
func Contains(s string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
}
