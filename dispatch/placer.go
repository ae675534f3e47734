package dispatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/auth"
)

// job is one ticket to dispatch, with the caller waiting for its outcome.
type job struct {
	ticket uuid.UUID
	by     auth.Principal
	force  bool // assign whatever the dispatch mode says (a dispatcher's "assign the best")
	record bool // note on the ticket when nobody can take it
	out    Outcome
	err    error
	done   chan struct{}
}

// placer gathers the tickets to dispatch that arrive while batches are being placed, so
// that tickets filed at the same moment share a transaction: under load each batch
// takes everything that arrived during the one before, and the round trips and commits
// per ticket fall with the load. A lone ticket is placed at once, in a batch of one.
type placer struct {
	mu      sync.Mutex
	queue   []*job
	running int
}

const (
	// placeBatch bounds the tickets placed in one transaction.
	placeBatch = 64
	// placers is how many batches are placed at once: one ranks while the other waits
	// on its commit.
	placers = 2
	// batchTimeout bounds one batch; it runs for all its callers, whatever becomes of
	// the request that started it.
	batchTimeout = time.Minute
)

// submit queues j and waits for its outcome (or for ctx to end; the ticket is still
// dispatched then).
func (s *Service) submit(ctx context.Context, j *job) (Outcome, error) {
	j.done = make(chan struct{})
	p := &s.placer
	p.mu.Lock()
	p.queue = append(p.queue, j)
	start := p.running < placers
	if start {
		p.running++
	}
	p.mu.Unlock()
	if start {
		go s.drain()
	}
	select {
	case <-j.done:
		return j.out, j.err
	case <-ctx.Done():
		return Outcome{}, ctx.Err()
	}
}

// drain places batches until the queue is empty.
func (s *Service) drain() {
	p := &s.placer
	for {
		p.mu.Lock()
		n := min(len(p.queue), placeBatch)
		if n == 0 {
			p.running--
			p.mu.Unlock()
			return
		}
		batch := p.queue[:n:n]
		p.queue = p.queue[n:]
		p.mu.Unlock()
		s.place(batch)
	}
}

// place dispatches one batch and releases its callers, even when it panics.
func (s *Service) place(batch []*job) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer func() {
		if v := recover(); v != nil {
			for _, j := range batch {
				j.err = fmt.Errorf("dispatch: panic: %v", v)
			}
			s.failed(ctx, batch[0].err)
		}
		cancel()
		s.retryLater(batch)
		for _, j := range batch {
			close(j.done)
		}
	}()
	s.dispatchAll(ctx, batch)
}

// retryLater puts the tickets a batch failed on (the database, a timeout, a bug; not the
// ticket itself) on the sweep's list, so that none waits unnoticed.
func (s *Service) retryLater(batch []*job) {
	var ids []uuid.UUID
	for _, j := range batch {
		if j.err != nil && j.record {
			ids = append(ids, j.ticket)
		}
	}
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO dispatch_attempts (ticket_id, tried_at)
		SELECT t.id, $2 FROM tickets t WHERE t.id = ANY ($1)
		ON CONFLICT (ticket_id) DO UPDATE SET tried_at = $2`, ids, s.now())
	if err != nil {
		s.failed(ctx, fmt.Errorf("dispatch: note tickets to retry: %w", err))
	}
}
