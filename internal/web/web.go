// Package web is the HTTP platform every route runs on: the Fiber app, the one error
// handler, request ids, the access log, per-request timeouts, metrics and health.
// Domain packages add their routes to the app it builds.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure the app.
type Options struct {
	Logger         *slog.Logger
	RequestTimeout time.Duration
	BodyLimit      int
	// Registry receives the HTTP metrics and is served on /metrics.
	Registry *prometheus.Registry
	// Ready lists what /readyz checks, by name.
	Ready []Check
	// TrustedProxies are the reverse proxies (IPs or CIDRs) whose X-Forwarded-For is
	// believed: behind them the client's address (rate limits, logs) comes from it.
	TrustedProxies []string
}

func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}

// Check is one readiness probe: nil means healthy, ErrDisabled switched off on purpose.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// ErrDisabled is what a Check returns for a part that is off by configuration: /readyz
// shows it as "disabled" and stays ready, since nothing is wrong.
var ErrDisabled = errors.New("disabled")

const localRequestID = "request_id"

// New builds the Fiber app with the platform middleware and /healthz, /readyz, /metrics.
func New(o Options) *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "fieldsvc",
		BodyLimit:             o.BodyLimit,
		ErrorHandler:          errorHandler(o.Logger),
		DisableStartupMessage: true,
		// Values read from a request stay valid after the handler returns.
		Immutable:    true,
		ReadTimeout:  o.RequestTimeout + 5*time.Second,
		WriteTimeout: o.RequestTimeout + 5*time.Second,
		IdleTimeout:  2 * time.Minute,
		// Only a listed proxy may name the client; anyone else is taken at their address.
		ProxyHeader:             proxyHeader(o.TrustedProxies),
		EnableTrustedProxyCheck: len(o.TrustedProxies) > 0,
		TrustedProxies:          o.TrustedProxies,
		EnableIPValidation:      true, // the first address of X-Forwarded-For, not the whole list
	})
	m := newMetrics(o.Registry)
	app.Use(
		requestIDMiddleware,
		accessLog(o.Logger, m),
		plainBodies,
		recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, p any) {
			o.Logger.ErrorContext(c.UserContext(), "panic", "panic", p, "request_id", requestID(c))
		}}),
		timeout(o.RequestTimeout),
	)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", readyz(o.Logger, o.Ready))
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{})))
	return app
}

// plainBodies refuses compressed request bodies: Fiber would inflate them before the
// handler reads them, past the body limit (a small upload could grow without bound).
func plainBodies(c *fiber.Ctx) error {
	if enc := c.Get(fiber.HeaderContentEncoding); enc != "" && !strings.EqualFold(enc, "identity") {
		return fiber.NewError(fiber.StatusUnsupportedMediaType, "compressed request bodies are not accepted")
	}
	return c.Next()
}

var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestIDMiddleware keeps a caller's sane X-Request-ID or makes one, and echoes it.
func requestIDMiddleware(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if !safeRequestID.MatchString(id) {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// timeout bounds the work a request may cause: handlers pass c.UserContext() down.
func timeout(d time.Duration) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), d)
		defer cancel()
		c.SetUserContext(ctx)
		return c.Next()
	}
}

// accessLog writes one JSON line per request and feeds the HTTP metrics. It runs the
// error handler itself so the logged status is the one the client gets.
func accessLog(log *slog.Logger, m *metrics) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		if err := c.Next(); err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				return herr
			}
		}
		elapsed := time.Since(start)
		status := c.Response().StatusCode()
		route := c.Route().Path
		if c.Route().Method == "USE" { // nothing but middleware matched
			route = "unmatched"
		}
		m.observe(c.Method(), route, status, elapsed)
		attrs := []any{
			"method", c.Method(), "path", c.Path(), "route", route, "status", status,
			"duration_ms", float64(elapsed.Microseconds()) / 1000, "bytes", len(c.Response().Body()),
			"request_id", requestID(c),
		}
		if uid := UserID(c); uid != "" {
			attrs = append(attrs, "user_id", uid)
		}
		log.InfoContext(c.UserContext(), "http request", attrs...)
		return nil
	}
}

const localUserID = "user_id"

// SetUserID records who is asking, for the access log; the auth middleware calls it.
func SetUserID(c *fiber.Ctx, id string) { c.Locals(localUserID, id) }

// UserID is the id recorded by SetUserID, or "".
func UserID(c *fiber.Ctx) string {
	id, _ := c.Locals(localUserID).(string)
	return id
}

// readyz answers whether every check passes. Why one failed goes to the log, not to an
// anonymous caller: driver errors name hosts, users and databases.
func readyz(log *slog.Logger, checks []Check) fiber.Handler {
	return func(c *fiber.Ctx) error {
		results := make(map[string]string, len(checks))
		ready := true
		for _, ch := range checks {
			ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
			err := ch.Check(ctx)
			cancel()
			switch {
			case errors.Is(err, ErrDisabled):
				results[ch.Name] = "disabled"
			case err != nil:
				ready = false
				results[ch.Name] = "failed"
				log.WarnContext(c.UserContext(), "not ready", "check", ch.Name, "error", err.Error())
			default:
				results[ch.Name] = "ok"
			}
		}
		status := "ready"
		if !ready {
			status = "not ready"
			c.Status(fiber.StatusServiceUnavailable)
		}
		return c.JSON(fiber.Map{"status": status, "checks": results})
	}
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// Settled runs h and writes its error as the response right away, so middleware wrapped
// around it (a rate limiter counting failures) sees the status the client will get.
func Settled(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := h(c); err != nil {
			return c.App().ErrorHandler(c, err)
		}
		return nil
	}
}
