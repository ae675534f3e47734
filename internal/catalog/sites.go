package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Site is a place of a client's where the service company works: a shop, an office, a
// warehouse. Its time zone is the one SLA deadlines are computed in.
type Site struct {
	ID           uuid.UUID `json:"id"`
	ClientID     uuid.UUID `json:"client_id"`
	Name         string    `json:"name"`
	Address      string    `json:"address"`
	Location     geo.Point `json:"location"`
	TimeZone     string    `json:"time_zone"`
	ContactName  *string   `json:"contact_name"`
	ContactPhone *string   `json:"contact_phone"`
	Active       bool      `json:"active"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// SiteInput creates a site or replaces its details.
type SiteInput struct {
	ClientID     string     `json:"client_id"`
	Name         string     `json:"name"`
	Address      string     `json:"address"`
	Location     *geo.Input `json:"location"`
	TimeZone     string     `json:"time_zone"`
	ContactName  *string    `json:"contact_name"`
	ContactPhone *string    `json:"contact_phone"`
}

type siteFields struct {
	clientID                  uuid.UUID
	name, address, timeZone   string
	location                  geo.Point
	contactName, contactPhone *string
}

const siteSelect = `SELECT s.id, s.client_id, s.name, s.address, s.location, s.time_zone, s.contact_name, s.contact_phone,
	s.active, s.created_at, s.updated_at FROM sites s`

func scanSite(row pgx.Row) (Site, error) {
	var s Site
	err := row.Scan(&s.ID, &s.ClientID, &s.Name, &s.Address, &s.Location, &s.TimeZone, &s.ContactName, &s.ContactPhone,
		&s.Active, &s.CreatedAt, &s.UpdatedAt)
	return s, err
}

func (in SiteInput) validate() (siteFields, error) {
	var errs valid.Errors
	f := siteFields{
		clientID:     errs.UUID("client_id", in.ClientID),
		name:         errs.Text("name", in.Name, true, 200),
		address:      errs.Text("address", in.Address, true, 500),
		location:     errs.Point("location", in.Location),
		timeZone:     errs.TimeZone("time_zone", strings.TrimSpace(in.TimeZone)),
		contactName:  errs.OptionalText("contact_name", in.ContactName, 200),
		contactPhone: errs.OptionalText("contact_phone", in.ContactPhone, 40),
	}
	return f, errs.Err()
}

// CreateSite adds a site to a client.
func (s *Service) CreateSite(ctx context.Context, in SiteInput) (Site, error) {
	f, err := in.validate()
	if err != nil {
		return Site{}, err
	}
	id := uuid.Must(uuid.NewV7())
	_, err = s.pool.Exec(ctx, `
		INSERT INTO sites (id, client_id, name, address, location, time_zone, contact_name, contact_phone)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		id, f.clientID, f.name, f.address, f.location, f.timeZone, f.contactName, f.contactPhone)
	if err != nil {
		return Site{}, fmt.Errorf("catalog: create site: %w", postgres.MapError(err))
	}
	return s.GetSite(ctx, id)
}

// UpdateSite replaces a site's details. A site that tickets were filed at stays with
// its client.
func (s *Service) UpdateSite(ctx context.Context, id uuid.UUID, in SiteInput) (Site, error) {
	f, err := in.validate()
	if err != nil {
		return Site{}, err
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE sites SET client_id = $2, name = $3, address = $4, location = $5, time_zone = $6,
			contact_name = $7, contact_phone = $8
		WHERE id = $1`,
		id, f.clientID, f.name, f.address, f.location, f.timeZone, f.contactName, f.contactPhone)
	if postgres.Violates(err, "tickets_site_id_fkey") {
		return Site{}, &apperr.Error{Code: apperr.Conflict, Message: "the site has tickets, so it cannot move to another client",
			Fields: map[string]string{"client_id": "cannot change: the site has tickets"}}
	}
	if err := postgres.Affected(tag, err, "site", id); err != nil {
		return Site{}, fmt.Errorf("catalog: update site: %w", err)
	}
	return s.GetSite(ctx, id)
}

var sites = table[Site]{name: "sites", what: "site", alias: "s", sel: siteSelect, scan: scanSite,
	id: func(x Site) uuid.UUID { return x.ID }, search: []string{"s.name", "s.address"}}

// SetSiteActive deactivates or reactivates a site.
func (s *Service) SetSiteActive(ctx context.Context, id uuid.UUID, active bool) (Site, error) {
	return sites.setActive(ctx, s.pool, id, active)
}

// GetSite returns one site.
func (s *Service) GetSite(ctx context.Context, id uuid.UUID) (Site, error) {
	return sites.get(ctx, s.pool, id)
}

// ListSites returns a page of sites, filtered by client_id, active and q (part of the
// name or address).
func (s *Service) ListSites(ctx context.Context, f Filter, p page.Request) (page.Page[Site], error) {
	var w postgres.Where
	if f.ClientID != nil {
		w.Add("s.client_id = %s", *f.ClientID)
	}
	return sites.list(ctx, s.pool, f, w, p)
}
