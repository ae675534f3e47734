package push

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/postgres"
)

// Start runs a worker in the background until Stop. Every server runs one: they share
// the outbox through their claims, and a message waits at most Poll for the next look.
func (s *Service) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stop, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		s.run(ctx)
	}()
}

// Stop ends the worker once its batch in flight is recorded, or when ctx ends.
func (s *Service) Stop(ctx context.Context) {
	s.stop()
	select {
	case <-s.done:
	case <-ctx.Done():
	}
}

func (s *Service) run(ctx context.Context) {
	failing := false // the log says when delivery fails and when it works again, not every Poll
	for ctx.Err() == nil {
		// A batch is finished even when the server stops: its claims would hold its
		// messages back for a whole lease otherwise.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.lease())
		n, err := s.Deliver(bctx)
		cancel()
		switch {
		case err != nil && !failing:
			s.log.Error("push: delivery failed; trying again every poll", "error", err.Error())
		case err == nil && failing:
			s.log.Info("push: delivery works again")
		}
		failing = err != nil
		if err == nil && n == s.opts.Batch {
			continue // more are due
		}
		select {
		case <-ctx.Done():
		case <-time.After(s.opts.Poll):
		}
	}
}

// lease is how long a claim keeps other workers off a message: longer than any send, so
// a message is never sent by two workers, and short enough that the messages of a
// worker that died go out again soon.
func (s *Service) lease() time.Duration { return 4 * s.opts.SendTimeout }

// Deliver claims the due messages (up to Batch), sends them and records what became of
// each, and returns how many it claimed. Any number of workers may run it at once.
// After FCM throttled a send (429 or 503) it claims nothing until FCM's Retry-After (at
// least the shortest backoff) has passed: the other messages would only meet the same answer, and
// each such answer uses up an attempt.
func (s *Service) Deliver(ctx context.Context) (int, error) {
	now := s.now()
	if now.UnixNano() < s.calm.Load() {
		return 0, nil
	}
	msgs, err := s.claim(ctx, now)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	results := s.sendAll(ctx, msgs)
	for _, r := range results {
		if r.throttled {
			s.pauseUntil(now.Add(min(max(r.after, s.opts.Backoff/2), s.opts.MaxBackoff)))
		}
	}
	if err := s.record(ctx, msgs, results); err != nil {
		return 0, err
	}
	return len(msgs), nil
}

// pauseUntil keeps Deliver from claiming before t (or a later time already set).
func (s *Service) pauseUntil(t time.Time) {
	for calm := s.calm.Load(); calm < t.UnixNano(); calm = s.calm.Load() {
		if s.calm.CompareAndSwap(calm, t.UnixNano()) {
			return
		}
	}
}

// claim takes the due messages for this worker's lease, counting the attempt now: a
// message whose sender died comes back when the lease ends, and keeps counting towards
// its last attempt. Skipping locked rows lets workers claim side by side; a row claimed
// meanwhile is due no longer when its lock is released, so nobody claims it twice.
func (s *Service) claim(ctx context.Context, now time.Time) ([]message, error) {
	rows, err := s.pool.Query(ctx, `
		WITH due AS (SELECT id FROM push_outbox WHERE status = 'pending' AND next_attempt_at <= $1
			ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE push_outbox o SET attempts = o.attempts + 1, next_attempt_at = $3
		FROM due WHERE o.id = due.id
		RETURNING o.id, o.device_id, o.ticket_id, o.reason, o.payload, o.attempts,
			(SELECT d.push_token FROM devices d JOIN users u ON u.id = d.user_id
			 WHERE d.id = o.device_id AND d.revoked_at IS NULL AND u.active)`,
		now, s.opts.Batch, now.Add(s.lease()))
	if err != nil {
		return nil, fmt.Errorf("push: claim: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (message, error) {
		var m message
		err := row.Scan(&m.id, &m.device, &m.ticket, &m.reason, &m.payload, &m.attempts, &m.token)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("push: claim: %w", err)
	}
	return msgs, nil
}

var (
	errOff     = errors.New("push is off: no FCM credentials configured")
	errNoToken = errors.New("the device has no push token (unregistered, revoked, or its user deactivated)")
)

// sendAll sends the messages at once, within SendTimeout, and returns their results in
// order. Syncs for one device go out as one message: each would say the same.
func (s *Service) sendAll(ctx context.Context, msgs []message) []result {
	results := make([]result, len(msgs))
	ctx, cancel := context.WithTimeout(ctx, s.opts.SendTimeout)
	defer cancel()
	var unauthorised error // nothing can be sent without an access token
	if s.sender != nil {
		unauthorised = s.sender.authorise(ctx)
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, 16) // concurrent requests to FCM
	first := map[uuid.UUID]int{}     // device → its first sync in the batch
	var shared [][2]int              // syncs that take the result of an earlier one
	for i, m := range msgs {
		switch {
		case s.sender == nil:
			results[i] = result{verdict: skip, err: errOff}
			continue
		case m.token == nil:
			results[i] = result{verdict: skip, err: errNoToken}
			continue
		case unauthorised != nil: // like a throttled FCM: wait, then try again
			results[i] = result{verdict: retry, throttled: true, err: unauthorised}
			continue
		}
		if m.reason == "sync" {
			if j, ok := first[m.device]; ok {
				shared = append(shared, [2]int{i, j})
				continue
			}
			first[m.device] = i
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			results[i] = s.sender.send(ctx, m.fcm())
		})
	}
	wg.Wait()
	for _, p := range shared {
		results[p[0]] = results[p[1]]
	}
	return results
}

