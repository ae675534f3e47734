package mobileapi

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// DeviceSession is how long a device stays signed in without its engineer signing in
// again, as long as it refreshes now and then.
const DeviceSession = 90 * 24 * time.Hour

// Device is an engineer's phone or tablet.
type Device struct {
	ID           uuid.UUID  `json:"id"`
	UserID       uuid.UUID  `json:"user_id"`
	Platform     string     `json:"platform"`
	AppVersion   string     `json:"app_version"`
	PushToken    *string    `json:"push_token"`
	RegisteredAt time.Time  `json:"registered_at"`
	LastSeenAt   *time.Time `json:"last_seen_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
}

// NewDevice is what the app sends when it starts on a device. The id is the app's own,
// kept across restarts.
type NewDevice struct {
	ID         string  `json:"id"`
	Platform   string  `json:"platform"`
	AppVersion string  `json:"app_version"`
	PushToken  *string `json:"push_token"`
}

// Registration is the device and the long-lived login it now holds.
type Registration struct {
	Device Device      `json:"device"`
	Tokens auth.Tokens `json:"tokens"`
}

const deviceSelect = `SELECT id, user_id, platform, app_version, push_token, registered_at, last_seen_at, revoked_at FROM devices`

func scanDevice(row pgx.Row) (Device, error) {
	var d Device
	err := row.Scan(&d.ID, &d.UserID, &d.Platform, &d.AppVersion, &d.PushToken, &d.RegisteredAt, &d.LastSeenAt, &d.RevokedAt)
	return d, err
}

// Register records the calling engineer's device (again, after an update or a new push
// token) and gives it a login of its own; a previous login of the same device ends.
func (s *Service) Register(ctx context.Context, p auth.Principal, in NewDevice) (Registration, error) {
	if p.Role != auth.Engineer {
		return Registration{}, apperr.New(apperr.Forbidden, "devices are registered by engineers")
	}
	var errs valid.Errors
	id := errs.UUID("id", in.ID)
	platform := errs.OneOf("platform", in.Platform, "android", "ios", "web")
	version := errs.Text("app_version", in.AppVersion, true, 50)
	push := errs.OptionalText("push_token", in.PushToken, 4096)
	if err := errs.Err(); err != nil {
		return Registration{}, err
	}
	tokens, family, err := s.Sessions.StartSession(ctx, p.UserID, DeviceSession)
	if err != nil {
		return Registration{}, err
	}
	var previous *uuid.UUID
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var profile bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM engineers WHERE user_id = $1)`, p.UserID).Scan(&profile); err != nil {
			return err
		}
		if !profile {
			return apperr.New(apperr.Forbidden, "your account has no engineer profile yet; ask an admin")
		}
		var owner uuid.UUID
		var revoked *time.Time
		err := tx.QueryRow(ctx, `SELECT user_id, token_family, revoked_at FROM devices WHERE id = $1 FOR UPDATE`, id).
			Scan(&owner, &previous, &revoked)
		switch {
		case postgres.ErrNoRows(err):
		case err != nil:
			return err
		case owner != p.UserID:
			return &apperr.Error{Code: apperr.Conflict, Message: "this device is registered to someone else",
				Fields: map[string]string{"id": "belongs to another engineer's device"}}
		case revoked != nil: // a lost phone must not sign itself back in
			return &apperr.Error{Code: apperr.Conflict, Message: "this device was revoked; register the app again as a new device",
				Fields: map[string]string{"id": "was revoked"}}
		}
		// A push token moves with the app: another device holding it has stopped using it.
		if push != nil {
			if _, err := tx.Exec(ctx, `UPDATE devices SET push_token = NULL WHERE push_token = $1 AND id <> $2`, *push, id); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO devices (id, user_id, platform, app_version, push_token, token_family, registered_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
			ON CONFLICT (id) DO UPDATE SET platform = $3, app_version = $4, push_token = $5, token_family = $6,
				last_seen_at = $7`, id, p.UserID, platform, version, push, family, s.now())
		return err
	})
	if err == nil && previous != nil {
		err = s.Sessions.RevokeFamily(ctx, *previous)
	}
	if err != nil {
		_ = s.Sessions.RevokeFamily(context.WithoutCancel(ctx), family) // the new login is of no use
		return Registration{}, fmt.Errorf("mobileapi: register: %w", postgres.MapError(err))
	}
	d, err := postgres.GetByID(ctx, s.pool, "device", deviceSelect+` WHERE id = $1`, id, scanDevice)
	return Registration{Device: d, Tokens: tokens}, err
}

// device checks that the calling engineer may sync from this device, marks it seen,
// and returns the engineer's id.
func (s *Service) device(ctx context.Context, p auth.Principal, device uuid.UUID) (uuid.UUID, error) {
	if p.Role != auth.Engineer {
		return uuid.Nil, apperr.New(apperr.Forbidden, "the sync is for engineers' devices")
	}
	var engineer uuid.UUID
	var revoked bool
	err := s.pool.QueryRow(ctx, `
		WITH seen AS (UPDATE devices SET last_seen_at = $3 WHERE id = $1 AND user_id = $2
			AND (last_seen_at IS NULL OR last_seen_at < $3::timestamptz - interval '1 minute'))
		SELECT e.id, d.revoked_at IS NOT NULL FROM devices d JOIN engineers e ON e.user_id = d.user_id
		WHERE d.id = $1 AND d.user_id = $2`, device, p.UserID, s.now()).Scan(&engineer, &revoked)
	if postgres.ErrNoRows(err) {
		return uuid.Nil, apperr.New(apperr.NotFound, "register this device first (POST /mobile/v1/devices)")
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("mobileapi: device: %w", err)
	}
	if revoked {
		return uuid.Nil, apperr.New(apperr.Unauthenticated, "this device's session was revoked; sign in again")
	}
	return engineer, nil
}

// RevokeDevice ends a device's session; the engineer's other devices stay signed in.
func (s *Service) RevokeDevice(ctx context.Context, id uuid.UUID) (Device, error) {
	var family *uuid.UUID
	err := s.pool.QueryRow(ctx, `UPDATE devices SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING token_family`,
		id, s.now()).Scan(&family)
	if postgres.ErrNoRows(err) {
		return Device{}, apperr.New(apperr.NotFound, "device %s not found", id)
	}
	if err != nil {
		return Device{}, fmt.Errorf("mobileapi: revoke: %w", err)
	}
	if family != nil {
		if err := s.Sessions.RevokeFamily(ctx, *family); err != nil {
			return Device{}, err
		}
	}
	return postgres.GetByID(ctx, s.pool, "device", deviceSelect+` WHERE id = $1`, id, scanDevice)
}

// ListDevices lists devices by id (descending), optionally one user's.
func (s *Service) ListDevices(ctx context.Context, user *uuid.UUID, pr page.Request) (page.Page[Device], error) {
	var w postgres.Where
	if user != nil {
		w.Add("user_id = %s", *user)
	}
	return postgres.ListPage(ctx, s.pool, deviceSelect, w, postgres.Key{Column: "id", Desc: true}, pr, scanDevice,
		func(d Device) uuid.UUID { return d.ID })
}
