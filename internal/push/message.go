package push

import (
	"strconv"
	"strings"
	"time"

	"firebase.google.com/go/v4/messaging"
	"github.com/google/uuid"
)

// message is a claimed outbox row: one message to one device.
type message struct {
	id, device, ticket uuid.UUID
	reason             string // sync, or what a notification is about (see the outbox table)
	payload            payload
	attempts           int     // this one included
	token              *string // the device's token now; nil when it has none
}

// payload is what the trigger recorded of the event a message announces.
type payload struct {
	Event  string  `json:"event"`
	Number string  `json:"number"`
	Title  string  `json:"title"`
	From   *string `json:"from"`
	To     *string `json:"to"`
	// Count is how many work orders a planned notice stands for (Number and Title are
	// the first one due).
	Count int `json:"count"`
}

const syncCollapseKey = "sync"

var (
	// A "sync now" is worth nothing once the app has synced anyway, a notification for a day.
	syncTTL   = time.Hour
	noticeTTL = 24 * time.Hour
)

// fcm is the FCM message for m. Every message carries its outbox id, so an app can drop
// one delivered twice (a worker that died between sending and recording sends it again).
// A sync is data-only and collapses with the device's previous sync still in transit (a
// silent background push on iOS); a notification is shown, grouped per ticket (planned
// notices replace each other). A notification carries its text in English and,
// for Android, localisation keys with their arguments, which the app translates (the
// English text stands when it has no such string). iOS would show a key it lacks as it
// is, so its apps translate from the data (event, number, count) in a notification
// service extension, or show the English.
func (m message) fcm() *messaging.Message {
	out := &messaging.Message{Token: *m.token, Data: map[string]string{
		"type": m.reason, "id": m.id.String(), "ticket_id": m.ticket.String(), "event": m.payload.Event,
	}}
	if m.reason == "sync" {
		out.Android = &messaging.AndroidConfig{CollapseKey: syncCollapseKey, Priority: "high", TTL: &syncTTL}
		out.APNS = &messaging.APNSConfig{
			Headers: map[string]string{"apns-collapse-id": syncCollapseKey, "apns-push-type": "background", "apns-priority": "5"},
			Payload: &messaging.APNSPayload{Aps: &messaging.Aps{ContentAvailable: true}},
		}
		return out
	}
	out.Data["number"] = m.payload.Number
	group := m.ticket.String()
	if m.reason == "planned" {
		out.Data["count"] = strconv.Itoa(m.payload.Count)
		group = "planned"
	}
	n := m.notice()
	out.Notification = &messaging.Notification{Title: n.title, Body: n.body}
	out.Android = &messaging.AndroidConfig{Priority: "high", TTL: &noticeTTL,
		Notification: &messaging.AndroidNotification{Tag: group,
			TitleLocKey: n.titleKey, TitleLocArgs: n.titleArgs, BodyLocKey: n.bodyKey, BodyLocArgs: n.bodyArgs}}
	out.APNS = &messaging.APNSConfig{Payload: &messaging.APNSPayload{Aps: &messaging.Aps{ThreadID: group}}}
	return out
}

// notice is a notification's text: in English, and as localisation keys and arguments.
type notice struct {
	title, body         string
	titleKey, bodyKey   string
	titleArgs, bodyArgs []string
}

var statusHeadlines = map[string]string{
	"new": "waiting for an engineer", "assigned": "engineer assigned", "accepted": "accepted by the engineer",
	"en_route": "engineer on the way", "in_progress": "work in progress", "waiting": "on hold",
	"resolved": "resolved, please confirm", "closed": "closed", "cancelled": "cancelled",
}

// notice says what happened: the title names the ticket and the news (push_<what>_title,
// with the number as its argument), the body is the ticket's title (push_ticket_body).
// A planned notice for several work orders counts them and names the first due.
func (m message) notice() notice {
	p := m.payload
	n := notice{body: p.Title, bodyKey: "push_ticket_body", bodyArgs: []string{p.Title}}
	what, headline := "updated", "updated"
	switch m.reason {
	case "reply":
		what, headline = "reply", "new reply"
	case "client_comment":
		what, headline = "client_comment", "the client wrote"
	case "sla": // sla.reaction_at_risk, sla.resolution_breached, …
		what = strings.ReplaceAll(p.Event, ".", "_")
		clock, state, _ := strings.Cut(strings.TrimPrefix(p.Event, "sla."), "_")
		headline = clock + " SLA " + strings.ReplaceAll(state, "_", " ")
	case "planned":
		if p.Count > 1 {
			count := strconv.Itoa(p.Count)
			return notice{title: count + " preventive work orders planned", titleKey: "push_planned_many_title",
				titleArgs: []string{count}, body: "First due: " + p.Number + " " + p.Title,
				bodyKey: "push_planned_first_body", bodyArgs: []string{p.Number, p.Title}}
		}
		what, headline = "planned", "preventive work planned"
	default:
		if p.To != nil {
			if h, ok := statusHeadlines[*p.To]; ok {
				what, headline = "status_"+*p.To, h
			}
		}
	}
	n.title, n.titleKey, n.titleArgs = "Ticket "+p.Number+": "+headline, "push_"+what+"_title", []string{p.Number}
	return n
}
