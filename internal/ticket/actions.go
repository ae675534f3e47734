package ticket

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/valid"
)

// Command carries what an action needs besides the ticket.
type Command struct {
	// Version, when given, must still be the ticket's version: a stale command is refused.
	Version *int `json:"version"`
	// EngineerID is who to assign.
	EngineerID *string `json:"engineer_id"`
	// WaitingOn is client or parts, for wait. Waiting on the client stops the SLA clock.
	WaitingOn *string `json:"waiting_on"`
	// Note is the resolution (resolve) or the reason (assign, unassign, cancel, reopen, wait).
	Note *string `json:"note"`
	// OverrideCapacity lets a dispatcher assign an engineer who is already at capacity.
	OverrideCapacity bool `json:"override_capacity"`
	// assignment carries dispatch's reasons; people's assignments are recorded as manual.
	assignment *Assignment
}

// current is the part of a locked ticket row that commands decide on.
type current struct {
	id                                   uuid.UUID
	status                               Status
	version                              int
	assignee, contract                   *uuid.UUID
	site                                 uuid.UUID
	priority                             string
	created                              time.Time
	paused                               int
	pausedSince, firstResponse, resolved *time.Time
	reactionDue, resolutionDue           *time.Time
	resolutionRisk                       *time.Time
	reactionState, resolutionState       string
	reopenCount                          int
	rated                                bool
	reactionMinutes, resolutionMinutes   *int
}

// lock reads and locks a ticket p may see.
func lock(ctx context.Context, tx pgx.Tx, p auth.Principal, id uuid.UUID) (current, error) {
	var w postgres.Where
	w.Add("t.id = %s", id)
	visible(p, &w)
	var c current
	err := tx.QueryRow(ctx, `SELECT t.id, t.status, t.version, t.assignee_id, t.contract_id, t.site_id, t.priority,
		t.created_at, t.paused_minutes, t.paused_since, t.first_response_at, t.resolved_at,
		t.reaction_due_at, t.resolution_due_at, t.resolution_risk_at, t.reaction_state, t.resolution_state, t.reopen_count,
		t.rated_at IS NOT NULL, t.reaction_minutes, t.resolution_minutes
		FROM tickets t`+w.SQL()+` FOR UPDATE OF t`, w.Args...).Scan(
		&c.id, &c.status, &c.version, &c.assignee, &c.contract, &c.site, &c.priority,
		&c.created, &c.paused, &c.pausedSince, &c.firstResponse, &c.resolved,
		&c.reactionDue, &c.resolutionDue, &c.resolutionRisk, &c.reactionState, &c.resolutionState, &c.reopenCount,
		&c.rated, &c.reactionMinutes, &c.resolutionMinutes)
	if postgres.ErrNoRows(err) {
		return c, apperr.New(apperr.NotFound, "ticket %s not found", id)
	}
	return c, err
}

// conflict says a command does not fit the ticket as it now is, and shows it.
func (c current) conflict(format string, args ...any) error {
	return &apperr.Error{Code: apperr.Conflict, Message: fmt.Sprintf(format, args...),
		Current: map[string]any{"status": c.status, "version": c.version}}
}

func (c current) checkVersion(v *int) error {
	if v != nil && *v != c.version {
		return c.conflict("the ticket changed since you read it (version %d, now %d); reload it", *v, c.version)
	}
	return nil
}

// changes are the columns a command sets, besides status and version, and the SLA
// events its clock changes call for.
type changes struct {
	cols  []string
	args  []any
	marks []string
}

// set sets a column; setting it again replaces the value.
func (ch *changes) set(col string, v any) {
	if i := slices.Index(ch.cols, col); i >= 0 {
		ch.args[i] = v
		return
	}
	ch.cols = append(ch.cols, col)
	ch.args = append(ch.args, v)
}

// clock moves a running SLA clock (reaction or resolution) to state. When that is worse
// than before it notes the event the sweep would have written, since the sweep only
// moves clocks that are not there yet: no clock gets worse silently.
func (ch *changes) clock(which, from, to string) {
	ch.set(which+"_state", to)
	if severity(to) > max(severity(from), 0) {
		ch.marks = append(ch.marks, "sla."+which+"_"+to)
	}
}

// apply writes the changes and the SLA marks, the marks in the name of the user whose
// command made the clock worse (nil for the system): they already know.
func (ch changes) apply(ctx context.Context, tx pgx.Tx, id uuid.UUID, to Status, actor *uuid.UUID, at time.Time) error {
	sql := "UPDATE tickets SET status = $2, version = version + 1"
	for i, col := range ch.cols {
		sql += ", " + col + " = $" + strconv.Itoa(i+3)
	}
	if _, err := tx.Exec(ctx, sql+" WHERE id = $1", append([]any{id, to}, ch.args...)...); err != nil {
		return err
	}
	for _, kind := range ch.marks {
		if err := addEvent(ctx, tx, event{ticket: id, actor: actor, kind: kind, at: at}); err != nil {
			return err
		}
	}
	return nil
}

