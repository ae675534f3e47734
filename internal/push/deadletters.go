package push

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
)

// Message is an outbox row as admins see it.
type Message struct {
	ID         uuid.UUID       `json:"id"`
	DeviceID   uuid.UUID       `json:"device_id"`
	UserID     *uuid.UUID      `json:"user_id"`
	TicketID   uuid.UUID       `json:"ticket_id"`
	Reason     string          `json:"reason"`
	Payload    json.RawMessage `json:"payload"`
	Status     string          `json:"status"`
	Attempts   int             `json:"attempts"`
	LastError  *string         `json:"last_error"`
	CreatedAt  time.Time       `json:"created_at"`
	FinishedAt *time.Time      `json:"finished_at"`
}

const messageSelect = `SELECT o.id, o.device_id, d.user_id, o.ticket_id, o.reason, o.payload, o.status, o.attempts,
	o.last_error, o.created_at, o.finished_at FROM push_outbox o LEFT JOIN devices d ON d.id = o.device_id`

func scanMessage(row pgx.Row) (Message, error) {
	var m Message
	err := row.Scan(&m.ID, &m.DeviceID, &m.UserID, &m.TicketID, &m.Reason, &m.Payload, &m.Status, &m.Attempts,
		&m.LastError, &m.CreatedAt, &m.FinishedAt)
	return m, err
}

// DeadLetters lists the messages given up on after their last attempt, newest first.
func (s *Service) DeadLetters(ctx context.Context, pr page.Request) (page.Page[Message], error) {
	var w postgres.Where
	w.Cond("o.status = 'dead'")
	return postgres.ListPage(ctx, s.pool, messageSelect, w, postgres.Key{Column: "o.id", Desc: true}, pr, scanMessage,
		func(m Message) uuid.UUID { return m.ID })
}

// Retry sends a dead letter again, with a fresh count of attempts.
func (s *Service) Retry(ctx context.Context, id uuid.UUID) (Message, error) {
	var status string
	err := s.pool.QueryRow(ctx, `
		WITH old AS (SELECT id, status FROM push_outbox WHERE id = $1 FOR UPDATE),
		retried AS (UPDATE push_outbox o SET status = 'pending', attempts = 0, next_attempt_at = '-infinity', finished_at = NULL
			FROM old WHERE o.id = old.id AND old.status = 'dead')
		SELECT status FROM old`, id).Scan(&status)
	if postgres.ErrNoRows(err) {
		return Message{}, apperr.New(apperr.NotFound, "message %s not found", id)
	}
	if err != nil {
		return Message{}, fmt.Errorf("push: retry: %w", err)
	}
	if status != "dead" {
		return Message{}, &apperr.Error{Code: apperr.Conflict, Message: "only a dead letter can be retried",
			Current: map[string]any{"status": status}}
	}
	return postgres.GetByID(ctx, s.pool, "message", messageSelect+` WHERE o.id = $1`, id, scanMessage)
}

// RetryAll sends every dead letter given up on since then (all of them when nil) again,
// each with a fresh count of attempts: after an outage, or once the credentials are
// fixed. It returns how many.
func (s *Service) RetryAll(ctx context.Context, since *time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE push_outbox SET status = 'pending', attempts = 0, next_attempt_at = '-infinity', finished_at = NULL
		WHERE status = 'dead' AND ($1::timestamptz IS NULL OR finished_at >= $1)`, since)
	if err != nil {
		return 0, fmt.Errorf("push: retry all: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
