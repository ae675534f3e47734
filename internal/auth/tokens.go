package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/web"
)

const issuer = "fieldsvc"

// claims is the access token's payload.
type claims struct {
	jwt.RegisteredClaims
	Role     Role   `json:"role"`
	ClientID string `json:"cid,omitempty"`
}

// accessToken signs a short-lived HS256 token for p.
func accessToken(secret []byte, p Principal, now time.Time, ttl time.Duration) (string, error) {
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   p.UserID.String(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        uuid.NewString(),
		},
		Role: p.Role,
	}
	if p.ClientID != nil {
		c.ClientID = p.ClientID.String()
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign access token: %w", err)
	}
	return s, nil
}

// parseAccessToken verifies signature, algorithm, issuer and expiry.
func parseAccessToken(secret []byte, token string, now time.Time) (Principal, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer), jwt.WithExpirationRequired(), jwt.WithTimeFunc(func() time.Time { return now }))
	if errors.Is(err, jwt.ErrTokenExpired) {
		return Principal{}, apperr.New(apperr.Unauthenticated, "the access token has expired; refresh it")
	}
	if err != nil {
		return Principal{}, apperr.New(apperr.Unauthenticated, "the access token is not valid")
	}
	p := Principal{Role: c.Role}
	if p.UserID, err = uuid.Parse(c.Subject); err != nil {
		return Principal{}, apperr.New(apperr.Unauthenticated, "the access token is not valid")
	}
	if c.ClientID != "" {
		cid, err := uuid.Parse(c.ClientID)
		if err != nil {
			return Principal{}, apperr.New(apperr.Unauthenticated, "the access token is not valid")
		}
		p.ClientID = &cid
	}
	return p, nil
}

// newRefreshToken returns an opaque random token and the hash that is stored in its place.
func newRefreshToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefreshToken(token)
}

func hashRefreshToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Middleware authenticates the bearer access token and puts the Principal into the
// request's context. Requests without a valid token stop here with 401.
func (s *Service) Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		scheme, token, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return apperr.New(apperr.Unauthenticated, "send an access token as `Authorization: Bearer <token>`")
		}
		p, err := parseAccessToken(s.secret, token, s.now())
		if err != nil {
			return err
		}
		if err := s.checkAccount(c.UserContext(), s.pool, p); err != nil {
			return err
		}
		web.SetUserID(c, p.UserID.String())
		c.SetUserContext(WithPrincipal(c.UserContext(), p))
		return c.Next()
	}
}
