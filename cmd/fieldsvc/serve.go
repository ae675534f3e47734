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
	"fieldsvc/internal/attachment"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/catalog"
	"fieldsvc/internal/checklist"
	"fieldsvc/internal/config"
	"fieldsvc/internal/objstore"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/push"
	"fieldsvc/internal/schedule"
	"fieldsvc/internal/ticket"
	"fieldsvc/internal/web"
	"fieldsvc/maintenance"
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
	svc, err := newServices(ctx, cfg, log, pool)
	if err != nil {
		return err
	}
	app, err := newApp(cfg, log, svc)
	if err != nil {
		return err
	}
	jobs := schedule.New(pool, log, svc.registry, schedule.Options{})
	addJobs(jobs, log, svc, cfg)
	jobs.Start()
	// Every server sends notifications, within a second of their change (a job would wait
	// for its tick); workers share the outbox through their claims.
	svc.push.Start()
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		jobs.Stop(stopCtx)
		svc.push.Stop(stopCtx)
	}()

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

// services are the domain services, wired to each other.
type services struct {
	pool        *pgxpool.Pool
	registry    *prometheus.Registry // the metrics /metrics serves
	store       *objstore.Store
	tickets     *ticket.Service
	dispatcher  *dispatch.Service
	checklists  *checklist.Service
	attachments *attachment.Service
	push        *push.Service
	maintenance *maintenance.Service
}

// newServices builds the services on pool and the object storage cfg names, creating
// the bucket when storage answers.
func newServices(ctx context.Context, cfg config.Config, log *slog.Logger, pool *pgxpool.Pool) (*services, error) {
	store, err := objstore.New(objstore.Options{Endpoint: cfg.S3Endpoint, AccessKey: cfg.S3AccessKey,
		SecretKey: cfg.S3SecretKey, Bucket: cfg.S3Bucket, UseSSL: cfg.S3UseSSL, PublicURL: cfg.S3PublicURL})
	if err != nil {
		return nil, err
	}
	if err := store.EnsureBucket(ctx); err != nil {
		// Storage only backs photos and documents: start anyway, /readyz tells.
		log.Warn("object storage unavailable at start", "error", err.Error())
	}
	s := &services{pool: pool, store: store, registry: prometheus.NewRegistry()}
	s.push, err = push.New(ctx, pool, push.Options{CredentialsFile: cfg.FCMCredentials, MaxAttempts: cfg.PushAttempts,
		Retention: cfg.PushRetention, Logger: log, Registry: s.registry})
	if err != nil {
		return nil, err
	}
	if !s.push.Enabled() {
		log.Warn("push notifications are off: FCM_CREDENTIALS_FILE is not set")
	}
	s.tickets = ticket.NewService(pool, ticket.Options{AutoCloseAfter: cfg.AutoCloseAfter, ReopenWithin: cfg.ReopenWithin})
	s.dispatcher = dispatch.NewService(pool, s.tickets, dispatch.Options{Mode: cfg.DispatchMode, SpeedKPH: cfg.SpeedKPH,
		Detour: cfg.Detour, FreshFor: cfg.LocationFresh, Logger: log})
	s.checklists = checklist.NewService(pool, s.tickets, store, checklist.Options{URLTTL: cfg.DownloadURLTTL})
	s.attachments = attachment.NewService(pool, s.tickets, store, attachment.Options{MaxBytes: cfg.UploadMaxBytes,
		SlotTTL: cfg.UploadSlotTTL, URLTTL: cfg.DownloadURLTTL})
	s.maintenance = maintenance.NewService(pool, s.tickets, s.checklists, maintenance.Options{
		HorizonDays: cfg.PMHorizonDays, LeadHours: cfg.PMLeadHours})
	s.tickets.AddHooks(s.checklists.Hooks())
	s.tickets.AddHooks(s.maintenance.Hooks())
	s.tickets.OnFiled(func(ctx context.Context, id uuid.UUID) {
		if _, err := s.dispatcher.AutoDispatch(ctx, id); err != nil { // the sweep tries again
			log.ErrorContext(ctx, "auto-dispatch failed", "ticket_id", id.String(), "error", err.Error())
		}
	})
	return s, nil
}

