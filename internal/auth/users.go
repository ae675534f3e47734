package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// User is a person who signs in. The password hash never leaves this package.
type User struct {
	ID        uuid.UUID  `json:"id"`
	Email     string     `json:"email"`
	FullName  string     `json:"full_name"`
	Phone     *string    `json:"phone"`
	Role      Role       `json:"role"`
	ClientID  *uuid.UUID `json:"client_id"`
	Active    bool       `json:"active"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

func (u User) principal() Principal {
	return Principal{UserID: u.ID, Role: u.Role, ClientID: u.ClientID}
}

// UserInput creates a user or replaces one's details. Password is required on create
// and changes the password on update when present.
type UserInput struct {
	Email    string  `json:"email"`
	FullName string  `json:"full_name"`
	Phone    *string `json:"phone"`
	Role     string  `json:"role"`
	ClientID *string `json:"client_id"`
	Password *string `json:"password"`
}

// UserFilter narrows a user list.
type UserFilter struct {
	Role     string
	ClientID *uuid.UUID
	Active   *bool
	Query    string // part of the email or name
}

const userSelect = `SELECT u.id, u.email, u.full_name, u.phone, u.role, u.client_id, u.active, u.created_at, u.updated_at, u.password_hash FROM users u`

func scanUser(row pgx.Row, hash *string) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.FullName, &u.Phone, &u.Role, &u.ClientID, &u.Active, &u.CreatedAt, &u.UpdatedAt, hash)
	return u, err
}

func scanUserRow(row pgx.Row) (User, error) { return scanUser(row, new(string)) }

type userFields struct {
	email, fullName string
	phone           *string
	role            Role
	clientID        *uuid.UUID
	passwordHash    *string
}

func (s *Service) validateUser(in UserInput, creating bool) (userFields, error) {
	var errs valid.Errors
	f := userFields{
		email:    errs.Text("email", in.Email, true, 254),
		fullName: errs.Text("full_name", in.FullName, true, 200),
		phone:    errs.OptionalText("phone", in.Phone, 40),
		role:     Role(errs.OneOf("role", in.Role, Roles...)),
		clientID: errs.OptionalUUID("client_id", in.ClientID),
	}
	errs.Check(f.email == "" || valid.Email(f.email), "email", "must be an email address")
	switch {
	case f.role == Client && f.clientID == nil:
		errs.Add("client_id", "is required for a client user")
	case f.role != Client && f.clientID != nil:
		errs.Add("client_id", "is only for client users")
	}
	switch {
	case in.Password == nil && creating:
		errs.Add("password", "is required")
	case in.Password != nil && len(*in.Password) < 10:
		errs.Add("password", "must be at least 10 characters")
	}
	if err := errs.Err(); err != nil {
		return f, err
	}
	if in.Password != nil {
		h, err := s.HashPassword(*in.Password)
		if err != nil {
			return f, err
		}
		f.passwordHash = &h
	}
	return f, nil
}

// CreateUser adds a user.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (User, error) {
	f, err := s.validateUser(in, true)
	if err != nil {
		return User{}, err
	}
	id := uuid.Must(uuid.NewV7())
	_, err = s.pool.Exec(ctx, `
		INSERT INTO users (id, email, full_name, phone, role, client_id, password_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, f.email, f.fullName, f.phone, f.role, f.clientID, *f.passwordHash)
	if err != nil {
		return User{}, fmt.Errorf("auth: create user: %w", postgres.MapError(err))
	}
	return s.GetUser(ctx, id)
}

// UpdateUser replaces a user's details (and password, when given).
func (s *Service) UpdateUser(ctx context.Context, id uuid.UUID, in UserInput) (User, error) {
	f, err := s.validateUser(in, false)
	if err != nil {
		return User{}, err
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		// The lock orders this against an engineer profile being created for the user.
		var before Principal
		err := tx.QueryRow(ctx, `SELECT id, role, client_id FROM users WHERE id = $1 FOR UPDATE`, id).
			Scan(&before.UserID, &before.Role, &before.ClientID)
		if postgres.ErrNoRows(err) {
			return apperr.New(apperr.NotFound, "user %s not found", id)
		}
		if err != nil {
			return err
		}
		if f.role != Engineer {
			var engineer bool
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM engineers WHERE user_id = $1)`, id).Scan(&engineer)
			if err != nil {
				return err
			}
			if engineer { // dispatch would keep sending work to a profile whose user is no engineer
				return &apperr.Error{Code: apperr.Conflict, Message: "this user has an engineer profile",
					Fields: map[string]string{"role": "must stay engineer while the user has an engineer profile"}}
			}
		}
		tag, err := tx.Exec(ctx, `
			UPDATE users SET email = $2, full_name = $3, phone = $4, role = $5, client_id = $6,
				password_hash = coalesce($7, password_hash)
			WHERE id = $1`, id, f.email, f.fullName, f.phone, f.role, f.clientID, f.passwordHash)
		if err := postgres.Affected(tag, err, "user", id); err != nil {
			return err
		}
		// A new password, role or company signs out every existing session.
		sameClient := (before.ClientID == nil) == (f.clientID == nil) && (f.clientID == nil || *before.ClientID == *f.clientID)
		if f.passwordHash != nil || before.Role != f.role || !sameClient {
			return s.revokeAll(ctx, tx, id)
		}
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("auth: update user: %w", err)
	}
	return s.GetUser(ctx, id)
}

// SetUserActive deactivates or reactivates a user. Deactivation revokes every refresh
// token, so the person is out once their access token expires, and deactivates their
// engineer profile; reactivation leaves the profile to the admin.
func (s *Service) SetUserActive(ctx context.Context, id uuid.UUID, active bool) (User, error) {
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := postgres.SetActive(ctx, tx, "users", "user", id, active); err != nil {
			return err
		}
		if !active { // a person who left takes no more work and signs in no more
			if _, err := tx.Exec(ctx, `UPDATE engineers SET active = false WHERE user_id = $1`, id); err != nil {
				return err
			}
			return s.revokeAll(ctx, tx, id)
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return s.GetUser(ctx, id)
}

func (s *Service) revokeAll(ctx context.Context, tx pgx.Tx, userID uuid.UUID) error {
	_, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`,
		userID, s.now())
	return err
}

// GetUser returns one user.
func (s *Service) GetUser(ctx context.Context, id uuid.UUID) (User, error) {
	return postgres.GetByID(ctx, s.pool, "user", userSelect+` WHERE u.id = $1`, id, scanUserRow)
}

// ListUsers returns a page of users.
func (s *Service) ListUsers(ctx context.Context, f UserFilter, p page.Request) (page.Page[User], error) {
	var w postgres.Where
	if f.Role != "" {
		w.Add("u.role = %s", f.Role)
	}
	if f.ClientID != nil {
		w.Add("u.client_id = %s", *f.ClientID)
	}
	if f.Active != nil {
		w.Add("u.active = %s", *f.Active)
	}
	if f.Query != "" {
		w.Add("(u.email ILIKE %[1]s OR u.full_name ILIKE %[1]s)", postgres.Contains(f.Query))
	}
	return postgres.ListPage(ctx, s.pool, userSelect, w, postgres.Key{Column: "u.id"}, p, scanUserRow, func(u User) uuid.UUID { return u.ID })
}
