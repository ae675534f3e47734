package push

import (
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
// silent background push on iOS); a notification is shown, grouped per ticket.
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
	out.Notification = &messaging.Notification{Title: "Ticket " + m.payload.Number + ": " + m.headline(), Body: m.payload.Title}
	out.Android = &messaging.AndroidConfig{Priority: "high", TTL: &noticeTTL,
		Notification: &messaging.AndroidNotification{Tag: m.ticket.String()}}
	out.APNS = &messaging.APNSConfig{Payload: &messaging.APNSPayload{Aps: &messaging.Aps{ThreadID: m.ticket.String()}}}
	return out
}

var statusHeadlines = map[string]string{
	"new": "waiting for an engineer", "assigned": "engineer assigned", "accepted": "accepted by the engineer",
	"en_route": "engineer on the way", "in_progress": "work in progress", "waiting": "on hold",
	"resolved": "resolved, please confirm", "closed": "closed", "cancelled": "cancelled",
}

// headline says what happened, after the ticket's number.
func (m message) headline() string {
	switch m.reason {
	case "reply":
		return "new reply"
	case "client_comment":
		return "the client wrote"
	case "sla": // sla.reaction_at_risk, sla.resolution_breached, …
		clock, state, _ := strings.Cut(strings.TrimPrefix(m.payload.Event, "sla."), "_")
		return clock + " SLA " + strings.ReplaceAll(state, "_", " ")
	}
	if m.payload.To != nil {
		if h, ok := statusHeadlines[*m.payload.To]; ok {
			return h
		}
	}
	return "updated"
}
