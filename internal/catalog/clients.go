package catalog

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Client is a company the service company serves under contract.
type Client struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	TaxID     *string   `json:"tax_id"`
	Email     *string   `json:"email"`
	Phone     *string   `json:"phone"`
	Address   *string   `json:"address"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ClientInput creates a client or replaces its details.
type ClientInput struct {
	Name    string  `json:"name"`
	TaxID   *string `json:"tax_id"`
	Email   *string `json:"email"`
	Phone   *string `json:"phone"`
	Address *string `json:"address"`
}

const clientSelect = `SELECT c.id, c.name, c.tax_id, c.email, c.phone, c.address, c.active, c.created_at, c.updated_at FROM clients c`

func scanClient(row pgx.Row) (Client, error) {
	var c Client
	err := row.Scan(&c.ID, &c.Name, &c.TaxID, &c.Email, &c.Phone, &c.Address, &c.Active, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

var taxID = regexp.MustCompile(`^([0-9]{10}|[0-9]{12})$`)

func (in ClientInput) validate() (ClientInput, error) {
	var errs valid.Errors
	out := ClientInput{
		Name:    errs.Text("name", in.Name, true, 200),
		TaxID:   errs.OptionalText("tax_id", in.TaxID, 12),
		Email:   errs.OptionalText("email", in.Email, 254),
		Phone:   errs.OptionalText("phone", in.Phone, 40),
		Address: errs.OptionalText("address", in.Address, 500),
	}
	errs.Check(out.TaxID == nil || taxID.MatchString(*out.TaxID), "tax_id", "must be 10 or 12 digits")
	errs.Check(out.Email == nil || valid.Email(*out.Email), "email", "must be an email address")
	return out, errs.Err()
}

// CreateClient adds a client company.
func (s *Service) CreateClient(ctx context.Context, in ClientInput) (Client, error) {
	in, err := in.validate()
	if err != nil {
		return Client{}, err
	}
	id := uuid.Must(uuid.NewV7())
	_, err = s.pool.Exec(ctx, `INSERT INTO clients (id, name, tax_id, email, phone, address) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, in.Name, in.TaxID, in.Email, in.Phone, in.Address)
	if err != nil {
		return Client{}, fmt.Errorf("catalog: create client: %w", postgres.MapError(err))
	}
	return s.GetClient(ctx, id)
}

// UpdateClient replaces a client's details.
func (s *Service) UpdateClient(ctx context.Context, id uuid.UUID, in ClientInput) (Client, error) {
	in, err := in.validate()
	if err != nil {
		return Client{}, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE clients SET name = $2, tax_id = $3, email = $4, phone = $5, address = $6 WHERE id = $1`,
		id, in.Name, in.TaxID, in.Email, in.Phone, in.Address)
	if err := postgres.Affected(tag, err, "client", id); err != nil {
		return Client{}, fmt.Errorf("catalog: update client: %w", err)
	}
	return s.GetClient(ctx, id)
}

var clients = table[Client]{name: "clients", what: "client", alias: "c", sel: clientSelect, scan: scanClient,
	id: func(x Client) uuid.UUID { return x.ID }, search: []string{"c.name"}}

// SetClientActive deactivates or reactivates a client.
func (s *Service) SetClientActive(ctx context.Context, id uuid.UUID, active bool) (Client, error) {
	return clients.setActive(ctx, s.pool, id, active)
}

// GetClient returns one client.
func (s *Service) GetClient(ctx context.Context, id uuid.UUID) (Client, error) {
	return clients.get(ctx, s.pool, id)
}

// ListClients returns a page of clients, filtered by active and q (part of the name).
func (s *Service) ListClients(ctx context.Context, f Filter, p page.Request) (page.Page[Client], error) {
	return clients.list(ctx, s.pool, f, postgres.Where{}, p)
}
