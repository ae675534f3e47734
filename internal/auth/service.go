package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/postgres"
)

// Options configure the Service.
type Options struct {
	Secret     []byte
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	BcryptCost int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service signs people in and administers users.
type Service struct {
	pool       *pgxpool.Pool
	secret     []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	cost       int
	now        func() time.Time
	// dummyHash is compared against when an email is unknown, so a wrong email takes as
	// long as a wrong password and does not reveal which accounts exist.
	dummyHash []byte
}

// NewService returns a Service.
func NewService(pool *pgxpool.Pool, o Options) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("not a real password"), o.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Service{pool: pool, secret: o.Secret, accessTTL: o.AccessTTL, refreshTTL: o.RefreshTTL,
		cost: o.BcryptCost, now: o.Now, dummyHash: dummy}, nil
}

// Tokens is what a successful login or refresh returns.
type Tokens struct {
	AccessToken      string    `json:"access_token"`
	TokenType        string    `json:"token_type"`
	ExpiresIn        int       `json:"expires_in"`
	RefreshToken     string    `json:"refresh_token"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at"`
	User             User      `json:"user"`
}

var errBadLogin = apperr.New(apperr.Unauthenticated, "the email or password is wrong")

// Login checks an email and password and starts a new refresh-token family.
func (s *Service) Login(ctx context.Context, email, password string) (Tokens, error) {
	var hash string
	u, err := scanUser(s.pool.QueryRow(ctx, userSelect+` WHERE lower(u.email) = lower($1)`, strings.TrimSpace(email)),
		&hash)
	if postgres.ErrNoRows(err) {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
		return Tokens{}, errBadLogin
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: login: %w", postgres.MapError(err))
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return Tokens{}, errBadLogin
	}
	if err := s.checkAccount(ctx, s.pool, u.principal()); err != nil {
		return Tokens{}, errBadLogin
	}
	var t Tokens
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		t, err = s.issue(ctx, tx, u, uuid.New(), nil)
		return err
	})
	return t, err
}

// StartSession begins a login of its own for an already signed-in user, whose refresh
// tokens live for lifetime (a device's long-lived session). It returns the family to
// revoke it by.
func (s *Service) StartSession(ctx context.Context, user uuid.UUID, lifetime time.Duration) (Tokens, uuid.UUID, error) {
	family := uuid.New()
	var t Tokens
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, userSelect+` WHERE u.id = $1`, user), new(string))
		if err != nil {
			return err
		}
		if err := s.checkAccount(ctx, tx, u.principal()); err != nil {
			return err
		}
		t, err = s.issue(ctx, tx, u, family, &lifetime)
		return err
	})
	if err != nil {
		return Tokens{}, uuid.Nil, fmt.Errorf("auth: session: %w", postgres.MapError(err))
	}
	return t, family, nil
}

// RevokeFamily ends one login, whichever of its refresh tokens is current.
func (s *Service) RevokeFamily(ctx context.Context, family uuid.UUID) error {
	_, err := postgres.Q(ctx, s.pool).Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`,
		family, s.now())
	if err != nil {
		return fmt.Errorf("auth: revoke: %w", err)
	}
	return nil
}

// Refresh spends a refresh token and returns a new pair in the same family. A token
// that was already spent has leaked (its rightful holder moved on): the whole family is
// revoked and everyone holding it must sign in again.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	var t Tokens
	reused := false
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var id, family, userID uuid.UUID
		var expires time.Time
		var spent, revoked *time.Time
		var lifetime *time.Duration
		err := tx.QueryRow(ctx, `
			SELECT id, family_id, user_id, expires_at, spent_at, revoked_at, lifetime
			FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, hashRefreshToken(refreshToken)).
			Scan(&id, &family, &userID, &expires, &spent, &revoked, &lifetime)
		if postgres.ErrNoRows(err) {
			return apperr.New(apperr.Unauthenticated, "the refresh token is not valid")
		}
		if err != nil {
			return err
		}
		now := s.now()
		switch {
		case revoked != nil:
			return apperr.New(apperr.Unauthenticated, "the refresh token was revoked; sign in again")
		case spent != nil:
			reused = true
			_, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`,
				family, now)
			return err
		case !now.Before(expires):
			return apperr.New(apperr.Unauthenticated, "the refresh token has expired; sign in again")
		}
		u, err := scanUser(tx.QueryRow(ctx, userSelect+` WHERE u.id = $1`, userID), new(string))
		if err != nil {
			return err
		}
		if err := s.checkAccount(ctx, tx, u.principal()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET spent_at = $2 WHERE id = $1`, id, now); err != nil {
			return err
		}
		t, err = s.issue(ctx, tx, u, family, lifetime)
		return err
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: refresh: %w", postgres.MapError(err))
	}
	if reused {
		return Tokens{}, apperr.New(apperr.Unauthenticated,
			"this refresh token was already used, so every session of this login is signed out; sign in again")
	}
	return t, nil
}

var errStale = apperr.New(apperr.Unauthenticated, "this account was deactivated or changed; sign in again")

// checkAccount confirms that p may still act as it says: an active user, of an active
// client company, with the same role and company. Deactivating someone or changing their
// role therefore takes effect at their next request, not when their token expires.
func (s *Service) checkAccount(ctx context.Context, q postgres.Querier, p Principal) error {
	var role Role
	var clientID *uuid.UUID
	var active bool
	err := q.QueryRow(ctx, `SELECT u.role, u.client_id, u.active AND coalesce(c.active, true)
		FROM users u LEFT JOIN clients c ON c.id = u.client_id WHERE u.id = $1`, p.UserID).Scan(&role, &clientID, &active)
	if postgres.ErrNoRows(err) {
		return errStale
	}
	if err != nil {
		return fmt.Errorf("auth: account: %w", postgres.MapError(err))
	}
	sameClient := (clientID == nil) == (p.ClientID == nil) && (clientID == nil || *clientID == *p.ClientID)
	if !active || role != p.Role || !sameClient {
		return errStale
	}
	return nil
}

// Logout revokes the family of a refresh token. An unknown token is not an error: the
// caller is signed out either way.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE refresh_tokens SET revoked_at = $2
		WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL`,
		hashRefreshToken(refreshToken), s.now())
	if err != nil {
		return fmt.Errorf("auth: logout: %w", postgres.MapError(err))
	}
	return nil
}

// issue signs an access token and stores a new refresh token in family, living for
// lifetime (the default refresh TTL when nil).
func (s *Service) issue(ctx context.Context, tx pgx.Tx, u User, family uuid.UUID, lifetime *time.Duration) (Tokens, error) {
	now := s.now()
	access, err := accessToken(s.secret, u.principal(), now, s.accessTTL)
	if err != nil {
		return Tokens{}, err
	}
	refresh, hash := newRefreshToken()
	expires := now.Add(s.refreshTTL)
	if lifetime != nil {
		expires = now.Add(*lifetime)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at, lifetime)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, uuid.Must(uuid.NewV7()), family, u.ID, hash, expires, now, lifetime)
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: store refresh token: %w", err)
	}
	return Tokens{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.accessTTL.Seconds()),
		RefreshToken: refresh, RefreshExpiresAt: expires.UTC(), User: u}, nil
}

// HashPassword hashes a password at the configured cost.
func (s *Service) HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		return "", apperr.Field("password", "must be at most 72 bytes")
	}
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return string(h), nil
}
