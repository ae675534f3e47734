// Package config reads the service's settings from the environment. Nothing here is
// global: main calls Load once and passes the values down.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is every setting the server reads. Names of the environment variables are in
// the env tags; README.md lists them with their meaning.
type Config struct {
	HTTPAddr        string        // HTTP_ADDR
	DatabaseURL     string        // DATABASE_URL
	S3Endpoint      string        // S3_ENDPOINT, host:port
	S3AccessKey     string        // S3_ACCESS_KEY
	S3SecretKey     string        // S3_SECRET_KEY
	S3Bucket        string        // S3_BUCKET
	S3UseSSL        bool          // S3_USE_SSL
	S3PublicURL     string        // S3_PUBLIC_URL: storage as devices reach it, when not S3_ENDPOINT
	UploadMaxBytes  int64         // UPLOAD_MAX_BYTES: the largest file a device may attach
	UploadSlotTTL   time.Duration // UPLOAD_SLOT_TTL: how long an upload slot waits for its file
	DownloadURLTTL  time.Duration // DOWNLOAD_URL_TTL: how long a presigned download works
	TrustedProxies  []string      // TRUSTED_PROXIES: reverse proxies (IPs, CIDRs) whose X-Forwarded-For counts
	JWTSecret       string        // JWT_SECRET, at least 32 bytes
	AccessTokenTTL  time.Duration // ACCESS_TOKEN_TTL
	RefreshTokenTTL time.Duration // REFRESH_TOKEN_TTL
	RequestTimeout  time.Duration // REQUEST_TIMEOUT
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT
	BodyLimit       int           // BODY_LIMIT_BYTES
	BcryptCost      int           // BCRYPT_COST
	LogLevel        slog.Level    // LOG_LEVEL: debug, info, warn, error
	AutoCloseAfter  time.Duration // TICKET_AUTO_CLOSE_AFTER: a resolved ticket closes by itself
	ReopenWithin    time.Duration // TICKET_REOPEN_WITHIN: how long after resolution a ticket may be reopened
	SweepInterval   time.Duration // SLA_SWEEP_INTERVAL: how often the periodic jobs run (SLA, dispatch, sync, storage)
	DispatchMode    string        // DISPATCH_MODE: auto, suggest or off, where a contract does not say
	SpeedKPH        float64       // DISPATCH_SPEED_KPH: average driving speed for ETAs
	Detour          float64       // DISPATCH_DETOUR: road distance over straight-line distance
	LocationFresh   time.Duration // LOCATION_FRESH_FOR: how long a reported location counts
	LocationKeep    time.Duration // LOCATION_RETENTION: how long the location trail is kept
	PMHorizonDays   int           // PM_HORIZON_DAYS: how far ahead a maintenance plan makes work orders, unless it says
	PMLeadHours     int           // PM_LEAD_HOURS: how long before it is due planned work goes to dispatch, unless the plan says
	FCMCredentials  string        // FCM_CREDENTIALS_FILE: a Firebase service account key; unset, push notifications are off
	PushAttempts    int           // PUSH_MAX_ATTEMPTS: how often a notification is tried before it is dead-lettered
	PushRetention   time.Duration // PUSH_RETENTION: how long sent and skipped notifications are kept
}

