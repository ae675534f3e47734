package device_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/device"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

func newUser(t *testing.T, pool *pgxpool.Pool) uuid.UUID {
	t.Helper()
	id := uuid.New()
	if _, err := pool.Exec(t.Context(), `INSERT INTO users (id, email, full_name, role, password_hash) VALUES ($1, $2, 'Диспетчер', 'dispatcher', 'x')`,
		id, id.String()+"@example.com"); err != nil {
		t.Fatal(err)
	}
	return id
}

// register validates in and registers device id for user in a transaction of its own.
func register(ctx context.Context, pool *pgxpool.Pool, id, user uuid.UUID, token string, family *uuid.UUID) (d device.Device, previous *uuid.UUID, err error) {
	var errs valid.Errors
	in := device.Validate(&errs, device.Input{Platform: "android", AppVersion: " 1.0 ", PushToken: &token}, false)
	if err := errs.Err(); err != nil {
		return device.Device{}, nil, err
	}
	err = postgres.WithTx(ctx, pool, func(tx pgx.Tx) (err error) {
		d, previous, err = device.Register(ctx, tx, device.Registration{ID: id, UserID: user, Input: in, Family: family, At: time.Now()})
		return err
	})
	return d, previous, err
}

func field(err error, code apperr.Code, name string) bool {
	var e *apperr.Error
	return errors.As(err, &e) && e.Code == code && e.Fields[name] != ""
}

func TestValidate(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		in       device.Input
		required bool
		field    string // "": valid
	}{
		{device.Input{Platform: "ios", AppVersion: "2.1", PushToken: str("fM3kq9ZfT0e1xYv2:APA91bH7c2k5Lr8sQ0w-_")}, true, ""},
		{device.Input{Platform: "web", AppVersion: "1", PushToken: str(" tech1-phone\n")}, true, ""},
		{device.Input{Platform: "ios", AppVersion: "2.1", PushToken: str(strings.Repeat("a", 4096))}, true, ""},
		{device.Input{Platform: "ios", AppVersion: "2.1"}, false, ""},
		{device.Input{Platform: "ios", AppVersion: "2.1", PushToken: str("")}, false, ""},
		{device.Input{Platform: "ios", AppVersion: "2.1"}, true, "push_token"},
		{device.Input{Platform: "ios", AppVersion: "2.1", PushToken: str(" ")}, true, "push_token"},
		{device.Input{Platform: "ios", AppVersion: "2.1", PushToken: str("two words")}, false, "push_token"},
		{device.Input{Platform: "ios", AppVersion: "2.1", PushToken: str("tok/en+=")}, false, "push_token"},
		{device.Input{Platform: "ios", AppVersion: "2.1", PushToken: str("токен")}, false, "push_token"},
		{device.Input{Platform: "ios", AppVersion: "2.1", PushToken: str(strings.Repeat("a", 4097))}, false, "push_token"},
		{device.Input{Platform: "symbian", AppVersion: "2.1"}, false, "platform"},
		{device.Input{Platform: "ios", AppVersion: " "}, false, "app_version"},
		{device.Input{Platform: "ios", AppVersion: strings.Repeat("v", 51)}, false, "app_version"},
	} {
		var errs valid.Errors
		out := device.Validate(&errs, c.in, c.required)
		err := errs.Err()
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%+v: %v", c.in, err)
		case c.field != "" && !field(err, apperr.Invalid, c.field):
			t.Errorf("%+v (token required: %v): %v, want a problem with %s", c.in, c.required, err, c.field)
		case c.field == "" && c.in.PushToken != nil && *c.in.PushToken == "" && out.PushToken != nil:
			t.Errorf("an empty token became %q, want none", *out.PushToken)
		}
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.MustPool(t)
	alice, bob := newUser(t, pool), newUser(t, pool)
	phone, tablet := uuid.New(), uuid.New()

	d, previous, err := register(ctx, pool, phone, alice, "alice-token", nil)
	if err != nil || d.ID != phone || d.UserID != alice || d.AppVersion != "1.0" || d.PushToken == nil ||
		*d.PushToken != "alice-token" || previous != nil {
		t.Fatalf("a new device: %+v %v %v", d, previous, err)
	}
	if _, _, err := register(ctx, pool, phone, alice, "bad token", nil); !field(err, apperr.Invalid, "push_token") {
		t.Fatalf("a malformed token: %v", err)
	}

	// The token moves to the tablet: the phone stops getting notifications.
	if _, _, err := register(ctx, pool, tablet, alice, "alice-token", nil); err != nil {
		t.Fatal(err)
	}
	var token *string
	if err := pool.QueryRow(ctx, `SELECT push_token FROM devices WHERE id = $1`, phone).Scan(&token); err != nil || token != nil {
		t.Fatalf("the phone kept the token: %v %v", token, err)
	}

	// A login given stays until another replaces it.
	login := uuid.New()
	if _, previous, err := register(ctx, pool, tablet, alice, "alice-token", &login); err != nil || previous != nil {
		t.Fatalf("a first login: %v %v", previous, err)
	}
	if _, previous, err := register(ctx, pool, tablet, alice, "alice-token-2", nil); err != nil || previous == nil || *previous != login {
		t.Fatalf("registering without a login: previous %v %v, want %s", previous, err, login)
	}
	next := uuid.New()
	if _, previous, err := register(ctx, pool, tablet, alice, "alice-token-2", &next); err != nil || previous == nil || *previous != login {
		t.Fatalf("a new login: previous %v %v, want %s", previous, err, login)
	}
	var family uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT token_family FROM devices WHERE id = $1`, tablet).Scan(&family); err != nil || family != next {
		t.Fatalf("token_family %s %v, want %s", family, err, next)
	}

	if _, _, err := register(ctx, pool, tablet, bob, "bob-token", nil); !field(err, apperr.Conflict, "id") {
		t.Fatalf("taking another user's device: %v", err)
	}
	if _, err := pool.Exec(ctx, `UPDATE devices SET revoked_at = now() WHERE id = $1`, tablet); err != nil {
		t.Fatal(err)
	}
	if _, _, err := register(ctx, pool, tablet, alice, "alice-token-2", nil); !field(err, apperr.Conflict, "id") {
		t.Fatalf("a revoked device came back: %v", err)
	}
}

// Two users registering the same new id at once both find no row to lock; the one whose
// insert comes second must get 409, not the other's device.
func TestRegisterRace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.MustPool(t)
	users := [2]uuid.UUID{newUser(t, pool), newUser(t, pool)}
	for round := range 50 {
		id := uuid.New()
		var errs [2]error
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, user := range users {
			wg.Go(func() {
				<-start
				_, _, errs[i] = register(ctx, pool, id, user, fmt.Sprintf("token-%d-%d", round, i), nil)
			})
		}
		close(start)
		wg.Wait()
		winner := 0
		if errs[0] != nil {
			winner = 1
		}
		if errs[winner] != nil || !field(errs[1-winner], apperr.Conflict, "id") {
			t.Fatalf("round %d: %v, %v; want one registered and one 409", round, errs[0], errs[1])
		}
		var owner uuid.UUID
		var token string
		if err := pool.QueryRow(ctx, `SELECT user_id, push_token FROM devices WHERE id = $1`, id).Scan(&owner, &token); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("token-%d-%d", round, winner); owner != users[winner] || token != want {
			t.Fatalf("round %d: the device is %s's with %q, want %s's with %q", round, owner, token, users[winner], want)
		}
	}
}
