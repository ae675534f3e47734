package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Asset is a piece of equipment at a site that the service company maintains and
// repairs: a refrigerated cabinet, an elevator, a cash register.
type Asset struct {
	ID            uuid.UUID `json:"id"`
	SiteID        uuid.UUID `json:"site_id"`
	ClientID      uuid.UUID `json:"client_id"` // the site's client
	AssetType     string    `json:"asset_type"`
	Manufacturer  *string   `json:"manufacturer"`
	Model         *string   `json:"model"`
	SerialNumber  *string   `json:"serial_number"`
	InstalledOn   *string   `json:"installed_on"`
	WarrantyUntil *string   `json:"warranty_until"`
	Active        bool      `json:"active"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// AssetInput creates an asset or replaces its details.
type AssetInput struct {
	SiteID        string  `json:"site_id"`
	AssetType     string  `json:"asset_type"`
	Manufacturer  *string `json:"manufacturer"`
	Model         *string `json:"model"`
	SerialNumber  *string `json:"serial_number"`
	InstalledOn   *string `json:"installed_on"`
	WarrantyUntil *string `json:"warranty_until"`
}

type assetFields struct {
	siteID                            uuid.UUID
	assetType                         string
	manufacturer, model, serialNumber *string
	installedOn, warrantyUntil        *time.Time
}

const assetSelect = `SELECT a.id, a.site_id, s.client_id, a.asset_type, a.manufacturer, a.model, a.serial_number,
	a.installed_on, a.warranty_until, a.active, a.created_at, a.updated_at
	FROM assets a JOIN sites s ON s.id = a.site_id`

func scanAsset(row pgx.Row) (Asset, error) {
	var a Asset
	var installedOn, warrantyUntil *time.Time
	err := row.Scan(&a.ID, &a.SiteID, &a.ClientID, &a.AssetType, &a.Manufacturer, &a.Model, &a.SerialNumber,
		&installedOn, &warrantyUntil, &a.Active, &a.CreatedAt, &a.UpdatedAt)
	a.InstalledOn, a.WarrantyUntil = formatOptionalDate(installedOn), formatOptionalDate(warrantyUntil)
	return a, err
}

func (in AssetInput) validate() (assetFields, error) {
	var errs valid.Errors
	f := assetFields{
		siteID:        errs.UUID("site_id", in.SiteID),
		assetType:     errs.Text("asset_type", in.AssetType, true, 40),
		manufacturer:  errs.OptionalText("manufacturer", in.Manufacturer, 200),
		model:         errs.OptionalText("model", in.Model, 200),
		serialNumber:  errs.OptionalText("serial_number", in.SerialNumber, 100),
		installedOn:   errs.OptionalDate("installed_on", in.InstalledOn),
		warrantyUntil: errs.OptionalDate("warranty_until", in.WarrantyUntil),
	}
	if f.assetType != "" {
		errs.Slug("asset_type", f.assetType)
	}
	_, badInstalled := errs["installed_on"]
	if f.installedOn != nil && f.warrantyUntil != nil && !badInstalled {
		errs.Check(!f.warrantyUntil.Before(*f.installedOn), "warranty_until", "must not be before installed_on")
	}
	return f, errs.Err()
}

// CreateAsset adds an asset to a site.
func (s *Service) CreateAsset(ctx context.Context, in AssetInput) (Asset, error) {
	f, err := in.validate()
	if err != nil {
		return Asset{}, err
	}
	id := uuid.Must(uuid.NewV7())
	_, err = s.pool.Exec(ctx, `
		INSERT INTO assets (id, site_id, asset_type, manufacturer, model, serial_number, installed_on, warranty_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		id, f.siteID, f.assetType, f.manufacturer, f.model, f.serialNumber, f.installedOn, f.warrantyUntil)
	if err != nil {
		return Asset{}, fmt.Errorf("catalog: create asset: %w", postgres.MapError(err))
	}
	return s.GetAsset(ctx, id)
}

// UpdateAsset replaces an asset's details. An asset that tickets were filed against
// stays at its site.
func (s *Service) UpdateAsset(ctx context.Context, id uuid.UUID, in AssetInput) (Asset, error) {
	f, err := in.validate()
	if err != nil {
		return Asset{}, err
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE assets SET site_id = $2, asset_type = $3, manufacturer = $4, model = $5, serial_number = $6,
			installed_on = $7, warranty_until = $8
		WHERE id = $1`,
		id, f.siteID, f.assetType, f.manufacturer, f.model, f.serialNumber, f.installedOn, f.warrantyUntil)
	if postgres.Violates(err, "tickets_asset_id_fkey") {
		return Asset{}, &apperr.Error{Code: apperr.Conflict, Message: "the asset has tickets, so it cannot move to another site",
			Fields: map[string]string{"site_id": "cannot change: the asset has tickets"}}
	}
	if err := postgres.Affected(tag, err, "asset", id); err != nil {
		return Asset{}, fmt.Errorf("catalog: update asset: %w", err)
	}
	return s.GetAsset(ctx, id)
}

var assets = table[Asset]{name: "assets", what: "asset", alias: "a", sel: assetSelect, scan: scanAsset,
	id: func(x Asset) uuid.UUID { return x.ID }, search: []string{"a.serial_number", "a.model", "a.manufacturer"}}

// SetAssetActive deactivates or reactivates an asset.
func (s *Service) SetAssetActive(ctx context.Context, id uuid.UUID, active bool) (Asset, error) {
	return assets.setActive(ctx, s.pool, id, active)
}

// GetAsset returns one asset.
func (s *Service) GetAsset(ctx context.Context, id uuid.UUID) (Asset, error) {
	return assets.get(ctx, s.pool, id)
}

// ListAssets returns a page of assets, filtered by site_id, client_id, type, active and
// q (part of the serial number, model or manufacturer).
func (s *Service) ListAssets(ctx context.Context, f Filter, p page.Request) (page.Page[Asset], error) {
	var w postgres.Where
	if f.SiteID != nil {
		w.Add("a.site_id = %s", *f.SiteID)
	}
	if f.ClientID != nil {
		w.Add("s.client_id = %s", *f.ClientID)
	}
	if t := strings.TrimSpace(f.Type); t != "" {
		w.Add("a.asset_type = %s", t)
	}
	return assets.list(ctx, s.pool, f, w, p)
}
