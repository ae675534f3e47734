package catalog

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Client is a company the service company serves under contract.
type Client struct {
	ID      uuid.UUID `json:"id"`
	Name    string    `json:"name"`
	TaxID   *string   `json:"tax_id"`
	Email   *string   `json:"email"`
	Phone   *string   `json:"phone"`
	Address *string   `json:"address"`
	// AccountManagerID is the manager who looks after the client: SLA alarms and new
	// preventive work orders for its tickets go to them (to every manager when unset).
	AccountManagerID *uuid.UUID `json:"account_manager_id"`
	Active           bool       `json:"active"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// ClientInput creates a client or replaces its details.
type ClientInput struct {
	Name    string  `json:"name"`
	TaxID   *string `json:"tax_id"`
	Email   *string `json:"email"`
	Phone   *string `json:"phone"`
	Address *string `json:"address"`
	// AccountManagerID must name an active manager.
	AccountManagerID *string `json:"account_manager_id"`
}

const clientSelect = `SELECT c.id, c.name, c.tax_id, c.email, c.phone, c.address, c.account_manager_id, c.active,
	c.created_at, c.updated_at FROM clients c`

func scanClient(row pgx.Row) (Client, error) {
	var c Client
	err := row.Scan(&c.ID, &c.Name, &c.TaxID, &c.Email, &c.Phone, &c.Address, &c.AccountManagerID, &c.Active, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

var taxID = regexp.MustCompile(`^([0-9]{10}|[0-9]{12})$`)

// clientFields is a validated ClientInput.
type clientFields struct {
	ClientInput
	accountManagerID *uuid.UUID
}

// validateClient checks in for the client id (uuid.Nil for a new one). The account
// manager must be an active manager, unless the client has them already: a form that
// sends back what it read must not fail because they have left since.
func (s *Service) validateClient(ctx context.Context, id uuid.UUID, in ClientInput) (clientFields, error) {
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
	f := clientFields{ClientInput: out, accountManagerID: errs.OptionalUUID("account_manager_id", in.AccountManagerID)}
	if err := errs.Err(); err != nil {
		return f, err
	}
	if f.accountManagerID != nil {
		var manager bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM users WHERE id = $1 AND role = 'manager' AND active)
			OR EXISTS (SELECT FROM clients WHERE id = $2 AND account_manager_id = $1)`,
			*f.accountManagerID, id).Scan(&manager); err != nil {
			return f, fmt.Errorf("catalog: account manager: %w", postgres.MapError(err))
		}
		if !manager {
			return f, apperr.Field("account_manager_id", "must be an active manager")
		}
	}
	return f, nil
}

// CreateClient adds a client company.
func (s *Service) CreateClient(ctx context.Context, in ClientInput) (Client, error) {
	f, err := s.validateClient(ctx, uuid.Nil, in)
	if err != nil {
		return Client{}, err
	}
	id := uuid.Must(uuid.NewV7())
	_, err = s.pool.Exec(ctx, `INSERT INTO clients (id, name, tax_id, email, phone, address, account_manager_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, f.Name, f.TaxID, f.Email, f.Phone, f.Address, f.accountManagerID)
	if err != nil {
		return Client{}, fmt.Errorf("catalog: create client: %w", postgres.MapError(err))
	}
	return s.GetClient(ctx, id)
}

// UpdateClient replaces a client's details.
func (s *Service) UpdateClient(ctx context.Context, id uuid.UUID, in ClientInput) (Client, error) {
	f, err := s.validateClient(ctx, id, in)
	if err != nil {
		return Client{}, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE clients SET name = $2, tax_id = $3, email = $4, phone = $5, address = $6,
		account_manager_id = $7 WHERE id = $1`,
		id, f.Name, f.TaxID, f.Email, f.Phone, f.Address, f.accountManagerID)
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
