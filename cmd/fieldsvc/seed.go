package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"fieldsvc/internal/config"
	"fieldsvc/internal/demo"
)

// loadDemo loads the demo data set multiplied by scale and prints the demo logins.
func loadDemo(ctx context.Context, pool *pgxpool.Pool, cfg config.Config, scale int, seed uint64, stdout io.Writer) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(demo.DemoPassword), cfg.BcryptCost)
	if err != nil {
		return fmt.Errorf("seed-demo: %w", err)
	}
	size := demo.Size{
		Clients:     demo.Demo.Clients * scale,
		Sites:       demo.Demo.Sites * scale,
		Assets:      demo.Demo.Assets * scale,
		Engineers:   demo.Demo.Engineers * scale,
		OpenTickets: demo.Demo.OpenTickets * scale,
	}
	sum, err := demo.Load(ctx, pool, size, seed, string(hash))
	if err != nil {
		return fmt.Errorf("seed-demo: %w", err)
	}
	fmt.Fprintf(stdout, "demo data: %d clients, %d sites, %d assets, %d engineers, %d tickets, %d users\n\n",
		sum.Clients, sum.Sites, sum.Assets, sum.Engineers, sum.Tickets, sum.Users)
	fmt.Fprintln(stdout, "demo logins (POST /api/v1/auth/login):")
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  ROLE\tEMAIL\tPASSWORD\t")
	for _, l := range sum.Logins {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", l.Role, l.Email, l.Password, l.Note)
	}
	return w.Flush()
}
