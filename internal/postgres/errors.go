package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"fieldsvc/internal/apperr"
)

// MapError turns what the database refused into an apperr error a client can act on,
// naming the field from the violated constraint (<table>_<field>_<kind>, see the
// migrations). Anything else passes through unchanged and is an internal error.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.New(apperr.NotFound, "not found")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return apperr.New(apperr.Unavailable, "the request took too long; try again")
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "23505": // unique_violation
		return &apperr.Error{Code: apperr.Conflict, Message: "already exists",
			Fields: map[string]string{constraintField(pe): "is already taken"}}
	case "23503": // foreign_key_violation
		return apperr.Field(constraintField(pe), "refers to something that does not exist")
	case "23514": // check_violation
		return apperr.Field(constraintField(pe), "is not an allowed value")
	case "23502": // not_null_violation
		return apperr.Field(pe.ColumnName, "is required")
	case "22P02", "22007", "22008", "22003", "22023", "22001", "22021": // malformed, out of range, or a NUL byte
		return apperr.New(apperr.Invalid, "a value is malformed or out of range")
	case "40001", "40P01": // serialization failure, deadlock
		return apperr.New(apperr.Conflict, "a concurrent change got in the way; try again")
	case "57014": // query_canceled: statement timeout or request deadline
		return apperr.New(apperr.Unavailable, "the request took too long; try again")
	}
	return err
}

// constraintField recovers the field a constraint guards from its name.
func constraintField(pe *pgconn.PgError) string {
	name := strings.TrimPrefix(pe.ConstraintName, pe.TableName+"_")
	for _, suffix := range []string{"_fkey", "_check", "_key", "_excl"} {
		if trimmed, ok := strings.CutSuffix(name, suffix); ok {
			return trimmed
		}
	}
	if strings.HasSuffix(name, "pkey") {
		return "id"
	}
	return name
}

// Violates reports whether err is the violation of the named constraint, for the rare
// caller that must say more than MapError can (a row still referenced by others).
func Violates(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.ConstraintName == constraint
}
