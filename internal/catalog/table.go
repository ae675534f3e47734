package catalog

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
)

// table is what differs between kinds of catalog record when reading, listing and
// (de)activating them; the doing is the same for all.
type table[T any] struct {
	name   string // the SQL table
	what   string // the record in messages: "client"
	alias  string // the table's alias in sel
	sel    string // SELECT … FROM name alias [JOIN …], without WHERE
	scan   postgres.Scanner[T]
	id     func(T) uuid.UUID
	search []string // the columns ?q= looks in, for part of their text
}

func (t table[T]) get(ctx context.Context, q postgres.Querier, id uuid.UUID) (T, error) {
	return postgres.GetByID(ctx, q, t.what, t.sel+" WHERE "+t.alias+".id = $1", id, t.scan)
}

// list adds the filters every kind has (active, q) to the kind's own in w.
func (t table[T]) list(ctx context.Context, q postgres.Querier, f Filter, w postgres.Where, p page.Request) (page.Page[T], error) {
	if f.Active != nil {
		w.Add(t.alias+".active = %s", *f.Active)
	}
	if f.Query != "" {
		conds := make([]string, len(t.search))
		for i, col := range t.search {
			conds[i] = col + " ILIKE %[1]s"
		}
		w.Add("("+strings.Join(conds, " OR ")+")", postgres.Contains(f.Query))
	}
	return postgres.ListPage(ctx, q, t.sel, w, postgres.Key{Column: t.alias + ".id"}, p, t.scan, t.id)
}

func (t table[T]) setActive(ctx context.Context, q postgres.Querier, id uuid.UUID, active bool) (T, error) {
	if err := postgres.SetActive(ctx, q, t.name, t.what, id, active); err != nil {
		var zero T
		return zero, err
	}
	return t.get(ctx, q, id)
}
