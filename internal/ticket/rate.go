package ticket

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// RatingInput is what a client says of the work when it is done.
type RatingInput struct {
	Score   *int    `json:"score"`
	Comment *string `json:"comment"`
}

// lowScore and below reopen a recently resolved ticket: the client says it is not fixed.
const lowScore = 2

// Rate records the client's rating of resolved work. A good rating confirms and closes a
// resolved ticket; a low one within the reopen window reopens it.
func (s *Service) Rate(ctx context.Context, p auth.Principal, id uuid.UUID, in RatingInput) (Ticket, error) {
	if p.Role != auth.Client {
		return Ticket{}, apperr.New(apperr.Forbidden, "only the client rates the work")
	}
	var errs valid.Errors
	errs.Check(in.Score != nil && *in.Score >= 1 && *in.Score <= 5, "score", "must be a whole number from 1 to 5")
	comment := errs.OptionalText("comment", in.Comment, 2000)
	if err := errs.Err(); err != nil {
		return Ticket{}, err
	}
	score := *in.Score
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := lock(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if !slices.Contains([]Status{Resolved, Closed}, c.status) {
			return c.conflict("only resolved or closed work can be rated")
		}
		if c.rated {
			return c.conflict("this work is rated already")
		}
		now := s.now()
		var ch changes
		to := c.status
		data := map[string]any{"score": score}
		if score <= lowScore && c.resolved != nil && now.Sub(*c.resolved) <= s.opts.ReopenWithin {
			// Not fixed: the work is redone, and rated again when it is.
			if to, err = reopenedStatus(ctx, tx, c, &ch); err != nil {
				return err
			}
			s.reopen(c, now, &ch)
			data["reopened"] = true
		} else {
			ch.set("csat", score)
			ch.set("csat_comment", comment)
			ch.set("rated_at", now)
			if c.status == Resolved {
				to = Closed
				ch.set("closed_at", now)
			}
		}
		if comment != nil {
			data["comment"] = *comment
		}
		if err := addEvent(ctx, tx, event{ticket: id, actor: &p.UserID, kind: "rated", from: c.status, to: to, at: now, data: data}); err != nil {
			return err
		}
		return ch.apply(ctx, tx, id, to, &p.UserID, now)
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("ticket: rate: %w", postgres.MapError(err))
	}
	return s.Get(ctx, p, id)
}
