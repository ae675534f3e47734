package dispatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/catalog"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/sla"
)

// shiftTTL is how long compiled shift calendars are reused: calendar edits reach
// dispatch within it.
const shiftTTL = time.Minute

// shiftCache knows which shift calendars are on at a given moment. There are few
// calendars and many engineers, so the question "is this engineer on shift?" becomes
// "is their calendar among these?" in SQL.
type shiftCache struct {
	mu     sync.Mutex
	loaded time.Time
	cals   map[uuid.UUID]sla.Calendar
}

// openAt returns the calendars whose working hours include now, each read in its own
// time zone.
func (c *shiftCache) openAt(ctx context.Context, q postgres.Querier, now time.Time) ([]uuid.UUID, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cals == nil || time.Since(c.loaded) > shiftTTL {
		if err := c.load(ctx, q); err != nil {
			return nil, err
		}
	}
	open := make([]uuid.UUID, 0, len(c.cals))
	for id, cal := range c.cals {
		if cal.IsOpen(now) {
			open = append(open, id)
		}
	}
	return open, nil
}

func (c *shiftCache) load(ctx context.Context, q postgres.Querier) error {
	cals, err := catalog.Compiled(ctx, q)
	if err != nil {
		return fmt.Errorf("dispatch: shift calendars: %w", err)
	}
	c.cals, c.loaded = cals, time.Now()
	return nil
}
