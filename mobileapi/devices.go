package mobileapi

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/device"
	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// DeviceSession is how long a device stays signed in without its engineer signing in
// again, as long as it refreshes now and then.
const DeviceSession = 90 * 24 * time.Hour

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
	Device device.Device `json:"device"`
	Tokens auth.Tokens   `json:"tokens"`
}

const deviceSelect = `SELECT ` + device.Columns + ` FROM devices`

// Register records the calling engineer's device (again, after an update or a new push
// token) and gives it a login of its own; a previous login of the same device ends.
func (s *Service) Register(ctx context.Context, p auth.Principal, in NewDevice) (Registration, error) {
	if p.Role != auth.Engineer {
		return Registration{}, apperr.New(apperr.Forbidden, "devices are registered by engineers")
	}
	var errs valid.Errors
	id := errs.UUID("id", in.ID)
	checked := device.Validate(&errs, device.Input{Platform: in.Platform, AppVersion: in.AppVersion, PushToken: in.PushToken}, false)
	if err := errs.Err(); err != nil {
		return Registration{}, err
	}
	tokens, family, err := s.Sessions.StartSession(ctx, p.UserID, DeviceSession)
	if err != nil {
		return Registration{}, err
	}
	var d device.Device
	var previous *uuid.UUID
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) (err error) {
		var profile bool
		if err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM engineers WHERE user_id = $1)`, p.UserID).Scan(&profile); err != nil {
			return err
		}
		if !profile {
			return apperr.New(apperr.Forbidden, "your account has no engineer profile yet; ask an admin")
		}
		d, previous, err = device.Register(ctx, tx, device.Registration{ID: id, UserID: p.UserID, Input: checked,
			Family: &family, At: s.now(), Others: "engineer"})
		return err
	})
	if err == nil && previous != nil {
		err = s.Sessions.RevokeFamily(ctx, *previous)
	}
	if err != nil {
		_ = s.Sessions.RevokeFamily(context.WithoutCancel(ctx), family) // the new login is of no use
		return Registration{}, fmt.Errorf("mobileapi: register: %w", postgres.MapError(err))
	}
	return Registration{Device: d, Tokens: tokens}, nil
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
func (s *Service) RevokeDevice(ctx context.Context, id uuid.UUID) (device.Device, error) {
	var family *uuid.UUID
	err := s.pool.QueryRow(ctx, `UPDATE devices SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING token_family`,
		id, s.now()).Scan(&family)
	if postgres.ErrNoRows(err) {
		return device.Device{}, apperr.New(apperr.NotFound, "device %s not found", id)
	}
	if err != nil {
		return device.Device{}, fmt.Errorf("mobileapi: revoke: %w", err)
	}
	if family != nil {
		if err := s.Sessions.RevokeFamily(ctx, *family); err != nil {
			return device.Device{}, err
		}
	}
	return postgres.GetByID(ctx, s.pool, "device", deviceSelect+` WHERE id = $1`, id, device.Scan)
}

// ListDevices lists devices by id (descending), optionally one user's.
func (s *Service) ListDevices(ctx context.Context, user *uuid.UUID, pr page.Request) (page.Page[device.Device], error) {
	var w postgres.Where
	if user != nil {
		w.Add("user_id = %s", *user)
	}
	return postgres.ListPage(ctx, s.pool, deviceSelect, w, postgres.Key{Column: "id", Desc: true}, pr, device.Scan,
		func(d device.Device) uuid.UUID { return d.ID })
}
