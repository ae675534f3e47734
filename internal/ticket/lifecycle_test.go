package ticket

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
)

// allowed is the lifecycle as the business states it, written out independently of the
// rules table: who may take each action from each status. Anything else is refused.
var allowed = map[Action]map[Status][]auth.Role{
	Assign:      {New: staffDesk, Assigned: staffDesk, Accepted: staffDesk, EnRoute: staffDesk},
	Unassign:    {Assigned: staffDesk, Accepted: staffDesk, EnRoute: staffDesk},
	Accept:      {Assigned: engineerOnly},
	StartTravel: {Accepted: engineerOnly},
	StartWork:   {Accepted: engineerOnly, EnRoute: engineerOnly},
	Wait:        {InProgress: inField},
	Resume:      {Waiting: inField},
	Resolve:     {InProgress: inField, Waiting: inField},
	Close:       {Resolved: withClient},
	Cancel: {New: withClient, Assigned: withClient, Accepted: staffDesk, EnRoute: staffDesk,
		InProgress: staffDesk, Waiting: staffDesk},
	Reopen: {Resolved: withClient, Closed: withClient},
}

var (
	staffDesk    = []auth.Role{auth.Dispatcher, auth.Admin}
	engineerOnly = []auth.Role{auth.Engineer}
	inField      = []auth.Role{auth.Engineer, auth.Dispatcher, auth.Admin}
	withClient   = []auth.Role{auth.Client, auth.Dispatcher, auth.Admin}
	everyRole    = []auth.Role{auth.Admin, auth.Dispatcher, auth.Manager, auth.Engineer, auth.Client}
	allStatuses  = []Status{New, Assigned, Accepted, EnRoute, InProgress, Waiting, Resolved, Closed, Cancelled}
)

// mayEver reports whether role takes action from some status.
func mayEver(action Action, role auth.Role) bool {
	for _, roles := range allowed[action] {
		if slices.Contains(roles, role) {
			return true
		}
	}
	return false
}

func TestEveryTransitionAllowedAndDeniedPerRole(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	as := map[auth.Role]auth.Principal{auth.Admin: w.admin, auth.Dispatcher: w.dispatcher, auth.Manager: w.manager,
		auth.Engineer: w.engineer, auth.Client: w.clientUserA}
	for _, action := range Actions {
		for _, status := range allStatuses {
			var shared *uuid.UUID // refused attempts change nothing, so they share a ticket
			for _, role := range everyRole {
				name := fmt.Sprintf("%s from %s by %s", action, status, role)
				ok := slices.Contains(allowed[action][status], role)
				var id uuid.UUID
				if ok || shared == nil {
					id = w.ticketIn(status)
					if !ok {
						shared = &id
					}
				} else {
					id = *shared
				}
				cmd := w.command(action)
				if action == Assign {
					cmd.EngineerID = str(w.engineer2ID.String()) // a reassignment where there is an assignee
				}
				before, err := w.s.Get(ctx, w.admin, id)
				if err != nil {
					t.Fatal(err)
				}
				got, err := w.s.Do(ctx, as[role], id, action, cmd)
				unassigned := before.AssigneeID == nil
				var want apperr.Code
				switch {
				case ok:
					want = ""
				case !mayEver(action, role):
					want = apperr.Forbidden
				case role == auth.Engineer && unassigned:
					want = apperr.NotFound // not their work: they cannot even see it
				default:
					want = apperr.Conflict
				}
				if codeOf(err) != want {
					t.Errorf("%s: got %v, want %q", name, err, want)
					continue
				}
				after, _ := w.s.Get(ctx, w.admin, id)
				if err != nil {
					if after.Version != before.Version || after.Status != before.Status {
						t.Errorf("%s: a refused action changed the ticket", name)
					}
					continue
				}
				if got.Version != before.Version+1 {
					t.Errorf("%s: version %d -> %d", name, before.Version, got.Version)
				}
				events, err := w.s.History(ctx, w.admin, id)
				if err != nil {
					t.Fatal(err)
				}
				last := events[len(events)-1]
				if last.From == nil || *last.From != string(status) || last.To == nil || *last.To != string(got.Status) ||
					last.ActorID == nil || *last.ActorID != as[role].UserID {
					t.Errorf("%s: last event %+v does not record the change", name, last)
				}
			}
		}
	}
}

func TestConflictShowsTheCurrentState(t *testing.T) {
	w := newWorld(t)
	id := w.ticketIn(Resolved)
	_, err := w.s.Do(context.Background(), w.engineer, id, StartWork, Command{})
	var e *apperr.Error
	if !errors.As(err, &e) || e.Code != apperr.Conflict {
		t.Fatalf("got %v", err)
	}
	cur, _ := e.Current.(map[string]any)
	if cur["status"] != Resolved {
		t.Fatalf("the conflict does not show the current status: %#v", e.Current)
	}
}

