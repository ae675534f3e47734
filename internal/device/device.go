// Package device registers the phones, tablets and browsers that receive a user's
// notifications: the one way both the engineers' app (mobile API) and everyone else's
// (push API) record a device and its push token.
package device

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Device is a phone, tablet or browser of a user's.
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

// Columns are the devices table's columns that Scan reads, in its order.
const Columns = `id, user_id, platform, app_version, push_token, registered_at, last_seen_at, revoked_at`

// Scan reads a row of Columns.
func Scan(row pgx.Row) (Device, error) {
	var d Device
	err := row.Scan(&d.ID, &d.UserID, &d.Platform, &d.AppVersion, &d.PushToken, &d.RegisteredAt, &d.LastSeenAt, &d.RevokedAt)
	return d, err
}

// Input is what an app tells about the device it runs on.
type Input struct {
	Platform   string
	AppVersion string
	PushToken  *string // nil or empty: none
}

// maxToken is the longest push token taken; FCM's are about 160 characters.
const maxToken = 4096

// Validate records in errs what is wrong with in and returns it cleaned up: trimmed, and
// an empty push token nil. tokenRequired says whether the device must give one.
func Validate(errs *valid.Errors, in Input, tokenRequired bool) Input {
	out := Input{
		Platform:   errs.OneOf("platform", in.Platform, "android", "ios", "web"),
		AppVersion: errs.Text("app_version", in.AppVersion, true, 50),
	}
	var token string
	if in.PushToken != nil {
		token = *in.PushToken
	}
	if token = errs.Text("push_token", token, tokenRequired, maxToken); token != "" {
		// FCM refuses any other token (INVALID_ARGUMENT), and every message to the device
		// would end as a dead letter.
		errs.Check(!strings.ContainsFunc(token, notInToken), "push_token", "must be an FCM registration token")
		out.PushToken = &token
	}
	return out
}

// notInToken reports a character FCM registration tokens never hold.
func notInToken(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == ':' || r == '-')
}

// Registration is a device registering (again) for a user.
type Registration struct {
	ID     uuid.UUID
	UserID uuid.UUID
	Input             // as Validate returned it
	Family *uuid.UUID // the login the device now holds; nil keeps the one it has
	At     time.Time
	// Others names who else registers devices, for the conflict over another's id:
	// "user" when empty.
	Others string
}

// Register records the device inside tx, the caller's transaction: creates it, or
// updates it if it is the user's and not revoked (409 otherwise). The push token moves to
// it from any other device. It returns the device and the login it held before.
func Register(ctx context.Context, tx pgx.Tx, r Registration) (d Device, previous *uuid.UUID, err error) {
	taken := &apperr.Error{Code: apperr.Conflict, Message: "this device is registered to someone else",
		Fields: map[string]string{"id": "belongs to another " + cmp.Or(r.Others, "user") + "'s device"}}
	var owner uuid.UUID
	var revoked bool
	err = tx.QueryRow(ctx, `SELECT user_id, token_family, revoked_at IS NOT NULL FROM devices WHERE id = $1 FOR UPDATE`, r.ID).
		Scan(&owner, &previous, &revoked)
	switch {
	case postgres.ErrNoRows(err): // new, unless another registration of the id beats us to it
	case err != nil:
		return Device{}, nil, err
	case owner != r.UserID:
		return Device{}, nil, taken
	case revoked: // a lost phone must not come back by itself
		return Device{}, nil, &apperr.Error{Code: apperr.Conflict, Message: "this device was revoked; register the app as a new device",
			Fields: map[string]string{"id": "was revoked"}}
	}
	// A push token moves with the app: another device holding it has stopped using it.
	if r.PushToken != nil {
		if _, err := tx.Exec(ctx, `UPDATE devices SET push_token = NULL WHERE push_token = $1 AND id <> $2`, *r.PushToken, r.ID); err != nil {
			return Device{}, nil, err
		}
	}
	// The lock above holds nothing when the id is new: if another registration of it
	// commits first, this insert meets that row, and the WHERE keeps it from taking over
	// someone else's (or a revoked) device.
	d, err = Scan(tx.QueryRow(ctx, `
		INSERT INTO devices (id, user_id, platform, app_version, push_token, token_family, registered_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (id) DO UPDATE SET platform = EXCLUDED.platform, app_version = EXCLUDED.app_version,
			push_token = EXCLUDED.push_token, token_family = coalesce(EXCLUDED.token_family, devices.token_family),
			last_seen_at = EXCLUDED.last_seen_at
		WHERE devices.user_id = EXCLUDED.user_id AND devices.revoked_at IS NULL
		RETURNING `+Columns, r.ID, r.UserID, r.Platform, r.AppVersion, r.PushToken, r.Family, r.At))
	if postgres.ErrNoRows(err) {
		return Device{}, nil, taken
	}
	if err != nil {
		return Device{}, nil, err
	}
	return d, previous, nil
}
