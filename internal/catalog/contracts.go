package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Contract is a client's service agreement: its period, the SLA policy it promises and
// the business calendar the SLA clock runs on.
type Contract struct {
	ID              uuid.UUID `json:"id"`
	ClientID        uuid.UUID `json:"client_id"`
	Number          string    `json:"number"`
	StartsOn        string    `json:"starts_on"`
	EndsOn          *string   `json:"ends_on"`
	SLAPolicyID     uuid.UUID `json:"sla_policy_id"`
	CalendarID      uuid.UUID `json:"calendar_id"`
	DefaultPriority string    `json:"default_priority"`
	// DispatchMode is auto, suggest or off; null follows the server's DISPATCH_MODE.
	DispatchMode *string `json:"dispatch_mode"`
	// DispatchRadiusM is how far from a site an engineer may be sent; null is no limit.
	DispatchRadiusM *int      `json:"dispatch_radius_m"`
	Active          bool      `json:"active"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// ContractInput creates a contract or replaces its details. An empty default_priority
// means "normal".
type ContractInput struct {
	ClientID        string  `json:"client_id"`
	Number          string  `json:"number"`
	StartsOn        string  `json:"starts_on"`
	EndsOn          *string `json:"ends_on"`
	SLAPolicyID     string  `json:"sla_policy_id"`
	CalendarID      string  `json:"calendar_id"`
	DefaultPriority string  `json:"default_priority"`
	DispatchMode    *string `json:"dispatch_mode"`
	DispatchRadiusM *int    `json:"dispatch_radius_m"`
}

// contractFields is a ContractInput that passed validation, parsed.
type contractFields struct {
	clientID, slaPolicyID, calendarID uuid.UUID
	number                            string
	startsOn                          time.Time
	endsOn                            *time.Time
	defaultPriority                   string
	dispatchMode                      *string
	dispatchRadiusM                   *int
}

const contractSelect = `SELECT c.id, c.client_id, c.number, c.starts_on, c.ends_on, c.sla_policy_id, c.calendar_id,
	c.default_priority, c.dispatch_mode, c.dispatch_radius_m, c.active, c.created_at, c.updated_at FROM contracts c`

func scanContract(row pgx.Row) (Contract, error) {
	var c Contract
	var startsOn time.Time
	var endsOn *time.Time
	err := row.Scan(&c.ID, &c.ClientID, &c.Number, &startsOn, &endsOn, &c.SLAPolicyID, &c.CalendarID,
		&c.DefaultPriority, &c.DispatchMode, &c.DispatchRadiusM, &c.Active, &c.CreatedAt, &c.UpdatedAt)
	c.StartsOn, c.EndsOn = formatDate(startsOn), formatOptionalDate(endsOn)
	return c, err
}

func (in ContractInput) validate() (contractFields, error) {
	var errs valid.Errors
	f := contractFields{
		clientID:    errs.UUID("client_id", in.ClientID),
		number:      errs.Text("number", in.Number, true, 100),
		startsOn:    errs.Date("starts_on", in.StartsOn),
		endsOn:      errs.OptionalDate("ends_on", in.EndsOn),
		slaPolicyID: errs.UUID("sla_policy_id", in.SLAPolicyID),
		calendarID:  errs.UUID("calendar_id", in.CalendarID),
	}
	f.defaultPriority = in.DefaultPriority
	if f.defaultPriority == "" {
		f.defaultPriority = "normal"
	}
	errs.OneOf("default_priority", f.defaultPriority, Priorities...)
	if f.dispatchMode = in.DispatchMode; f.dispatchMode != nil {
		errs.OneOf("dispatch_mode", *f.dispatchMode, "auto", "suggest", "off")
	}
	f.dispatchRadiusM = in.DispatchRadiusM
	errs.Check(f.dispatchRadiusM == nil || (*f.dispatchRadiusM > 0 && *f.dispatchRadiusM <= 20_000_000),
		"dispatch_radius_m", "must be between 1 and 20000000 metres (or null for no limit)")
	if _, bad := errs["starts_on"]; !bad && f.endsOn != nil {
		errs.Check(!f.endsOn.Before(f.startsOn), "ends_on", "must not be before starts_on")
	}
	return f, errs.Err()
}

// CreateContract adds a contract to a client.
func (s *Service) CreateContract(ctx context.Context, in ContractInput) (Contract, error) {
	f, err := in.validate()
	if err != nil {
		return Contract{}, err
	}
	id := uuid.Must(uuid.NewV7())
	_, err = s.pool.Exec(ctx, `
		INSERT INTO contracts (id, client_id, number, starts_on, ends_on, sla_policy_id, calendar_id, default_priority,
			dispatch_mode, dispatch_radius_m)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		id, f.clientID, f.number, f.startsOn, f.endsOn, f.slaPolicyID, f.calendarID, f.defaultPriority,
		f.dispatchMode, f.dispatchRadiusM)
	if err != nil {
		return Contract{}, fmt.Errorf("catalog: create contract: %w", postgres.MapError(err))
	}
	return s.GetContract(ctx, id)
}

// UpdateContract replaces a contract's details.
func (s *Service) UpdateContract(ctx context.Context, id uuid.UUID, in ContractInput) (Contract, error) {
	f, err := in.validate()
	if err != nil {
		return Contract{}, err
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE contracts SET client_id = $2, number = $3, starts_on = $4, ends_on = $5, sla_policy_id = $6,
			calendar_id = $7, default_priority = $8, dispatch_mode = $9, dispatch_radius_m = $10
		WHERE id = $1`,
		id, f.clientID, f.number, f.startsOn, f.endsOn, f.slaPolicyID, f.calendarID, f.defaultPriority,
		f.dispatchMode, f.dispatchRadiusM)
	if postgres.Violates(err, "tickets_contract_id_fkey") {
		return Contract{}, &apperr.Error{Code: apperr.Conflict, Message: "the contract has tickets, so it cannot move to another client",
			Fields: map[string]string{"client_id": "cannot change: the contract has tickets"}}
	}
	if err := postgres.Affected(tag, err, "contract", id); err != nil {
		return Contract{}, fmt.Errorf("catalog: update contract: %w", err)
	}
	return s.GetContract(ctx, id)
}

var contracts = table[Contract]{name: "contracts", what: "contract", alias: "c", sel: contractSelect, scan: scanContract,
	id: func(x Contract) uuid.UUID { return x.ID }, search: []string{"c.number"}}

// SetContractActive deactivates or reactivates a contract.
func (s *Service) SetContractActive(ctx context.Context, id uuid.UUID, active bool) (Contract, error) {
	return contracts.setActive(ctx, s.pool, id, active)
}

// GetContract returns one contract.
func (s *Service) GetContract(ctx context.Context, id uuid.UUID) (Contract, error) {
	return contracts.get(ctx, s.pool, id)
}

// ListContracts returns a page of contracts, filtered by client_id, active and q (part
// of the number).
func (s *Service) ListContracts(ctx context.Context, f Filter, p page.Request) (page.Page[Contract], error) {
	var w postgres.Where
	if f.ClientID != nil {
		w.Add("c.client_id = %s", *f.ClientID)
	}
	return contracts.list(ctx, s.pool, f, w, p)
}

// formatDate writes a date column's value the way dates travel in the API.
func formatDate(d time.Time) string { return d.Format(valid.DateLayout) }

// formatOptionalDate is formatDate for a nullable date column.
func formatOptionalDate(d *time.Time) *string {
	if d == nil {
		return nil
	}
	s := formatDate(*d)
	return &s
}