// Load reads the configuration through getenv (os.Getenv in main, a map in tests),
// applying defaults, and validates it.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		HTTPAddr:        r.str("HTTP_ADDR", ":8080"),
		DatabaseURL:     r.str("DATABASE_URL", ""),
		S3Endpoint:      r.str("S3_ENDPOINT", ""),
		S3AccessKey:     r.str("S3_ACCESS_KEY", ""),
		S3SecretKey:     r.str("S3_SECRET_KEY", ""),
		S3Bucket:        r.str("S3_BUCKET", "fieldsvc"),
		S3UseSSL:        r.boolean("S3_USE_SSL", false),
		S3PublicURL:     r.str("S3_PUBLIC_URL", ""),
		UploadMaxBytes:  int64(r.integer("UPLOAD_MAX_BYTES", 50<<20)),
		UploadSlotTTL:   r.duration("UPLOAD_SLOT_TTL", time.Hour),
		DownloadURLTTL:  r.duration("DOWNLOAD_URL_TTL", 5*time.Minute),
		TrustedProxies:  r.list("TRUSTED_PROXIES"),
		JWTSecret:       r.str("JWT_SECRET", ""),
		AccessTokenTTL:  r.duration("ACCESS_TOKEN_TTL", 15*time.Minute),
		RefreshTokenTTL: r.duration("REFRESH_TOKEN_TTL", 30*24*time.Hour),
		RequestTimeout:  r.duration("REQUEST_TIMEOUT", 15*time.Second),
		ShutdownTimeout: r.duration("SHUTDOWN_TIMEOUT", 20*time.Second),
		BodyLimit:       r.integer("BODY_LIMIT_BYTES", 1<<20),
		BcryptCost:      r.integer("BCRYPT_COST", 11),
		LogLevel:        r.level("LOG_LEVEL", slog.LevelInfo),
		AutoCloseAfter:  r.duration("TICKET_AUTO_CLOSE_AFTER", 72*time.Hour),
		ReopenWithin:    r.duration("TICKET_REOPEN_WITHIN", 14*24*time.Hour),
		SweepInterval:   r.duration("SLA_SWEEP_INTERVAL", time.Minute),
		DispatchMode:    r.str("DISPATCH_MODE", "auto"),
		SpeedKPH:        r.float("DISPATCH_SPEED_KPH", 30),
		Detour:          r.float("DISPATCH_DETOUR", 1.35),
		LocationFresh:   r.duration("LOCATION_FRESH_FOR", 2*time.Hour),
		LocationKeep:    r.duration("LOCATION_RETENTION", 30*24*time.Hour),
		PMHorizonDays:   r.integer("PM_HORIZON_DAYS", 30),
		PMLeadHours:     r.integer("PM_LEAD_HOURS", 24),
		FCMCredentials:  r.str("FCM_CREDENTIALS_FILE", ""),
		PushAttempts:    r.integer("PUSH_MAX_ATTEMPTS", 12),
		PushRetention:   r.duration("PUSH_RETENTION", 7*24*time.Hour),
	}
	if err := errors.Join(append(r.errs, c.Validate())...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate reports every setting that is missing or out of range.
func (c Config) Validate() error {
	var errs []error
	bad := func(name, problem string) { errs = append(errs, fmt.Errorf("%s %s", name, problem)) }
	if c.DatabaseURL == "" {
		bad("DATABASE_URL", "is required (make run sets it for the local cluster)")
	} else if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		bad("DATABASE_URL", "must be a postgres:// URL")
	}
	if c.S3Endpoint == "" {
		bad("S3_ENDPOINT", "is required (host:port of MinIO or S3)")
	}
	if c.S3AccessKey == "" || c.S3SecretKey == "" {
		bad("S3_ACCESS_KEY and S3_SECRET_KEY", "are required")
	}
	if c.S3Bucket == "" {
		bad("S3_BUCKET", "is required")
	}
	if c.S3PublicURL != "" {
		if u, err := url.Parse(c.S3PublicURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			bad("S3_PUBLIC_URL", "must be an http(s):// address")
		}
	}
	if c.UploadMaxBytes < 1<<20 || c.UploadMaxBytes > 5<<30 {
		bad("UPLOAD_MAX_BYTES", "must be between 1 MiB and 5 GiB")
	}
	if c.UploadSlotTTL < time.Minute || c.UploadSlotTTL > 7*24*time.Hour || c.DownloadURLTTL < 10*time.Second || c.DownloadURLTTL > 24*time.Hour {
		bad("UPLOAD_SLOT_TTL and DOWNLOAD_URL_TTL", "must be 1m–7d and 10s–24h")
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			bad("TRUSTED_PROXIES", fmt.Sprintf("lists %q, which is neither an IP address nor a CIDR", p))
		}
	}
	if len(c.JWTSecret) < 32 {
		bad("JWT_SECRET", "must be at least 32 bytes")
	}
	if c.AccessTokenTTL < time.Minute || c.AccessTokenTTL > 24*time.Hour {
		bad("ACCESS_TOKEN_TTL", "must be between 1m and 24h")
	}
	if c.RefreshTokenTTL < c.AccessTokenTTL {
		bad("REFRESH_TOKEN_TTL", "must be at least ACCESS_TOKEN_TTL")
	}
	if c.RequestTimeout <= 0 || c.ShutdownTimeout <= 0 {
		bad("REQUEST_TIMEOUT and SHUTDOWN_TIMEOUT", "must be positive")
	}
	if c.BodyLimit < 1024 {
		bad("BODY_LIMIT_BYTES", "must be at least 1024")
	}
	if c.AutoCloseAfter < time.Hour || c.ReopenWithin < time.Hour {
		bad("TICKET_AUTO_CLOSE_AFTER and TICKET_REOPEN_WITHIN", "must be at least 1h")
	}
	if c.SweepInterval < time.Second || c.SweepInterval > time.Hour {
		bad("SLA_SWEEP_INTERVAL", "must be between 1s and 1h")
	}
	if c.DispatchMode != "auto" && c.DispatchMode != "suggest" && c.DispatchMode != "off" {
		bad("DISPATCH_MODE", "must be auto, suggest or off")
	}
	if c.SpeedKPH < 1 || c.SpeedKPH > 200 || c.Detour < 1 || c.Detour > 5 {
		bad("DISPATCH_SPEED_KPH and DISPATCH_DETOUR", "must be 1–200 km/h and 1–5")
	}
	if c.LocationFresh < time.Minute || c.LocationKeep < time.Hour {
		bad("LOCATION_FRESH_FOR and LOCATION_RETENTION", "must be at least 1m and 1h")
	}
	if c.PMHorizonDays < 1 || c.PMHorizonDays > 366 || c.PMLeadHours < 0 || c.PMLeadHours > 2160 {
		bad("PM_HORIZON_DAYS and PM_LEAD_HOURS", "must be 1–366 days and 0–2160 hours")
	}
	if c.FCMCredentials != "" {
		if st, err := os.Stat(c.FCMCredentials); err != nil || !st.Mode().IsRegular() {
			bad("FCM_CREDENTIALS_FILE", "must name a file: the service account key from the Firebase console")
		}
	}
	if c.PushAttempts < 1 || c.PushAttempts > 30 || c.PushRetention < time.Hour || c.PushRetention > 90*24*time.Hour {
		bad("PUSH_MAX_ATTEMPTS and PUSH_RETENTION", "must be 1–30 and 1h–2160h")
	}
	if c.BcryptCost < 4 || c.BcryptCost > 31 {
		bad("BCRYPT_COST", "must be between 4 and 31")
	}
	return errors.Join(errs...)
}

