// Package push sends push notifications through Firebase Cloud Messaging from an outbox.
//
// A trigger on ticket_events writes one outbox row per message and device in the
// transaction that writes the events (migrations/00010_push.sql), so a change that rolls
// back announces nothing and one that commits is never forgotten. Workers on every server
// claim due rows with FOR UPDATE SKIP LOCKED under a lease, send outside any transaction,
// and record the outcome: sent; retried later with exponential backoff and jitter (never
// before FCM's Retry-After); dead after the last attempt, for admins to see and retry; or
// skipped when the device's token is gone (FCM's UNREGISTERED removes it). Without
// credentials sending is off: rows are skipped and /readyz says push is disabled.
package push

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"fieldsvc/internal/web"
)

// Options configure the Service. Zero values take the defaults noted.
type Options struct {
	// CredentialsFile is a Firebase service account's JSON key; without it nothing is sent.
	CredentialsFile string
	// Transport carries the requests to Google (tokens and FCM); http.DefaultTransport
	// when nil. Tests point it at a fake.
	Transport http.RoundTripper
	// MaxAttempts is how often a message is tried before it is dead-lettered. Default 12: with the default backoff, retries span about 50 minutes to 1¾ hours of an FCM outage.
	MaxAttempts int
	// Backoff is the wait after the first failure, doubled after each next one up to
	// MaxBackoff, each drawn at random from its upper half. Defaults 5 s and 30 min.
	Backoff, MaxBackoff time.Duration
	// Batch is how many messages a worker claims at once. Default 100.
	Batch int
	// Poll is how long an idle worker waits before looking for due messages. Default 1 s.
	Poll time.Duration
	// SendTimeout bounds the sending of one batch; a worker's claim lasts four times as
	// long, so no other worker takes a message over while it may still be in flight.
	// Default 15 s.
	SendTimeout time.Duration
	// Retention is how long sent and skipped messages are kept. Default 7 days; dead
	// letters stay for DeadRetention (30 days) or until retried.
	Retention time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger gets failures; discarded when nil.
	Logger *slog.Logger
	// Registry receives the message counters; none when nil.
	Registry prometheus.Registerer
}

// DeadRetention is how long dead letters are kept for admins to look into.
const DeadRetention = 30 * 24 * time.Hour

// Service sends the outbox and serves devices' registration and the dead letters.
type Service struct {
	pool    *pgxpool.Pool
	opts    Options
	sender  *sender // nil: sending is off
	log     *slog.Logger
	counted *prometheus.CounterVec
	calm    atomic.Int64 // until when (Unix ns) FCM asked to be left alone
	stop    context.CancelFunc
	done    chan struct{}
}

// New returns a Service. With a CredentialsFile it reads the key and prepares the FCM
// client (it does not call Google yet); a key it cannot use is an error.
func New(ctx context.Context, pool *pgxpool.Pool, o Options) (*Service, error) {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 12
	}
	if o.Backoff <= 0 {
		o.Backoff = 5 * time.Second
	}
	if o.MaxBackoff < o.Backoff {
		o.MaxBackoff = max(30*time.Minute, o.Backoff)
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 15 * time.Second
	}
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	s := &Service{pool: pool, opts: o, log: o.Logger, counted: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fieldsvc_push_messages_total",
		Help: "Push messages by outcome: sent, retried (an attempt failed; tried again later), dead (gave up), skipped (push off or no token).",
	}, []string{"outcome"})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if o.Registry != nil {
		o.Registry.MustRegister(s.counted)
	}
	if o.CredentialsFile == "" {
		return s, nil
	}
	key, err := os.ReadFile(o.CredentialsFile)
	if err != nil {
		return nil, fmt.Errorf("push: credentials: %w", err)
	}
	if s.sender, err = newSender(ctx, key, o.Transport, o.SendTimeout); err != nil {
		return nil, fmt.Errorf("push: credentials %s: %w", o.CredentialsFile, err)
	}
	return s, nil
}

// Enabled reports whether messages are sent (credentials are configured).
func (s *Service) Enabled() bool { return s.sender != nil }

// Ready is the /readyz check: push that is off on purpose is web.ErrDisabled, not a
// failure. FCM itself is not probed: while it is down messages wait in the outbox.
func (s *Service) Ready(context.Context) error {
	if !s.Enabled() {
		return fmt.Errorf("push: no FCM credentials configured: %w", web.ErrDisabled)
	}
	return nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }
