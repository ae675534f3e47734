package mobileapi

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/ticket"
)

func (r *replica) clone() *replica {
	c := &replica{cursor: r.cursor, rows: map[string]map[uuid.UUID]json.RawMessage{}}
	for name, rows := range r.rows {
		c.rows[name] = maps.Clone(rows)
	}
	return c
}

func wantIDs(t *testing.T, r *replica, table string, want ...uuid.UUID) {
	t.Helper()
	got := r.ids(table)
	if len(got) != len(want) {
		t.Fatalf("%s: device holds %d rows, want %d (%v)", table, len(got), len(want), want)
	}
	for _, id := range want {
		if !got[id] {
			t.Fatalf("%s: device lacks %s", table, id)
		}
	}
}

func TestScopeFollowsAssignment(t *testing.T) {
	d := newDesk(t, Options{})
	ctx := context.Background()
	s1, a1 := d.site()
	s2, a2 := d.site()
	t1 := d.ticketFor(0, s1, a1)
	t2 := d.ticketFor(0, s2, a2)
	t3 := d.ticketFor(0, s2, a2) // a second ticket at s2 keeps it on the device
	comment, _, err := d.tickets.AddComment(ctx, d.dispatch, t1, ticket.NewComment{Body: "Код домофона 1234"})
	if err != nil {
		t.Fatal(err)
	}
	r := newReplica()
	r.sync(t, d, 0)
	wantIDs(t, r, "tickets", t1, t2, t3)
	wantIDs(t, r, "sites", s1, s2)
	wantIDs(t, r, "assets", a1, a2)
	wantIDs(t, r, "comments", comment.ID)
	before := r.clone()

	d.assign(t1, 1) // away: t1 goes, and s1 and a1, which only it needed
	d.assign(t2, 1) // away: s2 and a2 stay for t3
	r.sync(t, d, 0)
	wantIDs(t, r, "tickets", t3)
	wantIDs(t, r, "sites", s2)
	wantIDs(t, r, "assets", a2)
	wantIDs(t, r, "comments")

	other := newReplica()
	other.sync(t, d, 1)
	wantIDs(t, other, "tickets", t1, t2)
	wantIDs(t, other, "comments", comment.ID)

	d.assign(t1, 0) // back, with everything it needs
	r.sync(t, d, 0)
	wantIDs(t, r, "tickets", t1, t3)
	wantIDs(t, r, "sites", s1, s2)
	wantIDs(t, r, "comments", comment.ID)

	// A device that was offline through all of it catches up from its old cursor.
	before.sync(t, d, 0)
	for _, table := range []string{"tickets", "sites", "assets", "comments"} {
		if !maps.EqualFunc(before.rows[table], r.rows[table], func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
			t.Fatalf("%s: the device that slept holds %v, the other %v", table, before.ids(table), r.ids(table))
		}
	}
	other.sync(t, d, 1)
	wantIDs(t, other, "tickets", t2)
}

func TestAnUnusableCursorAsksForAReset(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	clock := &now
	d := newDesk(t, Options{Now: func() time.Time { return *clock }, CursorMaxAge: 24 * time.Hour})
	ctx := context.Background()
	r := newReplica()
	r.sync(t, d, 0)
	good := r.cursor
	tampered := []byte(good)
	tampered[10] ^= 1
	pull := func(e int, cursor string) Page {
		t.Helper()
		page, err := d.m.Pull(ctx, d.eng[e].p, d.eng[e].device, cursor)
		if err != nil {
			t.Fatal(err)
		}
		return page
	}
	for name, page := range map[string]Page{
		"tampered":       pull(0, string(tampered)),
		"garbage":        pull(0, "not-a-cursor"),
		"another device": pull(1, good),
	} {
		if !page.Reset || page.Reason == "" || page.NextCursor != "" {
			t.Errorf("%s: %+v", name, page)
		}
	}
	if page := pull(0, good); page.Reset {
		t.Fatalf("a good cursor: %+v", page)
	}
	later := now.Add(25 * time.Hour)
	clock = &later
	if page := pull(0, good); !page.Reset {
		t.Fatal("a cursor older than CursorMaxAge was served")
	}
	clock = &now
	d.exec(`UPDATE sync_settings SET epoch = epoch + 1`)
	if page := pull(0, good); !page.Reset {
		t.Fatal("a cursor from an earlier data epoch was served")
	}
	fresh := newReplica()
	fresh.sync(t, d, 0) // starting over works
}