// Do takes an action on a ticket: checked against the ticket's status and the caller's
// role, applied with its SLA effects and recorded as an event, all in one transaction.
func (s *Service) Do(ctx context.Context, p auth.Principal, id uuid.UUID, action Action, cmd Command) (Ticket, error) {
	cmd.assignment = nil // only dispatch, through AssignTo, supplies reasons
	if err := s.do(ctx, p, id, action, cmd); err != nil {
		return Ticket{}, err
	}
	return s.Get(ctx, s.asStaff(p), id)
}

func (s *Service) do(ctx context.Context, p auth.Principal, id uuid.UUID, action Action, cmd Command) error {
	r, ok := rules[action]
	if !ok {
		return apperr.New(apperr.NotFound, "there is no action %q", action)
	}
	if !r.allowedRole(p.Role) {
		return apperr.New(apperr.Forbidden, "your role (%s) may not %s tickets", p.Role, action)
	}
	in, err := cmd.validate(action)
	if err != nil {
		return err
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := lock(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := c.checkVersion(cmd.Version); err != nil {
			return err
		}
		if !r.allowedFrom(c.status, p.Role) {
			return c.conflict("a ticket that is %s cannot be %s", c.status, pastTense(action))
		}
		e := event{ticket: id, actor: actorOf(p), kind: strings.ReplaceAll(string(action), "-", "_"),
			from: c.status, to: r.to, at: s.now(), data: map[string]any{}}
		var ch changes
		in.by = p.UserID
		if err := s.effects(ctx, tx, c, action, in, &e, &ch); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, e); err != nil {
			return err
		}
		if err := ch.apply(ctx, tx, id, e.to, e.actor, e.at); err != nil {
			return err
		}
		if action == Resolve || action == Cancel {
			return s.finishing(ctx, tx, action, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ticket: %s: %w", action, postgres.MapError(err))
	}
	return nil
}

// asStaff reads back the ticket a command changed with staff sight: a system caller has
// no user, and an engineer's own ticket is visible either way.
func (s *Service) asStaff(p auth.Principal) auth.Principal {
	if p.Role == auth.Engineer {
		return auth.Principal{UserID: p.UserID, Role: auth.Dispatcher}
	}
	return p
}

type commandInput struct {
	engineer   uuid.UUID
	waitingOn  string
	note       *string
	override   bool
	assignment *Assignment
	by         uuid.UUID
}

func (cmd Command) validate(action Action) (commandInput, error) {
	var errs valid.Errors
	in := commandInput{override: cmd.OverrideCapacity, assignment: cmd.assignment}
	in.note = errs.OptionalText("note", cmd.Note, 5000)
	switch action {
	case Assign:
		if cmd.EngineerID == nil {
			errs.Add("engineer_id", "is required")
		} else {
			in.engineer = errs.UUID("engineer_id", *cmd.EngineerID)
		}
	case Wait:
		if cmd.WaitingOn == nil {
			errs.Add("waiting_on", "is required: client or parts")
		} else {
			in.waitingOn = errs.OneOf("waiting_on", *cmd.WaitingOn, "client", "parts")
		}
	case Resolve:
		errs.Check(in.note != nil, "note", "is required: what was done")
	case Cancel, Reopen, Unassign:
		errs.Check(in.note != nil, "note", "is required: why")
	}
	return in, errs.Err()
}

func pastTense(a Action) string {
	switch a {
	case StartTravel:
		return "put en route"
	case StartWork:
		return "started"
	case Wait:
		return "put on hold"
	case Resume:
		return "resumed"
	case Cancel:
		return "cancelled"
	}
	return strings.TrimSuffix(string(a), "e") + "ed"
}

// effects works out everything an action changes besides the status.
func (s *Service) effects(ctx context.Context, tx pgx.Tx, c current, action Action, in commandInput, e *event, ch *changes) error {
	now := e.at
	if in.note != nil {
		e.data["note"] = *in.note
	}
	switch action {
	case Assign:
		if in.assignment != nil && (c.status != New || c.assignee != nil) {
			return c.conflict("the ticket is no longer waiting for an engineer")
		}
		if c.assignee != nil && *c.assignee == in.engineer && c.status == Assigned {
			return c.conflict("the ticket is already assigned to this engineer")
		}
		if err := claim(ctx, tx, in.engineer, c.assignee, in.override); err != nil {
			return err
		}
		p := placement{ticket: c.id, site: c.site, engineer: in.engineer, by: in.by, a: in.assignment}
		if p.a == nil {
			p.a = manualAssignment(in.note, c.assignee)
		}
		if err := recordAssignments(ctx, tx, []placement{p}); err != nil {
			return err
		}
		ch.set("assignee_id", in.engineer)
		e.assigned(in.engineer, c.assignee, in.assignment)
	case Unassign:
		ch.set("assignee_id", nil)
		e.data["previous_engineer_id"] = *c.assignee
	case Accept:
		s.reacted(c, now, ch)
	case Wait:
		ch.set("waiting_on", in.waitingOn)
		e.data["waiting_on"] = in.waitingOn
		if in.waitingOn == "client" {
			ch.set("paused_since", now)
		}
	case Resume:
		if _, err := s.unpause(ctx, tx, c, now, ch); err != nil {
			return err
		}
		ch.set("waiting_on", nil)
	case Resolve:
		due, err := s.unpause(ctx, tx, c, now, ch)
		if err != nil {
			return err
		}
		ch.set("waiting_on", nil)
		s.reacted(c, now, ch)
		ch.set("resolved_at", now)
		ch.set("resolution_note", *in.note)
		if running(c.resolutionState) {
			ch.set("resolution_state", metState(now, due))
		}
	case Close:
		ch.set("closed_at", now)
	case Cancel:
		ch.set("waiting_on", nil)
		ch.set("paused_since", nil)
		ch.set("closed_at", now)
		for which, state := range map[string]string{"reaction": c.reactionState, "resolution": c.resolutionState} {
			if state == "ok" || state == "at_risk" { // a breach stays on record
				ch.set(which+"_state", "none")
			}
		}
	case Reopen:
		if c.resolved != nil && now.Sub(*c.resolved) > s.opts.ReopenWithin {
			return c.conflict("a ticket can be reopened within %s of its resolution", days(s.opts.ReopenWithin))
		}
		to, err := reopenedStatus(ctx, tx, c, ch)
		if err != nil {
			return err
		}
		e.to = to
		s.reopen(c, now, ch)
	}
	return nil
}

func days(d time.Duration) string { return fmt.Sprintf("%d days", int(d.Hours()/24)) }

// running reports whether an SLA clock still runs.
func running(state string) bool { return state == "ok" || state == "at_risk" || state == "breached" }

// reacted stops the reaction clock the first time someone answers.
func (s *Service) reacted(c current, now time.Time, ch *changes) {
	if c.firstResponse != nil {
		return
	}
	ch.set("first_response_at", now)
	if running(c.reactionState) {
		ch.set("reaction_state", metState(now, c.reactionDue))
	}
}

// unpause ends waiting on the client: the business time spent waiting is added to the
// pause and the resolution deadline moves by as much. It returns the deadline in force.
func (s *Service) unpause(ctx context.Context, tx pgx.Tx, c current, now time.Time, ch *changes) (*time.Time, error) {
	if c.pausedSince == nil {
		return c.resolutionDue, nil
	}
	ch.set("paused_since", nil)
	tm, ok, err := termsOf(ctx, tx, c)
	if err != nil || !ok {
		return c.resolutionDue, err
	}
	paused := c.paused + tm.cal.Minutes(*c.pausedSince, now)
	d := tm.deadlines(c.created, paused)
	ch.set("paused_minutes", paused)
	ch.set("resolution_risk_at", d.resolutionRisk)
	ch.set("resolution_due_at", d.resolutionDue)
	if running(c.resolutionState) {
		ch.clock("resolution", c.resolutionState, stateAt(now, d.resolutionRisk, d.resolutionDue))
	}
	return &d.resolutionDue, nil
}

// reopenedStatus sends a reopened ticket back to its engineer when they still work and
// have room for it, and to the queue otherwise (or when it had nobody).
func reopenedStatus(ctx context.Context, tx pgx.Tx, c current, ch *changes) (Status, error) {
	if c.assignee == nil {
		return New, nil
	}
	err := claim(ctx, tx, *c.assignee, nil, false)
	var ae *apperr.Error
	if errors.As(err, &ae) && (ae.Code == apperr.Conflict || ae.Code == apperr.Invalid) { // full, or gone
		ch.set("assignee_id", nil)
		return New, nil
	}
	if err != nil {
		return "", err
	}
	return Assigned, nil
}

// reopen runs the resolution clock again against the deadline the ticket had: the time
// it spent resolved counts, as it does for the client waiting. A rating was of work that
// is now being redone, so it goes (its event stays).
func (s *Service) reopen(c current, now time.Time, ch *changes) {
	ch.set("resolved_at", nil)
	ch.set("closed_at", nil)
	ch.set("reopen_count", c.reopenCount+1)
	ch.set("csat", nil)
	ch.set("csat_comment", nil)
	ch.set("rated_at", nil)
	if c.resolutionDue != nil && c.resolutionRisk != nil {
		ch.clock("resolution", "ok", stateAt(now, *c.resolutionRisk, *c.resolutionDue))
	}
}

// actorOf is who an event names: nobody for the system.
func actorOf(p auth.Principal) *uuid.UUID {
	if p.UserID == uuid.Nil {
		return nil
	}
	return &p.UserID
}