// String shows the configuration with secrets masked, for the startup log.
func (c Config) String() string {
	db := c.DatabaseURL
	if u, err := url.Parse(db); err == nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		db = u.String()
	}
	return fmt.Sprintf("http_addr=%s database_url=%s s3_endpoint=%s s3_bucket=%s s3_use_ssl=%t s3_access_key=%s "+
		"s3_secret_key=%s jwt_secret=%s access_token_ttl=%s refresh_token_ttl=%s request_timeout=%s "+
		"body_limit_bytes=%d bcrypt_cost=%d log_level=%s ticket_auto_close_after=%s ticket_reopen_within=%s sla_sweep_interval=%s "+
		"dispatch_mode=%s dispatch_speed_kph=%g dispatch_detour=%g location_fresh_for=%s location_retention=%s "+
		"s3_public_url=%s upload_max_bytes=%d upload_slot_ttl=%s download_url_ttl=%s trusted_proxies=%s "+
		"pm_horizon_days=%d pm_lead_hours=%d fcm_credentials_file=%s push_max_attempts=%d push_retention=%s",
		c.HTTPAddr, db, c.S3Endpoint, c.S3Bucket, c.S3UseSSL, c.S3AccessKey, mask(c.S3SecretKey), mask(c.JWTSecret),
		c.AccessTokenTTL, c.RefreshTokenTTL, c.RequestTimeout, c.BodyLimit, c.BcryptCost, c.LogLevel,
		c.AutoCloseAfter, c.ReopenWithin, c.SweepInterval, c.DispatchMode, c.SpeedKPH, c.Detour, c.LocationFresh, c.LocationKeep,
		c.S3PublicURL, c.UploadMaxBytes, c.UploadSlotTTL, c.DownloadURLTTL, strings.Join(c.TrustedProxies, ","),
		c.PMHorizonDays, c.PMLeadHours, c.FCMCredentials, c.PushAttempts, c.PushRetention)
}

func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return "xxxxx"
}

// reader parses variables and remembers every parse error, so one run reports them all.
type reader struct {
	getenv func(string) string
	errs   []error
}

// list reads a comma-separated list; empty items are dropped.
func (r *reader) list(name string) []string {
	var out []string
	for _, item := range strings.Split(r.getenv(name), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) parse(name string, parse func(string) error) {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		if err := parse(v); err != nil {
			r.errs = append(r.errs, fmt.Errorf("%s: %w", name, err))
		}
	}
}

func (r *reader) boolean(name string, def bool) bool {
	r.parse(name, func(v string) (err error) { def, err = strconv.ParseBool(v); return err })
	return def
}

func (r *reader) integer(name string, def int) int {
	r.parse(name, func(v string) (err error) { def, err = strconv.Atoi(v); return err })
	return def
}

func (r *reader) float(name string, def float64) float64 {
	r.parse(name, func(v string) (err error) { def, err = strconv.ParseFloat(v, 64); return err })
	return def
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	r.parse(name, func(v string) (err error) { def, err = time.ParseDuration(v); return err })
	return def
}

func (r *reader) level(name string, def slog.Level) slog.Level {
	r.parse(name, func(v string) error { return def.UnmarshalText([]byte(v)) })
	return def
}