func TestPagesAreBoundedByRowsAndBytes(t *testing.T) {
	for name, o := range map[string]Options{"rows": {PageRows: 3}, "bytes": {PageBytes: 900}} {
		t.Run(name, func(t *testing.T) {
			d := newDesk(t, o)
			site, asset := d.site()
			var want []uuid.UUID
			for range 10 {
				want = append(want, d.ticketFor(0, site, asset))
			}
			r := newReplica()
			r.sync(t, d, 0)
			if r.pulls < 4 {
				t.Fatalf("%d pulls for 10 tickets, a site and an asset", r.pulls)
			}
			wantIDs(t, r, "tickets", want...)
			pages := r.pulls
			r.sync(t, d, 0)
			if r.pulls != pages+1 {
				t.Fatal("an empty pull took more than one page")
			}
		})
	}
}

// The proof: writers commit out of order (random delays inside their transactions)
// while a device pulls all the time. Afterwards the device holds exactly what a fresh
// full sync gives: nothing missed, nothing stale, nothing extra.
func TestOutOfOrderCommitsAreNeverMissed(t *testing.T) {
	d := newDesk(t, Options{PageRows: 7})
	ctx := context.Background()
	var mine []uuid.UUID
	for range 6 {
		site, asset := d.site()
		mine = append(mine, d.ticketFor(0, site, asset))
	}
	device := newReplica()
	device.sync(t, d, 0)

	stop := make(chan struct{})
	var pulling sync.WaitGroup
	pulling.Add(1)
	go func() {
		defer pulling.Done()
		for {
			select {
			case <-stop:
				return
			default:
				device.sync(t, d, 0)
			}
		}
	}()
	var writers sync.WaitGroup
	for w := range 8 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			r := rand.New(rand.NewPCG(uint64(w), 99))
			for i := range 30 {
				id := mine[r.IntN(len(mine))]
				tx, err := d.pool.Begin(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				switch r.IntN(3) {
				case 0:
					_, err = tx.Exec(ctx, `UPDATE tickets SET description = $2 WHERE id = $1`, id, uuid.NewString())
				case 1:
					_, err = tx.Exec(ctx, `INSERT INTO comments (id, ticket_id, author_id, visibility, body) VALUES ($1, $2, $3, 'public', $4)`,
						uuid.New(), id, d.dispatch.UserID, "запись "+uuid.NewString())
				default:
					_, err = tx.Exec(ctx, `UPDATE sites SET contact_name = $2 WHERE id = (SELECT site_id FROM tickets WHERE id = $1)`, id, uuid.NewString())
				}
				if err != nil {
					_ = tx.Rollback(ctx)
					t.Error(err)
					return
				}
				time.Sleep(time.Duration(r.IntN(25)) * time.Millisecond) // others commit meanwhile
				if i%7 == 6 {
					err = tx.Rollback(ctx) // an aborted writer leaves nothing behind
				} else {
					err = tx.Commit(ctx)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	writers.Wait()
	close(stop)
	pulling.Wait()
	device.sync(t, d, 0)

	truth := newReplica()
	truth.sync(t, d, 0)
	for _, table := range []string{"tickets", "sites", "assets", "comments", "skills"} {
		if !maps.EqualFunc(device.rows[table], truth.rows[table], func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
			t.Fatalf("%s: the device's %d rows differ from a fresh sync's %d", table, len(device.rows[table]), len(truth.rows[table]))
		}
	}
	var comments int
	if err := d.pool.QueryRow(ctx, `SELECT count(*) FROM comments`).Scan(&comments); err != nil || comments != len(device.rows["comments"]) {
		t.Fatalf("%d comments in the database, %d on the device (%v)", comments, len(device.rows["comments"]), err)
	}
}