// newApp wires every package's routes onto the platform app.
func newApp(cfg config.Config, log *slog.Logger, svc *services) (*fiber.App, error) {
	pool := svc.pool
	authSvc, err := auth.NewService(pool, auth.Options{Secret: []byte(cfg.JWTSecret), AccessTTL: cfg.AccessTokenTTL,
		RefreshTTL: cfg.RefreshTokenTTL, BcryptCost: cfg.BcryptCost})
	if err != nil {
		return nil, err
	}
	app := web.New(web.Options{
		Logger:         log,
		RequestTimeout: cfg.RequestTimeout,
		BodyLimit:      cfg.BodyLimit,
		Registry:       svc.registry,
		TrustedProxies: cfg.TrustedProxies,
		Ready: []web.Check{
			{Name: "database", Check: pool.Ping},
			{Name: "schema", Check: func(ctx context.Context) error { return postgres.CheckSchema(ctx, pool) }},
			{Name: "storage", Check: svc.store.Ready},
			{Name: "push", Check: svc.push.Ready},
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
	svc.tickets.Routes(api, authn)
	svc.checklists.Routes(api, authn)
	svc.attachments.Routes(api, authn)
	mobile := mobileapi.NewService(pool, mobileapi.Deps{Tickets: svc.tickets, Locations: svc.dispatcher, Sessions: authSvc,
		Checklists: svc.checklists, Uploads: svc.attachments}, mobileapi.Options{Secret: []byte(cfg.JWTSecret)})
	mobile.Routes(app, authn)
	mobile.AdminRoutes(admin)
	svc.dispatcher.Routes(api, authn)
	svc.dispatcher.MapRoutes(api, authn)
	svc.maintenance.Routes(api, authn)
	svc.push.Routes(api, authn)
	svc.push.AdminRoutes(admin)
	return app, nil
}

func baseURL(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if host == "" || host == "::" || host == "0.0.0.0" || strings.Contains(host, ":") {
		host = "localhost"
	}
	return "http://" + host + ":" + port
}

// addJobs schedules the periodic work, every SweepInterval: SLA clocks and auto-close,
// dispatch's upkeep, preventive work orders coming within their plans' horizons, sync expiry, and storage upkeep (archiving resolved checklists,
// removing uploads never confirmed). Each is a job of its own: one failing does not hold
// up the others, and the next tick retries it.
func addJobs(jobs *schedule.Scheduler, log *slog.Logger, svc *services, cfg config.Config) {
	tick := schedule.Every(cfg.SweepInterval)
	jobs.Add("sla-sweep", tick, func(ctx context.Context) error {
		r, err := svc.tickets.Sweep(ctx)
		if err == nil && r != (ticket.SweepResult{}) {
			log.Info("sla sweep", "reaction_at_risk", r.ReactionAtRisk, "reaction_breached", r.ReactionBreached,
				"resolution_at_risk", r.ResolutionAtRisk, "resolution_breached", r.ResolutionBreached, "auto_closed", r.AutoClosed)
		}
		return err
	})
	jobs.Add("dispatch-sweep", tick, func(ctx context.Context) error {
		r, err := svc.dispatcher.Sweep(ctx, cfg.LocationKeep)
		if err == nil && r != (dispatch.SweepResult{}) {
			log.Info("dispatch sweep", "back_home", r.BackHome, "pruned_locations", r.Pruned, "released_planned", r.Released,
				"dispatched", r.Dispatched)
		}
		return err
	})
	jobs.Add("pm-generate", tick, func(ctx context.Context) error {
		r, err := svc.maintenance.Generate(ctx)
		if r.WorkOrders > 0 {
			log.Info("maintenance generator", "plans", r.Plans, "work_orders", r.WorkOrders)
		}
		return err
	})
	jobs.Add("sync-upkeep", tick, func(ctx context.Context) error {
		expired, err := mobileapi.Expire(ctx, svc.pool)
		if expired > 0 {
			log.Info("sync sweep", "expired_tickets", expired)
		}
		pruned, err2 := mobileapi.PruneMutations(ctx, svc.pool, time.Now().Add(-mobileapi.DefaultCursorMaxAge))
		if pruned > 0 {
			log.Info("sync sweep", "pruned_mutations", pruned)
		}
		return errors.Join(err, err2)
	})
	jobs.Add("push-upkeep", tick, func(ctx context.Context) error { // sent notifications are kept for a while
		pruned, err := svc.push.Prune(ctx)
		if pruned > 0 {
			log.Info("push upkeep", "pruned_messages", pruned)
		}
		return err
	})
	jobs.Add("storage-upkeep", tick, func(ctx context.Context) error {
		// Storage may have been down at start, or lost its bucket: make sure it is there
		// before writing to it.
		if err := svc.store.EnsureBucket(ctx); err != nil {
			return err
		}
		archived, err := svc.checklists.ArchivePending(ctx)
		if archived > 0 {
			log.Info("checklist archive", "archived", archived)
		}
		expired, err2 := svc.attachments.Expire(ctx)
		if expired > 0 {
			log.Info("upload cleanup", "expired_slots", expired)
		}
		return errors.Join(err, err2)
	})
}
