package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fieldsvc/internal/dbtest"
)

func TestEveryTicksOnTheSameInstantsEverywhere(t *testing.T) {
	e := Every(10 * time.Second)
	a := e.Next(time.Date(2026, 11, 23, 10, 0, 3, 0, time.UTC))
	b := e.Next(time.Date(2026, 11, 23, 10, 0, 7, 500, time.UTC))
	if !a.Equal(time.Date(2026, 11, 23, 10, 0, 10, 0, time.UTC)) || !a.Equal(b) {
		t.Fatalf("next ticks %s and %s, want both 10:00:10", a, b)
	}
	if n := e.Next(a); !n.Equal(a.Add(10 * time.Second)) {
		t.Fatalf("the tick after %s is %s", a, n)
	}
}

// Three servers run the same jobs at once: each tick of each job runs once, a slow run
// is not overlapped, and a panic is a failure that stops nothing.
func TestThreeServersMakeOneRunPerTick(t *testing.T) {
	pool := dbtest.MustPool(t)
	ctx := context.Background()
	var mu sync.Mutex
	ran := map[string]int{} // tick → runs of "count"
	var slow, panics atomic.Int32
	regs := make([]*prometheus.Registry, 3)
	var servers []*Scheduler
	for i := range regs {
		regs[i] = prometheus.NewRegistry()
		s := New(pool, slog.New(slog.DiscardHandler), regs[i], Options{Host: fmt.Sprintf("server-%d", i)})
		s.Add("count", Every(200*time.Millisecond), func(ctx context.Context) error {
			var tick time.Time
			// Not cut off by Stop: a run that began is counted, whatever Stop does.
			if err := pool.QueryRow(context.WithoutCancel(ctx), `SELECT max(tick) FROM schedule_runs WHERE job = 'count' AND finished_at IS NULL`).Scan(&tick); err != nil {
				return err
			}
			mu.Lock()
			ran[tick.String()]++
			mu.Unlock()
			return nil
		})
		s.Add("slow", Every(200*time.Millisecond), func(ctx context.Context) error {
			slow.Add(1)
			time.Sleep(500 * time.Millisecond) // longer than two ticks
			return nil
		})
		s.Add("broken", Every(200*time.Millisecond), func(ctx context.Context) error {
			panics.Add(1)
			panic("a bug")
		})
		servers = append(servers, s)
	}
	for _, s := range servers {
		s.Start()
	}
	time.Sleep(2 * time.Second)
	for _, s := range servers {
		s.Stop(ctx)
	}

	if len(ran) < 6 {
		t.Fatalf("count ran for %d ticks in 2 s of 200 ms ticks", len(ran))
	}
	for tick, n := range ran {
		if n != 1 {
			t.Errorf("tick %s ran %d times", tick, n)
		}
	}
	var rows, unfinished int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE finished_at IS NULL) FROM schedule_runs WHERE job = 'count'`).
		Scan(&rows, &unfinished); err != nil || rows != len(ran) || unfinished != 0 {
		t.Errorf("count's records: %d rows, %d unfinished, for %d runs (%v)", rows, unfinished, len(ran), err)
	}
	// 2 s of a 500 ms job: at most 4 or 5 runs, never two at once; the other ticks
	// found it busy.
	if n := slow.Load(); n < 2 || n > 5 {
		t.Errorf("the slow job ran %d times in 2 s", n)
	}
	var busy, failed, ok float64
	for _, reg := range regs {
		busy += metric(t, reg, "slow", "busy")
		failed += metric(t, reg, "broken", "failed")
		ok += metric(t, reg, "count", "ok")
	}
	if busy == 0 || int(failed) != int(panics.Load()) || failed < 6 || int(ok) != len(ran) {
		t.Errorf("metrics: slow busy %v, broken failed %v (panicked %d), count ok %v (ran %d)", busy, failed, panics.Load(), ok, len(ran))
	}
	var msg string
	if err := pool.QueryRow(ctx, `SELECT error FROM schedule_runs WHERE job = 'broken' LIMIT 1`).Scan(&msg); err != nil || msg != "panic: a bug" {
		t.Errorf("the panic's record: %q (%v)", msg, err)
	}
}

func metric(t *testing.T, reg *prometheus.Registry, job, outcome string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "fieldsvc_job_runs_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["job"] == job && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestOldRecordsArePruned(t *testing.T) {
	pool := dbtest.MustPool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO schedule_runs (job, tick, host, started_at)
		VALUES ('j', now() - interval '8 days', 'h', now() - interval '8 days'), ('other', now() - interval '8 days', 'h', now())`); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s := New(pool, slog.New(slog.DiscardHandler), reg, Options{})
	failure := errors.New("storage is down")
	outcome, _, err := s.claimAndRun(ctx, "j", time.Now().Truncate(time.Second), func(context.Context) error { return failure })
	if outcome != "failed" || !errors.Is(err, failure) {
		t.Fatalf("outcome %s, %v", outcome, err)
	}
	var jobs []string
	rows, _ := pool.Query(ctx, `SELECT job || ':' || coalesce(error, '') FROM schedule_runs ORDER BY job`)
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		jobs = append(jobs, s)
	}
	if fmt.Sprint(jobs) != "[j:storage is down other:]" {
		t.Errorf("records after the run: %v (the job's old one pruned, another job's kept)", jobs)
	}
}
