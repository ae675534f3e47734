package mobileapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/auth"
)

// Page is one pull: per table the rows to store (upserted) and the ids to drop
// (removed), the cursor to send next time, and whether more is waiting right now.
// Reset means the cursor cannot be served: drop the synced data (not the unsent
// mutations) and pull again without a cursor.
type Page struct {
	Reset      bool                    `json:"reset"`
	Reason     string                  `json:"reason,omitempty"`
	Changes    map[string]*TableChange `json:"changes"`
	NextCursor string                  `json:"next_cursor,omitempty"`
	HasMore    bool                    `json:"has_more"`
}

// TableChange is what changed in one table.
type TableChange struct {
	Upserted []json.RawMessage `json:"upserted"`
	Removed  []uuid.UUID       `json:"removed"`
}

// Pull returns the next page of changes for the calling engineer's device. An empty
// cursor starts from scratch (the first sync, or after a reset).
func (s *Service) Pull(ctx context.Context, p auth.Principal, device uuid.UUID, raw string) (Page, error) {
	engineer, err := s.device(ctx, p, device)
	if err != nil {
		return Page{}, err
	}
	epoch, horizon, err := s.epochAndHorizon(ctx)
	if err != nil {
		return Page{}, err
	}
	c := cursor{Epoch: epoch, Engineer: engineer, Device: device}
	if raw != "" {
		if c, err = decodeCursor(raw, s.opts.Secret); err != nil {
			return resetPage(err.Error()), nil
		}
		switch {
		case c.Epoch != epoch:
			return resetPage("the server's data was reloaded; sync from scratch"), nil
		case c.Engineer != engineer || c.Device != device:
			return resetPage("the cursor belongs to another device or engineer"), nil
		case s.now().Sub(c.issuedAt()) > s.opts.CursorMaxAge:
			return resetPage("the cursor is too old; sync from scratch"), nil
		}
	}
	if c.High == 0 { // a new window: everything finished by now and not yet served
		c.High = max(horizon, c.Low)
	}
	page := Page{Changes: map[string]*TableChange{}}
	if c.Low == c.High { // nothing has finished since: nothing can have changed
		c.Table = uint8(len(tables))
	}
	// Every table left in the window goes in one round trip; each reads at most a page,
	// and what does not fit waits for the next pull.
	low, high := strconv.FormatUint(c.Low, 10), strconv.FormatUint(c.High, 10)
	batch := &pgx.Batch{}
	for t := int(c.Table); t < len(tables); t++ {
		after := uuid.Nil
		if t == int(c.Table) {
			after = c.After
		}
		batch.Queue(tables[t].sql, engineer, low, high, after, s.opts.PageRows+1)
	}
	results := s.pool.SendBatch(ctx, batch)
	defer results.Close()
	rows, bytes := 0, 0
	for ; int(c.Table) < len(tables); c.Table, c.After = c.Table+1, uuid.Nil {
		t := tables[c.Table]
		change := &TableChange{Upserted: []json.RawMessage{}, Removed: []uuid.UUID{}}
		page.Changes[t.name] = change
		got, err := results.Query()
		if err != nil {
			return Page{}, fmt.Errorf("mobileapi: pull %s: %w", t.name, err)
		}
		var id uuid.UUID
		var present bool
		var body []byte
		_, err = pgx.ForEachRow(got, []any{&id, &present, &body}, func() error {
			if page.HasMore || rows >= s.opts.PageRows || bytes >= s.opts.PageBytes {
				page.HasMore = true
				return nil // the rest waits for the next page
			}
			if present {
				change.Upserted = append(change.Upserted, append(json.RawMessage(nil), body...))
				bytes += len(body)
			} else {
				change.Removed = append(change.Removed, id)
				bytes += 40
			}
			rows++
			c.After = id
			return nil
		})
		if err != nil {
			return Page{}, fmt.Errorf("mobileapi: pull %s: %w", t.name, err)
		}
		if page.HasMore {
			break
		}
	}
	if !page.HasMore { // the window is served: the next one starts where it ended
		c = cursor{Epoch: epoch, Engineer: engineer, Device: device, Low: c.High}
	}
	c.Issued = s.now().Unix()
	page.NextCursor = c.encode(s.opts.Secret)
	return page, nil
}

func resetPage(reason string) Page {
	return Page{Reset: true, Reason: reason, Changes: map[string]*TableChange{}}
}

// horizonSQL finds where a new window ends: the oldest transaction still running that could
// write this database (every stamp below it is final), or the next transaction id when
// none is. Transaction ids are shared by every database of the server, so a transaction
// known to run in another database (a long report, a dump) is left out: it must not
// hold the sync back. One whose database cannot be seen counts, which is safe.
const horizonSQL = `
	WITH snap AS (SELECT pg_current_snapshot() AS s),
	elsewhere AS (SELECT backend_xid::text::bigint AS xid FROM pg_stat_activity
		WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database() AND datname IS NOT NULL)
	SELECT (SELECT epoch FROM sync_settings), coalesce(
		(SELECT min(x) FROM snap, pg_snapshot_xip(snap.s) AS x
			WHERE (x::text::numeric % 4294967296)::bigint NOT IN (SELECT xid FROM elsewhere)),
		(SELECT pg_snapshot_xmax(snap.s) FROM snap))::text`

// epochAndHorizon reads the data epoch and the horizon, in one round trip.
func (s *Service) epochAndHorizon(ctx context.Context) (uint32, uint64, error) {
	var epoch uint32
	var h string
	if err := s.pool.QueryRow(ctx, horizonSQL).Scan(&epoch, &h); err != nil {
		return 0, 0, fmt.Errorf("mobileapi: horizon: %w", err)
	}
	horizon, err := strconv.ParseUint(h, 10, 64)
	return epoch, horizon, err
}
