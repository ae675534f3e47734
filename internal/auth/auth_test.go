package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/dbtest"
)

var secret = []byte("test-secret-that-is-long-enough-for-hs256")

// clock is a settable time source, so expiry is tested without sleeping.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func mustService(t *testing.T) (*Service, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	s, err := NewService(dbtest.MustPool(t), Options{Secret: secret, AccessTTL: 15 * time.Minute,
		RefreshTTL: 24 * time.Hour, BcryptCost: 4, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func mustUser(t *testing.T, s *Service, role Role, email string) User {
	t.Helper()
	pw := "correct horse battery"
	in := UserInput{Email: email, FullName: "Test " + string(role), Role: string(role), Password: &pw}
	if role == Client {
		var cid string
		err := s.pool.QueryRow(context.Background(),
			`INSERT INTO clients (id, name) VALUES (gen_random_uuid(), 'ООО Тест') RETURNING id::text`).Scan(&cid)
		if err != nil {
			t.Fatal(err)
		}
		in.ClientID = &cid
	}
	u, err := s.CreateUser(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if got := apperr.CodeOf(err); got != code {
		t.Fatalf("error %v has code %s, want %s", err, got, code)
	}
}

func asAppErr(err error) (*apperr.Error, bool) {
	var e *apperr.Error
	return e, errors.As(err, &e)
}

func TestLoginIssuesTokensForTheUser(t *testing.T) {
	s, c := mustService(t)
	ctx := context.Background()
	u := mustUser(t, s, Client, "Anna@Example.com")

	tok, err := s.Login(ctx, "  anna@example.COM ", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseAccessToken(secret, tok.AccessToken, c.now())
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != u.ID || p.Role != Client || p.ClientID == nil || *p.ClientID != *u.ClientID {
		t.Fatalf("principal %+v does not match user %+v", p, u)
	}
	if tok.ExpiresIn != 900 || tok.RefreshToken == "" || tok.User.ID != u.ID {
		t.Fatalf("unexpected tokens %+v", tok)
	}
}

func TestLoginRejectsWrongPasswordUnknownEmailAndInactiveUser(t *testing.T) {
	s, _ := mustService(t)
	ctx := context.Background()
	u := mustUser(t, s, Dispatcher, "disp@example.com")

	_, err := s.Login(ctx, "disp@example.com", "wrong password!")
	wantCode(t, err, apperr.Unauthenticated)
	_, err = s.Login(ctx, "nobody@example.com", "correct horse battery")
	wantCode(t, err, apperr.Unauthenticated)
	if err.Error() != errBadLogin.Error() {
		t.Fatalf("unknown email says %q, a wrong password says %q: they must not differ", err, errBadLogin)
	}
	if _, err := s.SetUserActive(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	_, err = s.Login(ctx, "disp@example.com", "correct horse battery")
	wantCode(t, err, apperr.Unauthenticated)
}

func TestRefreshRotatesAndReuseRevokesTheFamily(t *testing.T) {
	s, _ := mustService(t)
	ctx := context.Background()
	mustUser(t, s, Engineer, "eng@example.com")
	first, err := s.Login(ctx, "eng@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh did not rotate the token")
	}
	// A second login is a separate family and must survive the theft below.
	other, err := s.Login(ctx, "eng@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}

	// The spent first token shows up again: someone copied it.
	_, err = s.Refresh(ctx, first.RefreshToken)
	wantCode(t, err, apperr.Unauthenticated)
	// The whole family is revoked, including the token the rightful holder got.
	_, err = s.Refresh(ctx, second.RefreshToken)
	wantCode(t, err, apperr.Unauthenticated)
	if !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("want a revoked error, got %v", err)
	}
	if _, err := s.Refresh(ctx, other.RefreshToken); err != nil {
		t.Fatalf("an unrelated login was revoked too: %v", err)
	}
}

func TestRefreshTokenExpiresAndLogoutRevokes(t *testing.T) {
	s, c := mustService(t)
	ctx := context.Background()
	mustUser(t, s, Manager, "mgr@example.com")
	tok, err := s.Login(ctx, "mgr@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(25 * time.Hour)
	_, err = s.Refresh(ctx, tok.RefreshToken)
	wantCode(t, err, apperr.Unauthenticated)

	tok, err = s.Login(ctx, "mgr@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = s.Refresh(ctx, tok.RefreshToken)
	wantCode(t, err, apperr.Unauthenticated)
	_, err = s.Refresh(ctx, "made-up-token")
	wantCode(t, err, apperr.Unauthenticated)
}

func TestPasswordChangeAndDeactivationSignOut(t *testing.T) {
	s, _ := mustService(t)
	ctx := context.Background()
	u := mustUser(t, s, Dispatcher, "d2@example.com")
	tok, err := s.Login(ctx, "d2@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	pw := "a brand new password"
	_, err = s.UpdateUser(ctx, u.ID, UserInput{Email: u.Email, FullName: u.FullName, Role: string(u.Role), Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Refresh(ctx, tok.RefreshToken)
	wantCode(t, err, apperr.Unauthenticated)
	if _, err := s.Login(ctx, "d2@example.com", pw); err != nil {
		t.Fatalf("new password does not work: %v", err)
	}
}

func TestAccessTokenRejectsExpiredForgedAndOtherAlgorithms(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	p := Principal{UserID: uuid.New(), Role: Admin}
	good, err := accessToken(secret, p, now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseAccessToken(secret, good, now.Add(14*time.Minute)); err != nil {
		t.Fatalf("valid token rejected: %v", err)
	}
	forgedBySomeoneElse, _ := accessToken([]byte("another-secret-that-is-long-enough!!"), p, now, time.Hour)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: issuer, Subject: p.UserID.String(),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}, Role: Admin,
	}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]

	for name, tc := range map[string]struct {
		token string
		at    time.Time
	}{
		"expired":          {good, now.Add(16 * time.Minute)},
		"other secret":     {forgedBySomeoneElse, now},
		"alg none":         {none, now},
		"tampered payload": {tampered, now},
		"garbage":          {"not.a.jwt", now},
	} {
		if _, err := parseAccessToken(secret, tc.token, tc.at); apperr.CodeOf(err) != apperr.Unauthenticated {
			t.Errorf("%s: got %v, want unauthenticated", name, err)
		}
	}
}

func TestCreateUserValidation(t *testing.T) {
	s, _ := mustService(t)
	ctx := context.Background()
	short := "short"
	ghost := uuid.NewString()
	for name, tc := range map[string]struct {
		in    UserInput
		field string
	}{
		"bad email":            {UserInput{Email: "nope", FullName: "X", Role: "admin", Password: &short}, "email"},
		"unknown role":         {UserInput{Email: "a@b.c", FullName: "X", Role: "boss"}, "role"},
		"client without id":    {UserInput{Email: "a@b.c", FullName: "X", Role: "client"}, "client_id"},
		"staff with client id": {UserInput{Email: "a@b.c", FullName: "X", Role: "admin", ClientID: &ghost}, "client_id"},
		"short password":       {UserInput{Email: "a@b.c", FullName: "X", Role: "admin", Password: &short}, "password"},
		"unknown client":       {UserInput{Email: "a@b.c", FullName: "X", Role: "client", ClientID: &ghost, Password: new(string)}, "password"},
	} {
		_, err := s.CreateUser(ctx, tc.in)
		e, ok := asAppErr(err)
		if !ok || e.Code != apperr.Invalid || e.Fields[tc.field] == "" {
			t.Errorf("%s: got %v, want an invalid %s", name, err, tc.field)
		}
	}
	pw := "long enough password"
	_, err := s.CreateUser(ctx, UserInput{Email: "c@example.com", FullName: "X", Role: "client", ClientID: &ghost, Password: &pw})
	if e, ok := asAppErr(err); !ok || e.Fields["client_id"] == "" {
		t.Errorf("unknown client: got %v, want a field error on client_id", err)
	}
	mustUser(t, s, Admin, "taken@example.com")
	_, err = s.CreateUser(ctx, UserInput{Email: "TAKEN@example.com", FullName: "X", Role: "admin", Password: &pw})
	if e, ok := asAppErr(err); !ok || e.Code != apperr.Conflict || e.Fields["email"] == "" {
		t.Errorf("duplicate email: got %v, want a conflict on email", err)
	}
}

func TestEngineerUsersKeepTheirRoleAndLeaveWithTheirProfile(t *testing.T) {
	s, _ := mustService(t)
	ctx := context.Background()
	u := mustUser(t, s, Engineer, "fitter@example.com")
	engineer := uuid.New()
	_, err := s.pool.Exec(ctx, `
		WITH cal AS (INSERT INTO calendars (id, name, time_zone, weekly_hours) VALUES (gen_random_uuid(), 'Смена', 'Europe/Moscow', '{}') RETURNING id)
		INSERT INTO engineers (id, user_id, home_base, calendar_id) SELECT $1, $2, 'SRID=4326;POINT(37.6 55.7)', id FROM cal`, engineer, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateUser(ctx, u.ID, UserInput{Email: u.Email, FullName: u.FullName, Role: string(Dispatcher)})
	if e, ok := asAppErr(err); !ok || e.Code != apperr.Conflict || e.Fields["role"] == "" {
		t.Fatalf("role change of an engineer: got %v, want a conflict on role", err)
	}
	if _, err := s.SetUserActive(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	var active bool
	if err := s.pool.QueryRow(ctx, `SELECT active FROM engineers WHERE id = $1`, engineer).Scan(&active); err != nil || active {
		t.Fatalf("engineer profile still active after the user left (err %v)", err)
	}
}

func TestConcurrentRefreshesOfOneTokenLetOneThrough(t *testing.T) {
	s, _ := mustService(t)
	ctx := context.Background()
	mustUser(t, s, Engineer, "racer@example.com")
	tok, err := s.Login(ctx, "racer@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := s.Refresh(ctx, tok.RefreshToken)
			errs <- err
		}()
	}
	ok := 0
	for range n {
		if err := <-errs; err == nil {
			ok++
		} else if apperr.CodeOf(err) != apperr.Unauthenticated {
			t.Fatalf("a losing refresh failed with %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent refreshes of one token succeeded, want exactly 1", ok, n)
	}
}
