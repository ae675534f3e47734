// Package catalog is the reference data the service desk runs on, administered by
// admins and read by dispatchers and managers: client companies and their contracts,
// SLA policies, business calendars, sites, assets, skills and engineers.
package catalog

import (
	"github.com/jackc/pgx/v5/pgxpool"
)

// Service reads and writes the catalog.
type Service struct {
	pool *pgxpool.Pool
}

// NewService returns a Service.
func NewService(pool *pgxpool.Pool) *Service { return &Service{pool: pool} }

// Priorities are the ticket priorities, lowest first.
var Priorities = []string{"low", "normal", "high", "critical"}
