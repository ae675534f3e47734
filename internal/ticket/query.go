package ticket

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/page"
	"fieldsvc/internal/postgres"
)

// visible narrows w to the tickets p may see: a client user their company's, an engineer
// the work assigned to them, staff everything.
func visible(p auth.Principal, w *postgres.Where) {
	switch p.Role {
	case auth.Client:
		w.Add("t.client_id = %s", *p.ClientID)
	case auth.Engineer:
		w.Add("t.assignee_id = (SELECT id FROM engineers WHERE user_id = %s)", p.UserID)
	}
}

// Get returns a ticket p may see; any other is not found.
func (s *Service) Get(ctx context.Context, p auth.Principal, id uuid.UUID) (Ticket, error) {
	var w postgres.Where
	w.Add("t.id = %s", id)
	visible(p, &w)
	t, err := scanTicket(postgres.Q(ctx, s.pool).QueryRow(ctx, ticketSelect+w.SQL(), w.Args...))
	if postgres.ErrNoRows(err) {
		return Ticket{}, apperr.New(apperr.NotFound, "ticket %s not found", id)
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("ticket: get: %w", postgres.MapError(err))
	}
	return t, nil
}

// Filter narrows a ticket list. Empty fields do not filter.
type Filter struct {
	Statuses   []string
	ClientID   *uuid.UUID
	SiteID     *uuid.UUID
	AssetID    *uuid.UUID
	AssigneeID *uuid.UUID
	Priority   string
	// SLAState is at_risk or breached (either clock; breached includes met late), or ok
	// (neither).
	SLAState string
	// Query is text in the number, title or description.
	Query string
}

// List returns the tickets p may see, newest first.
func (s *Service) List(ctx context.Context, p auth.Principal, f Filter, pr page.Request) (page.Page[Ticket], error) {
	var w postgres.Where
	visible(p, &w)
	if len(f.Statuses) > 0 {
		w.Add("t.status = ANY(%s)", f.Statuses)
	}
	for col, id := range map[string]*uuid.UUID{"client_id": f.ClientID, "site_id": f.SiteID, "asset_id": f.AssetID, "assignee_id": f.AssigneeID} {
		if id != nil {
			w.Add("t."+col+" = %s", *id)
		}
	}
	if f.Priority != "" {
		w.Add("t.priority = %s", f.Priority)
	}
	switch f.SLAState {
	case "at_risk":
		w.Cond("'at_risk' IN (t.reaction_state, t.resolution_state)")
	case "breached": // late, whether the clock still runs or stopped late
		w.Cond("(t.reaction_state IN ('breached', 'met_late') OR t.resolution_state IN ('breached', 'met_late'))")
	case "ok":
		w.Cond("t.reaction_state NOT IN ('at_risk', 'breached', 'met_late') AND t.resolution_state NOT IN ('at_risk', 'breached', 'met_late')")
	}
	if f.Query != "" {
		w.Add("(t.number || ' ' || t.title || ' ' || t.description) ILIKE %s", postgres.Contains(f.Query))
	}
	return postgres.ListPage(ctx, s.pool, ticketSelect, w, postgres.Key{Column: "t.id", Desc: true}, pr, scanTicket,
		func(t Ticket) uuid.UUID { return t.ID })
}

// History returns the events of a ticket p may see, oldest first. Client users do not
// see the desk's internal bookkeeping.
func (s *Service) History(ctx context.Context, p auth.Principal, id uuid.UUID) ([]Event, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	return s.events(ctx, p, "e.ticket_id = $1", id)
}

func (s *Service) events(ctx context.Context, p auth.Principal, cond string, arg any) ([]Event, error) {
	sql := eventSelect + " WHERE " + cond
	args := []any{arg}
	if p.Role == auth.Client {
		sql += " AND e.kind <> ALL($2)"
		args = append(args, clientHidden)
	}
	rows, err := s.pool.Query(ctx, sql+" ORDER BY e.id", args...)
	if err != nil {
		return nil, fmt.Errorf("ticket: history: %w", err)
	}
	out := []Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("ticket: history: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// RepairRecord is one ticket in an asset's repair history, with everything that happened.
type RepairRecord struct {
	Ticket Ticket  `json:"ticket"`
	Events []Event `json:"events"`
}

// AssetHistory returns every ticket filed against an asset, newest first, with its
// events. A client user sees only their company's assets; others are not found.
func (s *Service) AssetHistory(ctx context.Context, p auth.Principal, asset uuid.UUID, pr page.Request) (page.Page[RepairRecord], error) {
	var clientID uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT s.client_id FROM assets a JOIN sites s ON s.id = a.site_id WHERE a.id = $1`, asset).Scan(&clientID)
	if postgres.ErrNoRows(err) || (err == nil && p.Role == auth.Client && clientID != *p.ClientID) {
		return page.Page[RepairRecord]{}, apperr.New(apperr.NotFound, "asset %s not found", asset)
	}
	if err != nil {
		return page.Page[RepairRecord]{}, fmt.Errorf("ticket: asset history: %w", err)
	}
	if p.Role == auth.Engineer { // the repair history of the equipment they are sent to fix
		var assigned bool
		err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tickets t WHERE t.asset_id = $1
			AND t.assignee_id = (SELECT id FROM engineers WHERE user_id = $2))`, asset, p.UserID).Scan(&assigned)
		if err != nil {
			return page.Page[RepairRecord]{}, fmt.Errorf("ticket: asset history: %w", err)
		}
		if !assigned {
			return page.Page[RepairRecord]{}, apperr.New(apperr.NotFound, "asset %s not found", asset)
		}
		p = auth.Principal{UserID: p.UserID, Role: auth.Manager}
	}
	tickets, err := s.List(ctx, p, Filter{AssetID: &asset}, pr)
	if err != nil {
		return page.Page[RepairRecord]{}, err
	}
	out := page.Page[RepairRecord]{Items: make([]RepairRecord, 0, len(tickets.Items)), NextCursor: tickets.NextCursor}
	ids := make([]uuid.UUID, len(tickets.Items))
	for i, t := range tickets.Items {
		ids[i] = t.ID
	}
	events, err := s.events(ctx, p, "e.ticket_id = ANY($1)", ids)
	if err != nil {
		return out, err
	}
	byTicket := map[uuid.UUID][]Event{}
	for _, e := range events {
		byTicket[e.TicketID] = append(byTicket[e.TicketID], e)
	}
	for _, t := range tickets.Items {
		out.Items = append(out.Items, RepairRecord{Ticket: t, Events: append([]Event{}, byTicket[t.ID]...)})
	}
	return out, nil
}
