package push

import (
	"testing"

	"github.com/google/uuid"
)

func TestNotificationTitles(t *testing.T) {
	token, resolved := "t", "resolved"
	for _, c := range []struct {
		reason, event string
		to            *string
		title         string
	}{
		{"status", "resolve", &resolved, "Ticket 2026-000042: resolved, please confirm"},
		{"status", "reopen", nil, "Ticket 2026-000042: updated"},
		{"reply", "commented", nil, "Ticket 2026-000042: new reply"},
		{"client_comment", "commented", nil, "Ticket 2026-000042: the client wrote"},
		{"sla", "sla.reaction_at_risk", nil, "Ticket 2026-000042: reaction SLA at risk"},
		{"sla", "sla.resolution_breached", nil, "Ticket 2026-000042: resolution SLA breached"},
	} {
		m := message{id: uuid.New(), ticket: uuid.New(), reason: c.reason, token: &token,
			payload: payload{Event: c.event, Number: "2026-000042", Title: "Лифт застрял", To: c.to}}
		got := m.fcm()
		if got.Notification == nil || got.Notification.Title != c.title || got.Notification.Body != "Лифт застрял" {
			t.Errorf("%s %s: %+v, want %q", c.reason, c.event, got.Notification, c.title)
		}
		if got.Data["type"] != c.reason || got.Data["id"] != m.id.String() || got.APNS.Payload.Aps.ThreadID != m.ticket.String() {
			t.Errorf("%s %s: data %v", c.reason, c.event, got.Data)
		}
	}
}
