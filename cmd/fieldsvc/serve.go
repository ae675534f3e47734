package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"fieldsvc/dispatch"
	"fieldsvc/docs"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/catalog"
	"fieldsvc/internal/config"
	"fieldsvc/internal/objstore"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/ticket"
	"fieldsvc/internal/web"
	"fieldsvc/mobileapi"
)

// serve runs the API until ctx ends, then drains requests for up to ShutdownTimeout.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	log.Info("starting", "config", cfg.String())
	pool, err := connectCurrent(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	store, err := objstore.New(objstore.Options{Endpoint: cfg.S3Endpoint, AccessKey: cfg.S3AccessKey,
		SecretKey: cfg.S3SecretKey, Bucket: cfg.S3Bucket, UseSSL: cfg.S3UseSSL})
	if err != nil {
		return err
	}
	if err := store.EnsureBucket(ctx); err != nil {
		// Storage only backs photos and documents: start anyway, /readyz tells.
		log.Warn("object storage unavailable at start", "error", err.Error())
	}
	tickets := ticket.NewService(pool, ticket.Options{AutoCloseAfter: cfg.AutoCloseAfter, ReopenWithin: cfg.ReopenWithin})
	dispatcher := dispatch.NewService(pool, tickets, dispatch.Options{Mode: cfg.DispatchMode, SpeedKPH: cfg.SpeedKPH,
		Detour: cfg.Detour, FreshFor: cfg.LocationFresh, Logger: log})
	tickets.OnFiled(func(ctx context.Context, id uuid.UUID) {
		if _, err := dispatcher.AutoDispatch(ctx, id); err != nil { // the sweep tries again
			log.ErrorContext(ctx, "auto-dispatch failed", "ticket_id", id.String(), "error", err.Error())
		}
	})
	app, err := newApp(cfg, log, pool, store, tickets, dispatcher)
	if err != nil {
		return err
	}
	sweepCtx, stopSweeping := context.WithCancel(ctx)
	sweeping := make(chan struct{})
	go func() {
		defer close(sweeping)
		every(sweepCtx, cfg.SweepInterval, func(ctx context.Context) { sweep(ctx, log, pool, tickets, dispatcher, cfg.LocationKeep) })
	}()
	defer func() { stopSweeping(); <-sweeping }()

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	base := baseURL(ln.Addr())
	fmt.Fprintf(stdout, "fieldsvc is listening on %s\n  API:     %s/api/v1\n  OpenAPI: %s/openapi.yaml\n  health:  %s/healthz %s/readyz\n  metrics: %s/metrics\n",
		base, base, base, base, base, base)
	log.Info("listening", "addr", ln.Addr().String())

	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	if err := app.ShutdownWithTimeout(cfg.ShutdownTimeout); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// newApp wires every package's routes onto the platform app.
func newApp(cfg config.Config, log *slog.Logger, pool *pgxpool.Pool, store *objstore.Store, tickets *ticket.Service,
	dispatcher *dispatch.Service) (*fiber.App, error) {
	authSvc, err := auth.NewService(pool, auth.Options{Secret: []byte(cfg.JWTSecret), AccessTTL: cfg.AccessTokenTTL,
		RefreshTTL: cfg.RefreshTokenTTL, BcryptCost: cfg.BcryptCost})
	if err != nil {
		return nil, err
	}
	app := web.New(web.Options{
		Logger:         log,
		RequestTimeout: cfg.RequestTimeout,
		BodyLimit:      cfg.BodyLimit,
		Registry:       prometheus.NewRegistry(),
		Ready: []web.Check{
			{Name: "database", Check: pool.Ping},
			{Name: "schema", Check: func(ctx context.Context) error { return postgres.CheckSchema(ctx, pool) }},
			{Name: "storage", Check: store.Ready},
		},
	})
	app.Get("/openapi.yaml", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "application/yaml")
		return c.Send(docs.OpenAPI)
	})

	api := app.Group("/api/v1")
	authSvc.Routes(api)
	authn := authSvc.Middleware()
	admin := api.Group("/admin", authn)
	authSvc.AdminRoutes(admin)
	cat := catalog.NewService(pool)
	cat.Routes(admin)
	cat.DirectoryRoutes(api, authn)
	tickets.Routes(api, authn)
	mobile := mobileapi.NewService(pool, tickets, dispatcher, authSvc, mobileapi.Options{Secret: []byte(cfg.JWTSecret)})
	mobile.Routes(app, authn)
	mobile.AdminRoutes(admin)
	dispatcher.Routes(api, authn)
	dispatcher.MapRoutes(api, authn)
	return app, nil
}

func baseURL(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if host == "" || host == "::" || host == "0.0.0.0" || strings.Contains(host, ":") {
		host = "localhost"
	}
	return "http://" + host + ":" + port
}

// every runs fn now and then every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func(ctx context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep runs the periodic work: SLA clocks and auto-close, then dispatch's upkeep.
func sweep(ctx context.Context, log *slog.Logger, pool *pgxpool.Pool, tickets *ticket.Service, dispatcher *dispatch.Service, keep time.Duration) {
	if r, err := tickets.Sweep(ctx); err != nil && ctx.Err() == nil {
		log.Error("sla sweep failed", "error", err.Error())
	} else if r != (ticket.SweepResult{}) {
		log.Info("sla sweep", "reaction_at_risk", r.ReactionAtRisk, "reaction_breached", r.ReactionBreached,
			"resolution_at_risk", r.ResolutionAtRisk, "resolution_breached", r.ResolutionBreached, "auto_closed", r.AutoClosed)
	}
	if r, err := dispatcher.Sweep(ctx, keep); err != nil && ctx.Err() == nil {
		log.Error("dispatch sweep failed", "error", err.Error())
	} else if r != (dispatch.SweepResult{}) {
		log.Info("dispatch sweep", "back_home", r.BackHome, "pruned_locations", r.Pruned, "dispatched", r.Dispatched)
	}
	if n, err := mobileapi.Expire(ctx, pool); err != nil && ctx.Err() == nil {
		log.Error("sync sweep failed", "error", err.Error())
	} else if n > 0 {
		log.Info("sync sweep", "expired_tickets", n)
	}
}