func TestStaleVersionIsRefused(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tk := w.file()
	stale := tk.Version
	w.do(w.dispatcher, tk.ID, Assign, Command{EngineerID: str(w.engineerID.String()), Version: &stale})
	_, err := w.s.Update(ctx, w.dispatcher, tk.ID, Edit{Version: &stale, Title: str("Новый заголовок")})
	if codeOf(err) != apperr.Conflict {
		t.Fatalf("an edit based on version %d was accepted: %v", stale, err)
	}
	_, err = w.s.Do(ctx, w.dispatcher, tk.ID, Assign, Command{EngineerID: str(w.engineer2ID.String()), Version: &stale})
	if codeOf(err) != apperr.Conflict {
		t.Fatalf("a command based on version %d was accepted: %v", stale, err)
	}
	if _, err := w.s.Update(ctx, w.dispatcher, tk.ID, Edit{Title: str("Без версии")}); fieldsOf(err)["version"] == "" {
		t.Fatalf("an edit without a version: %v", err)
	}
	cur, _ := w.s.Get(ctx, w.admin, tk.ID)
	if _, err := w.s.Update(ctx, w.dispatcher, tk.ID, Edit{Version: &cur.Version}); fieldsOf(err)["body"] == "" {
		t.Fatalf("an edit that changes nothing: %v", err)
	}
	edited, err := w.s.Update(ctx, w.dispatcher, tk.ID, Edit{Version: &cur.Version, Title: str("Витрина №3 не холодит")})
	if err != nil || edited.Title != "Витрина №3 не холодит" || edited.Version != cur.Version+1 {
		t.Fatalf("a current edit: %v %+v", err, edited)
	}
}

func TestCommandInputIsChecked(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	working, fresh := w.ticketIn(InProgress), w.ticketIn(New)
	for name, tc := range map[string]struct {
		p      auth.Principal
		action Action
		cmd    Command
		field  string
	}{
		"assign without engineer":  {w.dispatcher, Assign, Command{}, "engineer_id"},
		"assign to nobody":         {w.dispatcher, Assign, Command{EngineerID: str(uuid.NewString())}, "engineer_id"},
		"assign to a non-uuid":     {w.dispatcher, Assign, Command{EngineerID: str("bob")}, "engineer_id"},
		"wait on nothing":          {w.engineer, Wait, Command{}, "waiting_on"},
		"wait on the weather":      {w.engineer, Wait, Command{WaitingOn: str("weather")}, "waiting_on"},
		"resolve without a note":   {w.engineer, Resolve, Command{}, "note"},
		"cancel without a reason":  {w.dispatcher, Cancel, Command{Note: str("   ")}, "note"},
		"reopen without a reason":  {w.dispatcher, Reopen, Command{}, "note"},
		"a note with a NUL inside": {w.engineer, Resolve, Command{Note: str("done\x00")}, "note"},
	} {
		id := working
		if tc.action == Assign {
			id = fresh
		}
		_, err := w.s.Do(ctx, tc.p, id, tc.action, tc.cmd)
		if codeOf(err) != apperr.Invalid || fieldsOf(err)[tc.field] == "" {
			t.Errorf("%s: got %v, want invalid %s", name, err, tc.field)
		}
	}
	if _, err := w.s.Do(ctx, w.dispatcher, working, Action("teleport"), Command{}); codeOf(err) != apperr.NotFound {
		t.Errorf("unknown action: %v", err)
	}
}

func TestAnEngineerActsOnlyOnTheirOwnWork(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := w.ticketIn(Assigned) // assigned to the first engineer
	if _, err := w.s.Do(ctx, w.engineer2, id, Accept, Command{}); codeOf(err) != apperr.NotFound {
		t.Fatalf("another engineer accepted: %v", err)
	}
	if _, err := w.s.Get(ctx, w.engineer2, id); codeOf(err) != apperr.NotFound {
		t.Fatalf("another engineer sees the ticket: %v", err)
	}
	w.do(w.dispatcher, id, Assign, Command{EngineerID: str(w.engineer2ID.String())})
	if _, err := w.s.Get(ctx, w.engineer, id); codeOf(err) != apperr.NotFound {
		t.Fatalf("the engineer still sees a ticket reassigned away: %v", err)
	}
	if got := w.do(w.engineer2, id, Accept, Command{}); got.Status != Accepted {
		t.Fatalf("the new assignee could not accept: %+v", got)
	}
}
