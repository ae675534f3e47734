// Package schedule runs the service's periodic jobs (SLA sweep, dispatch upkeep,
// archiving, cleanup, preventive maintenance) on robfig/cron inside every server, and
// makes each tick of a job run once however many servers are up: the server that runs it
// holds a PostgreSQL advisory lock for the job, so a slow run never overlaps the next,
// and claims the tick with a row, so a server a moment late skips it. Panics are
// recovered; every run is logged, recorded and counted in the metrics.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
)

// Job is one run of a periodic job. Its error is logged and counted; the next tick runs
// it again.
type Job func(ctx context.Context) error

// Options tune a Scheduler. Zero values take the defaults noted.
type Options struct {
	// Timeout bounds one run. Default 10 minutes.
	Timeout time.Duration
	// Keep is how long run records are kept. Default 7 days.
	Keep time.Duration
	// Host names this server in the run records; the host name when empty.
	Host string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Scheduler runs jobs on their schedules.
type Scheduler struct {
	cron    *cron.Cron
	pool    *pgxpool.Pool
	log     *slog.Logger
	opts    Options
	runs    *prometheus.CounterVec
	seconds *prometheus.HistogramVec
	ctx     context.Context // the jobs' context, ended by Stop
	stop    context.CancelFunc
	entries sync.Map // job name → cron.EntryID
	running sync.Map // job name → *atomic.Bool, set while this server runs it
	locks   locks
}

// New returns a Scheduler whose metrics go to reg.
func New(pool *pgxpool.Pool, log *slog.Logger, reg prometheus.Registerer, o Options) *Scheduler {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Keep <= 0 {
		o.Keep = 7 * 24 * time.Hour
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Scheduler{cron: cron.New(), pool: pool, log: log, opts: o,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fieldsvc_job_runs_total",
			Help: "Periodic job ticks by outcome: ok, failed, busy (another server still runs the job), done (another server ran the tick)."},
			[]string{"job", "outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fieldsvc_job_duration_seconds",
			Help: "How long periodic job runs took, failed ones included.", Buckets: prometheus.ExponentialBuckets(0.005, 4, 10)},
			[]string{"job"}),
	}
	s.locks.cfg = pool.Config().ConnConfig.Copy()
	reg.MustRegister(s.runs, s.seconds)
	s.ctx, s.stop = context.WithCancel(context.Background())
	return s
}

// Every is a schedule of ticks every d, at multiples of d since the zero time: every
// server's ticks fall on the same instants, whenever it started.
func Every(d time.Duration) cron.Schedule { return every(d) }

type every time.Duration

func (e every) Next(t time.Time) time.Time {
	d := time.Duration(e)
	return t.Truncate(d).Add(d)
}

// Add runs job on sched under name (which must be unique: it names the lock, the run
// records and the metrics).
func (s *Scheduler) Add(name string, sched cron.Schedule, job Job) {
	id := s.cron.Schedule(sched, cron.FuncJob(func() {
		// The tick this run is for, as cron scheduled it: the same on every server.
		tick := s.cron.Entry(s.entryOf(name)).Prev
		s.run(name, tick, job)
	}))
	s.entries.Store(name, id)
}

func (s *Scheduler) entryOf(name string) cron.EntryID {
	id, _ := s.entries.Load(name)
	return id.(cron.EntryID)
}

// Start starts running the jobs.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops scheduling, ends the context of the running jobs and waits for them (or for
// ctx to end).
func (s *Scheduler) Stop(ctx context.Context) {
	done := s.cron.Stop()
	s.stop()
	select {
	case <-done.Done():
	case <-ctx.Done():
	}
	s.locks.close(ctx)
}

// run runs one tick of a job, unless another server is still running the job or has
// run this tick already.
func (s *Scheduler) run(name string, tick time.Time, job Job) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
	defer cancel()
	log := s.log.With("job", name, "tick", tick.UTC().Format(time.RFC3339))
	outcome, took, err := s.claimAndRun(ctx, name, tick, job)
	if outcome == stopped {
		return
	}
	s.runs.WithLabelValues(name, outcome).Inc()
	switch outcome {
	case "ok":
		s.seconds.WithLabelValues(name).Observe(took.Seconds())
		log.Debug("job done", "duration_ms", took.Milliseconds())
	case "failed":
		s.seconds.WithLabelValues(name).Observe(took.Seconds())
		if ctx.Err() == nil || !errors.Is(err, context.Canceled) {
			log.Error("job failed", "duration_ms", took.Milliseconds(), "error", err.Error())
		}
	}
}

// stopped is the outcome of a tick that Stop cut off before the job began: nothing ran,
// so nothing is counted.
const stopped = "stopped"

