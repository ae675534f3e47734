package maintenance

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
)

// ComplianceQuery asks how plans were kept over the occurrences due in a range.
type ComplianceQuery struct {
	Range
	Group    string // client or plan
	ClientID *uuid.UUID
	SiteID   *uuid.UUID
	Page     page.Request // plans are paged
}

// ComplianceGroups are the ways compliance is grouped.
var ComplianceGroups = []string{"client", "plan"}

// Compliance counts a client's or a plan's occurrences due in the range by outcome, each
// read on the site's calendar: done on time (resolved by the end of the day it was due),
// done late, missed (cancelled), overdue (open past its day) and pending (not yet due).
type Compliance struct {
	ClientID   uuid.UUID  `json:"client_id"`
	ClientName string     `json:"client_name"`
	PlanID     *uuid.UUID `json:"plan_id,omitempty"`
	PlanName   string     `json:"plan_name,omitempty"`
	AssetID    *uuid.UUID `json:"asset_id,omitempty"`
	Due        int        `json:"due"`
	OnTime     int        `json:"on_time"`
	Late       int        `json:"late"`
	Missed     int        `json:"missed"`
	Overdue    int        `json:"overdue"`
	Pending    int        `json:"pending"`
	// Rate is on time over everything whose day has passed or that is done; null when
	// nothing is.
	Rate *float64 `json:"rate"`
}

const complianceSQL = `
	SELECT %s, count(*),
		count(*) FILTER (WHERE x.done_day <= x.due_day),
		count(*) FILTER (WHERE x.done_day > x.due_day),
		count(*) FILTER (WHERE t.status = 'cancelled'),
		count(*) FILTER (WHERE x.done_day IS NULL AND t.status <> 'cancelled' AND x.due_day < x.today),
		count(*) FILTER (WHERE x.done_day IS NULL AND t.status <> 'cancelled' AND x.due_day >= x.today)
	FROM pm_occurrences o JOIN tickets t ON t.id = o.ticket_id JOIN pm_plans p ON p.id = o.plan_id
		JOIN assets a ON a.id = p.asset_id JOIN sites s ON s.id = a.site_id JOIN clients c ON c.id = s.client_id,
		LATERAL (SELECT (o.due_at AT TIME ZONE s.time_zone)::date AS due_day,
			(t.resolved_at AT TIME ZONE s.time_zone)::date AS done_day,
			($1::timestamptz AT TIME ZONE s.time_zone)::date AS today) x
	%s
	GROUP BY %s ORDER BY %s LIMIT %d`

// Compliance reports how plans were kept: a page per client (by client id) or per plan
// (by plan id).
func (s *Service) Compliance(ctx context.Context, q ComplianceQuery) (page.Page[Compliance], error) {
	w := postgres.Where{Args: []any{s.now()}}
	w.Add("o.due_at >= %s", q.From.Add(-26*time.Hour))
	w.Add("o.due_at < %s", q.To.Add(26*time.Hour))
	w.Add("x.due_day >= %s", q.From)
	w.Add("x.due_day < %s", q.To)
	if q.ClientID != nil {
		w.Add("s.client_id = %s", *q.ClientID)
	}
	if q.SiteID != nil {
		w.Add("a.site_id = %s", *q.SiteID)
	}
	cols, group, key := "c.id, c.name, NULL::uuid, '', NULL::uuid", "c.id, c.name", "c.id"
	keyOf := func(c Compliance) uuid.UUID { return c.ClientID }
	if q.Group == "plan" {
		cols, group, key = "c.id, c.name, p.id, p.name, p.asset_id", "c.id, c.name, p.id", "p.id"
		keyOf = func(c Compliance) uuid.UUID { return *c.PlanID }
	}
	if q.Page.After != nil {
		w.Add(key+" > %s", *q.Page.After)
	}
	rows, err := s.pool.Query(ctx, fmt.Sprintf(complianceSQL, cols, w.SQL(), group, key, q.Page.Size()+1), w.Args...)
	if err != nil {
		return page.Page[Compliance]{}, fmt.Errorf("maintenance: compliance: %w", postgres.MapError(err))
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Compliance, error) {
		var c Compliance
		err := row.Scan(&c.ClientID, &c.ClientName, &c.PlanID, &c.PlanName, &c.AssetID,
			&c.Due, &c.OnTime, &c.Late, &c.Missed, &c.Overdue, &c.Pending)
		if judged := c.Due - c.Pending; judged > 0 {
			r := float64(c.OnTime) / float64(judged)
			c.Rate = &r
		}
		return c, err
	})
	if err != nil {
		return page.Page[Compliance]{}, fmt.Errorf("maintenance: compliance: %w", postgres.MapError(err))
	}
	return page.New(list, q.Page, keyOf), nil
}
