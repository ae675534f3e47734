package ticket

import "fieldsvc/internal/auth"

// Status is where a ticket is in its life.
type Status string

const (
	New        Status = "new"
	Assigned   Status = "assigned"
	Accepted   Status = "accepted"
	EnRoute    Status = "en_route"
	InProgress Status = "in_progress"
	Waiting    Status = "waiting"
	Resolved   Status = "resolved"
	Closed     Status = "closed"
	Cancelled  Status = "cancelled"
)

// Statuses lists every status in lifecycle order.
var Statuses = []string{"new", "assigned", "accepted", "en_route", "in_progress", "waiting", "resolved", "closed", "cancelled"}

// Open reports whether work on the ticket is still to be done.
func (s Status) Open() bool { return s != Resolved && s != Closed && s != Cancelled }

// Action is a command that moves a ticket through its lifecycle.
type Action string

const (
	Assign      Action = "assign"
	Unassign    Action = "unassign"
	Accept      Action = "accept"
	StartTravel Action = "start-travel"
	StartWork   Action = "start-work"
	Wait        Action = "wait"
	Resume      Action = "resume"
	Resolve     Action = "resolve"
	Close       Action = "close"
	Cancel      Action = "cancel"
	Reopen      Action = "reopen"
)

// rule says from which statuses an action may be taken, by whom, and where it leads.
// to is empty where the target depends on the ticket (reopen).
type rule struct {
	from []Status
	to   Status
	// roles may take the action; an engineer only on work assigned to them.
	roles []auth.Role
	// clientFrom narrows from for client users (a client may cancel only before work starts).
	clientFrom []Status
}

var (
	dispatchers = []auth.Role{auth.Dispatcher, auth.Admin}
	fieldStaff  = []auth.Role{auth.Engineer, auth.Dispatcher, auth.Admin}
	openBefore  = []Status{New, Assigned, Accepted, EnRoute, InProgress, Waiting}
)

// rules is the whole state machine.
var rules = map[Action]rule{
	Assign:      {from: []Status{New, Assigned, Accepted, EnRoute}, to: Assigned, roles: dispatchers},
	Unassign:    {from: []Status{Assigned, Accepted, EnRoute}, to: New, roles: dispatchers},
	Accept:      {from: []Status{Assigned}, to: Accepted, roles: []auth.Role{auth.Engineer}},
	StartTravel: {from: []Status{Accepted}, to: EnRoute, roles: []auth.Role{auth.Engineer}},
	StartWork:   {from: []Status{Accepted, EnRoute}, to: InProgress, roles: []auth.Role{auth.Engineer}},
	Wait:        {from: []Status{InProgress}, to: Waiting, roles: fieldStaff},
	Resume:      {from: []Status{Waiting}, to: InProgress, roles: fieldStaff},
	Resolve:     {from: []Status{InProgress, Waiting}, to: Resolved, roles: fieldStaff},
	Close:       {from: []Status{Resolved}, to: Closed, roles: []auth.Role{auth.Client, auth.Dispatcher, auth.Admin}},
	Cancel: {from: openBefore, to: Cancelled, roles: []auth.Role{auth.Client, auth.Dispatcher, auth.Admin},
		clientFrom: []Status{New, Assigned}},
	Reopen: {from: []Status{Resolved, Closed}, roles: []auth.Role{auth.Client, auth.Dispatcher, auth.Admin}},
}

// Actions lists every action, for routes and documentation.
var Actions = []Action{Assign, Unassign, Accept, StartTravel, StartWork, Wait, Resume, Resolve, Close, Cancel, Reopen}

func has[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// allowedRole reports whether role may ever take the action.
func (r rule) allowedRole(role auth.Role) bool { return has(r.roles, role) }

// allowedFrom reports whether the action may be taken from status by role.
func (r rule) allowedFrom(status Status, role auth.Role) bool {
	if role == auth.Client && r.clientFrom != nil {
		return has(r.clientFrom, status)
	}
	return has(r.from, status)
}