// outcome is what a result makes of a message's row.
type outcome struct {
	status string // sent, skipped, dead; pending to try again at next
	next   time.Time
	err    *string
}

func (s *Service) decide(m message, r result, now time.Time) outcome {
	var o outcome
	if r.err != nil {
		msg := r.err.Error()
		o.err = &msg
	}
	switch {
	case r.verdict == delivered:
		o.status = "sent"
	case r.verdict == skip, r.verdict == gone:
		o.status = "skipped"
	case r.verdict == fatal, m.attempts >= s.opts.MaxAttempts:
		o.status = "dead"
	default:
		o.status, o.next = "pending", now.Add(max(s.backoff(m.attempts), min(r.after, s.opts.MaxBackoff)))
	}
	return o
}

// backoff is the wait after a message's attempt-th failure: doubling from Backoff up to
// MaxBackoff, drawn from the upper half so that messages failing together spread out.
func (s *Service) backoff(attempt int) time.Duration {
	d := s.opts.MaxBackoff
	if attempt <= 30 {
		d = min(s.opts.Backoff<<(attempt-1), d)
	}
	return d/2 + rand.N(d/2+1)
}

// record writes the outcomes, and drops the tokens FCM no longer knows, in one
// transaction. A row whose claim another worker took over (this one outlived its lease)
// is left to that worker, and neither counted nor logged here.
func (s *Service) record(ctx context.Context, msgs []message, results []result) error {
	now := s.now()
	n := len(msgs)
	ids, attempts, statuses, next, errs := make([]uuid.UUID, n), make([]int, n), make([]string, n), make([]*time.Time, n), make([]*string, n)
	outcomes := make([]outcome, n)
	var goneDevices []uuid.UUID
	var goneTokens []string
	for i, m := range msgs {
		o := s.decide(m, results[i], now)
		outcomes[i] = o
		ids[i], attempts[i], statuses[i], errs[i] = m.id, m.attempts, o.status, o.err
		if o.status == "pending" {
			next[i] = &o.next
		}
		if results[i].verdict == gone {
			goneDevices, goneTokens = append(goneDevices, m.device), append(goneTokens, *m.token)
		}
	}
	var recorded []uuid.UUID
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			UPDATE push_outbox o SET status = x.status, next_attempt_at = coalesce(x.next, o.next_attempt_at),
				last_error = x.error, finished_at = CASE WHEN x.status = 'pending' THEN NULL ELSE $6::timestamptz END
			FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[]) AS x (id, attempts, status, next, error)
			WHERE o.id = x.id AND o.attempts = x.attempts AND o.status = 'pending'
			RETURNING o.id`,
			ids, attempts, statuses, next, errs, now)
		if err != nil {
			return err
		}
		if recorded, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil || len(goneDevices) == 0 {
			return err
		}
		// Only the token FCM refused: the app may have registered a new one meanwhile.
		// Locked in id order, as two workers may drop the same devices' tokens at once.
		_, err = tx.Exec(ctx, `
			WITH x AS (SELECT d.id FROM devices d JOIN unnest($1::uuid[], $2::text[]) AS x (id, token)
				ON d.id = x.id AND d.push_token = x.token ORDER BY d.id FOR UPDATE OF d)
			UPDATE devices d SET push_token = NULL FROM x WHERE d.id = x.id`, goneDevices, goneTokens)
		return err
	})
	if err != nil {
		return fmt.Errorf("push: record: %w", err)
	}
	mine := make(map[uuid.UUID]bool, len(recorded))
	for _, id := range recorded {
		mine[id] = true
	}
	var retried int
	var example outcome
	for i, m := range msgs {
		if !mine[m.id] {
			continue
		}
		o := outcomes[i]
		status := o.status
		if status == "pending" {
			status, example = "retried", o
			retried++
		}
		s.counted.WithLabelValues(status).Inc()
		attrs := []any{"message_id", m.id.String(), "device_id", m.device.String(), "attempt", m.attempts}
		switch {
		case status == "dead":
			s.log.Error("push: message dead-lettered", append(attrs, "error", *o.err)...)
		case o.err != nil && status == "skipped" && s.sender != nil:
			s.log.Info("push: message skipped", append(attrs, "reason", *o.err)...)
		}
	}
	if retried > 0 { // one line for a batch: an outage fails every send in it
		s.log.Warn("push: sends failed; trying again", "messages", retried, "error", *example.err, "next_attempt_at", example.next)
	}
	return nil
}
