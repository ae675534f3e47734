package push

import (
	"slices"
	"testing"

	"github.com/google/uuid"
)

func TestNotificationTexts(t *testing.T) {
	token, resolved := "t", "resolved"
	for _, c := range []struct {
		reason, event string
		to            *string
		count         int
		title, key    string
		body, bodyKey string
	}{
		{"status", "resolve", &resolved, 0, "Ticket 2026-000042: resolved, please confirm", "push_status_resolved_title", "Лифт застрял", "push_ticket_body"},
		{"status", "reopen", nil, 0, "Ticket 2026-000042: updated", "push_updated_title", "Лифт застрял", "push_ticket_body"},
		{"reply", "commented", nil, 0, "Ticket 2026-000042: new reply", "push_reply_title", "Лифт застрял", "push_ticket_body"},
		{"client_comment", "commented", nil, 0, "Ticket 2026-000042: the client wrote", "push_client_comment_title", "Лифт застрял", "push_ticket_body"},
		{"sla", "sla.reaction_at_risk", nil, 0, "Ticket 2026-000042: reaction SLA at risk", "push_sla_reaction_at_risk_title", "Лифт застрял", "push_ticket_body"},
		{"sla", "sla.resolution_breached", nil, 0, "Ticket 2026-000042: resolution SLA breached", "push_sla_resolution_breached_title", "Лифт застрял", "push_ticket_body"},
		{"planned", "created", nil, 1, "Ticket 2026-000042: preventive work planned", "push_planned_title", "Лифт застрял", "push_ticket_body"},
		{"planned", "created", nil, 12, "12 preventive work orders planned", "push_planned_many_title", "First due: 2026-000042 Лифт застрял", "push_planned_first_body"},
	} {
		m := message{id: uuid.New(), ticket: uuid.New(), reason: c.reason, token: &token,
			payload: payload{Event: c.event, Number: "2026-000042", Title: "Лифт застрял", To: c.to, Count: c.count}}
		got := m.fcm()
		if got.Notification == nil || got.Notification.Title != c.title || got.Notification.Body != c.body {
			t.Errorf("%s %s: %+v, want %q, %q", c.reason, c.event, got.Notification, c.title, c.body)
			continue
		}
		android := got.Android.Notification
		if android.TitleLocKey != c.key || android.BodyLocKey != c.bodyKey || got.APNS.Payload.Aps.Alert != nil {
			t.Errorf("%s %s: keys %q %q, want %q, %q; APNs alert %+v", c.reason, c.event, android.TitleLocKey, android.BodyLocKey,
				c.key, c.bodyKey, got.APNS.Payload.Aps.Alert)
		}
		if c.count > 1 {
			if !slices.Equal(android.TitleLocArgs, []string{"12"}) || !slices.Equal(android.BodyLocArgs, []string{"2026-000042", "Лифт застрял"}) {
				t.Errorf("planned: args %v %v", android.TitleLocArgs, android.BodyLocArgs)
			}
		} else if !slices.Equal(android.TitleLocArgs, []string{"2026-000042"}) || !slices.Equal(android.BodyLocArgs, []string{"Лифт застрял"}) {
			t.Errorf("%s %s: args %v %v", c.reason, c.event, android.TitleLocArgs, android.BodyLocArgs)
		}
		group := m.ticket.String()
		if c.reason == "planned" {
			group = "planned"
		}
		if got.Data["type"] != c.reason || got.Data["id"] != m.id.String() || got.Data["number"] != "2026-000042" ||
			got.APNS.Payload.Aps.ThreadID != group || android.Tag != group {
			t.Errorf("%s %s: data %v, thread %s", c.reason, c.event, got.Data, got.APNS.Payload.Aps.ThreadID)
		}
	}
}
