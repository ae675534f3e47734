package push

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Device is a phone or browser that receives a user's notifications.
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

const deviceColumns = `id, user_id, platform, app_version, push_token, registered_at, last_seen_at, revoked_at`

func scanDevice(row pgx.Row) (Device, error) {
	var d Device
	err := row.Scan(&d.ID, &d.UserID, &d.Platform, &d.AppVersion, &d.PushToken, &d.RegisteredAt, &d.LastSeenAt, &d.RevokedAt)
	return d, err
}

// DeviceInput is what an app sends to receive notifications on a device. The id is the
// app's own, kept across restarts.
type DeviceInput struct {
	Platform   string `json:"platform"`
	AppVersion string `json:"app_version"`
	PushToken  string `json:"push_token"`
}

// RegisterDevice records the caller's device and its FCM token (again, whenever the app
// starts or FCM gives it a new token). It is for everyone but engineers, whose app
// registers through the mobile API and gets its own login there. A dispatcher with a
// registered device is on duty: they hear of SLA alarms and of what clients write.
func (s *Service) RegisterDevice(ctx context.Context, p auth.Principal, id uuid.UUID, in DeviceInput) (Device, error) {
	if p.Role == auth.Engineer {
		return Device{}, apperr.New(apperr.Forbidden, "engineers' apps register with POST /mobile/v1/devices")
	}
	var errs valid.Errors
	platform := errs.OneOf("platform", in.Platform, "android", "ios", "web")
	version := errs.Text("app_version", in.AppVersion, true, 50)
	token := errs.Text("push_token", in.PushToken, true, 4096)
	if err := errs.Err(); err != nil {
		return Device{}, err
	}
	var d Device
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		owner, revoked, err := lockDevice(ctx, tx, id)
		switch {
		case err != nil:
			return err
		case owner != nil && *owner != p.UserID:
			return &apperr.Error{Code: apperr.Conflict, Message: "this device is registered to someone else",
				Fields: map[string]string{"id": "belongs to another user's device"}}
		case revoked: // a lost phone must not come back by itself
			return &apperr.Error{Code: apperr.Conflict, Message: "this device was revoked; register the app as a new device",
				Fields: map[string]string{"id": "was revoked"}}
		}
		// A token moves with the app: a device that held it before no longer does.
		if _, err := tx.Exec(ctx, `UPDATE devices SET push_token = NULL WHERE push_token = $1 AND id <> $2`, token, id); err != nil {
			return err
		}
		d, err = scanDevice(tx.QueryRow(ctx, `
			INSERT INTO devices (id, user_id, platform, app_version, push_token, registered_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6)
			ON CONFLICT (id) DO UPDATE SET platform = $3, app_version = $4, push_token = $5, last_seen_at = $6
			RETURNING `+deviceColumns, id, p.UserID, platform, version, token, s.now()))
		return err
	})
	if err != nil {
		return Device{}, fmt.Errorf("push: register device: %w", postgres.MapError(err))
	}
	return d, nil
}

// UnregisterDevice stops notifications to one of the caller's devices (signing out, or a
// dispatcher going off duty); registering it again resumes them.
func (s *Service) UnregisterDevice(ctx context.Context, p auth.Principal, id uuid.UUID) (Device, error) {
	var d Device
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		owner, _, err := lockDevice(ctx, tx, id)
		if err != nil {
			return err
		}
		if owner == nil || *owner != p.UserID {
			return apperr.New(apperr.NotFound, "device %s not found", id)
		}
		d, err = scanDevice(tx.QueryRow(ctx, `UPDATE devices SET push_token = NULL WHERE id = $1 RETURNING `+deviceColumns, id))
		return err
	})
	if err != nil {
		return Device{}, fmt.Errorf("push: unregister device: %w", postgres.MapError(err))
	}
	return d, nil
}

// lockDevice locks device id and says whose it is (nil: not registered) and whether it
// was revoked.
func lockDevice(ctx context.Context, tx pgx.Tx, id uuid.UUID) (owner *uuid.UUID, revoked bool, err error) {
	err = tx.QueryRow(ctx, `SELECT user_id, revoked_at IS NOT NULL FROM devices WHERE id = $1 FOR UPDATE`, id).Scan(&owner, &revoked)
	if postgres.ErrNoRows(err) {
		return nil, false, nil
	}
	return owner, revoked, err
}