// claimAndRun takes the job's advisory lock and claims the tick; then it runs the job
// and records the outcome.
func (s *Scheduler) claimAndRun(ctx context.Context, name string, tick time.Time, job Job) (outcome string, took time.Duration, err error) {
	// Advisory locks are re-entrant within the one session that holds them all, so this
	// server's own runs of the job are kept apart here.
	flag, _ := s.running.LoadOrStore(name, new(atomic.Bool))
	running := flag.(*atomic.Bool)
	if !running.CompareAndSwap(false, true) {
		return "busy", 0, nil
	}
	defer running.Store(false)
	locked, err := s.locks.try(ctx, name)
	if err != nil {
		if s.ctx.Err() != nil {
			return stopped, 0, nil
		}
		return "failed", 0, err
	}
	if !locked {
		return "busy", 0, nil
	}
	defer s.locks.release(context.WithoutCancel(ctx), name)
	start := s.opts.Now()
	tag, err := s.pool.Exec(ctx, `INSERT INTO schedule_runs (job, tick, host, started_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (job, tick) DO NOTHING`, name, tick, s.opts.Host, start)
	if err != nil {
		if s.ctx.Err() != nil {
			// The claim may have reached the database before the cut; nothing ran, so
			// take it back.
			if _, rerr := s.pool.Exec(context.WithoutCancel(ctx), `DELETE FROM schedule_runs
				WHERE job = $1 AND tick = $2 AND host = $3 AND finished_at IS NULL`, name, tick, s.opts.Host); rerr != nil {
				s.log.Error("job claim withdrawal failed", "job", name, "error", rerr.Error())
			}
			return stopped, 0, nil
		}
		return "failed", 0, fmt.Errorf("schedule: claim: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return "done", 0, nil
	}
	err = safely(ctx, job)
	took = s.opts.Now().Sub(start)
	var msg *string
	if outcome = "ok"; err != nil {
		outcome, msg = "failed", new(string)
		*msg = err.Error()
	}
	rctx := context.WithoutCancel(ctx)
	if _, rerr := s.pool.Exec(rctx, `UPDATE schedule_runs SET finished_at = $3, error = $4 WHERE job = $1 AND tick = $2`,
		name, tick, s.opts.Now(), msg); rerr != nil {
		s.log.Error("job record failed", "job", name, "error", rerr.Error())
	}
	if _, rerr := s.pool.Exec(rctx, `DELETE FROM schedule_runs WHERE job = $1 AND tick < $2`, name, start.Add(-s.opts.Keep)); rerr != nil {
		s.log.Error("job record pruning failed", "job", name, "error", rerr.Error())
	}
	return outcome, took, err
}

// locks holds the jobs' advisory locks, session locks on a connection of its own
// outside the pool: a running job must not keep a pool connection idle (nor a
// transaction open, which would hold back the sync horizon). Should that connection
// drop, PostgreSQL releases its locks; the tick claims still keep a tick from running
// twice.
// lockTimeout bounds one lock or unlock.
const lockTimeout = 5 * time.Second

type locks struct {
	mu   sync.Mutex
	cfg  *pgx.ConnConfig
	conn *pgx.Conn
}

func (l *locks) exec(ctx context.Context, sql, name string) (bool, error) {
	// Bounded: a connection that hangs must not hold up every job behind the mutex.
	ctx, cancel := context.WithTimeout(ctx, lockTimeout)
	defer cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil || l.conn.IsClosed() {
		conn, err := pgx.ConnectConfig(ctx, l.cfg)
		if err != nil {
			return false, fmt.Errorf("schedule: lock connection: %w", err)
		}
		l.conn = conn
	}
	var ok bool
	if err := l.conn.QueryRow(ctx, sql, name).Scan(&ok); err != nil {
		_ = l.conn.Close(context.WithoutCancel(ctx)) // its locks go with it
		l.conn = nil
		return false, fmt.Errorf("schedule: lock: %w", err)
	}
	return ok, nil
}

func (l *locks) try(ctx context.Context, name string) (bool, error) {
	return l.exec(ctx, `SELECT pg_try_advisory_lock(hashtext('fieldsvc.schedule'), hashtext($1))`, name)
}

func (l *locks) release(ctx context.Context, name string) {
	_, _ = l.exec(ctx, `SELECT pg_advisory_unlock(hashtext('fieldsvc.schedule'), hashtext($1))`, name)
}

// close ends the lock connection.
func (l *locks) close(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		_ = l.conn.Close(ctx)
		l.conn = nil
	}
}

// safely runs job, turning a panic into an error.
func safely(ctx context.Context, job Job) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return job(ctx)
}
