// Command fieldsvc is the field-service backend: `serve` runs the HTTP API, `migrate`
// brings the database schema up to date, `seed-demo` loads the demo data set.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // business calendars need IANA zones even where the OS has none

	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/auth"
	"fieldsvc/internal/config"
	"fieldsvc/internal/postgres"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runWithInput(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fieldsvc:", err)
		os.Exit(1)
	}
}

const usage = `usage: fieldsvc <command>

commands:
  serve       run the HTTP API (refuses a database whose schema is older than the binary)
  migrate     apply pending database migrations
  seed-demo   load the demo data set (idempotent)
  create-admin -email E -name "Full Name"
              add the first admin of a real installation; the password is read
              from ADMIN_PASSWORD or, without it, from the first line of stdin

configuration comes from the environment; see README.md.`

// run is the whole program: stdout gets what a person reads, stderr the JSON log.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runWithInput(ctx, args, getenv, strings.NewReader(""), stdout, stderr)
}

func runWithInput(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, log, stdout)
	case "migrate":
		return migrate(ctx, cfg, stdout)
	case "seed-demo":
		return seedDemo(ctx, cfg, args[1:], stdout)
	case "create-admin":
		return createAdmin(ctx, cfg, args[1:], getenv, stdin, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n\n%s", args[0], usage)
}

func migrate(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, err := postgres.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	current, _, err := postgres.SchemaVersions(ctx, pool)
	if err != nil {
		return err
	}
	for _, name := range applied {
		fmt.Fprintf(stdout, "applied %s\n", name)
	}
	fmt.Fprintf(stdout, "schema is at version %d\n", current)
	return nil
}

func seedDemo(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed-demo", flag.ContinueOnError)
	fs.SetOutput(stdout)
	scale := fs.Int("scale", 1, "multiply the demo data set (1 = 20 clients, 200 sites, 1,000 assets, 50 engineers)")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scale < 1 || *scale > 1000 {
		return errors.New("seed-demo: -scale must be from 1 to 1000")
	}
	pool, err := connectCurrent(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	return loadDemo(ctx, pool, cfg, *scale, *seed, stdout)
}

func createAdmin(ctx context.Context, cfg config.Config, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("create-admin", flag.ContinueOnError)
	fs.SetOutput(stdout)
	email := fs.String("email", "", "the admin's email, used to sign in")
	name := fs.String("name", "", "the admin's full name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	password := getenv("ADMIN_PASSWORD")
	if password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("create-admin: read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	pool, err := connectCurrent(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc, err := auth.NewService(pool, auth.Options{BcryptCost: cfg.BcryptCost})
	if err != nil {
		return err
	}
	u, err := svc.CreateUser(ctx, auth.UserInput{Email: *email, FullName: *name, Role: string(auth.Admin), Password: &password})
	if err != nil {
		return fmt.Errorf("create-admin: %w", err)
	}
	fmt.Fprintf(stdout, "created admin %s (%s)\n", u.Email, u.ID)
	return nil
}

// connectCurrent opens the database and refuses one whose schema is older than the binary.
func connectCurrent(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := postgres.CheckSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}
