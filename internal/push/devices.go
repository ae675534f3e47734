package push

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/device"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

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
func (s *Service) RegisterDevice(ctx context.Context, p auth.Principal, id uuid.UUID, in DeviceInput) (device.Device, error) {
	if p.Role == auth.Engineer {
		return device.Device{}, apperr.New(apperr.Forbidden, "engineers' apps register with POST /mobile/v1/devices")
	}
	var errs valid.Errors
	checked := device.Validate(&errs, device.Input{Platform: in.Platform, AppVersion: in.AppVersion, PushToken: &in.PushToken}, true)
	if err := errs.Err(); err != nil {
		return device.Device{}, err
	}
	var d device.Device
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) (err error) {
		d, _, err = device.Register(ctx, tx, device.Registration{ID: id, UserID: p.UserID, Input: checked, At: s.now()})
		return err
	})
	if err != nil {
		return device.Device{}, fmt.Errorf("push: register device: %w", postgres.MapError(err))
	}
	return d, nil
}

// UnregisterDevice stops notifications to one of the caller's devices (signing out, or a
// dispatcher going off duty); registering it again resumes them.
func (s *Service) UnregisterDevice(ctx context.Context, p auth.Principal, id uuid.UUID) (device.Device, error) {
	d, err := device.Scan(postgres.Q(ctx, s.pool).QueryRow(ctx,
		`UPDATE devices SET push_token = NULL WHERE id = $1 AND user_id = $2 RETURNING `+device.Columns, id, p.UserID))
	if postgres.ErrNoRows(err) {
		return device.Device{}, apperr.New(apperr.NotFound, "device %s not found", id)
	}
	if err != nil {
		return device.Device{}, fmt.Errorf("push: unregister device: %w", err)
	}
	return d, nil
}
