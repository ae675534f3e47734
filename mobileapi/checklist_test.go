package mobileapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"

	"fieldsvc/internal/checklist"
	"fieldsvc/internal/ticket"
)

func TestChecklistsTravelWithTheirTicketAndAnswersPushOffline(t *testing.T) {
	d := newDesk(t, Options{})
	ctx := context.Background()
	pressureMin := 0.0
	_, err := d.checklists.CreateTemplate(ctx, checklist.TemplateInput{Name: "Холодильное оборудование",
		AssetTypes: []string{"refrigeration"}, Items: []checklist.Item{
			{ID: "power_off", Type: checklist.YesNo, Label: "Питание отключено", Required: true},
			{ID: "pressure", Type: checklist.Number, Label: "Давление", Required: true, Min: &pressureMin, Unit: "bar"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	site, asset := d.site()
	id, moved := d.ticketFor(0, site, asset), d.ticketFor(0, site, asset)

	phone := newReplica()
	phone.sync(t, d, 0)
	if len(phone.rows["checklists"]) != 2 {
		t.Fatalf("the device holds %d checklists, want one per ticket", len(phone.rows["checklists"]))
	}
	var list struct {
		ID    uuid.UUID        `json:"id"`
		Items []checklist.Item `json:"items"`
	}
	for _, row := range phone.rows["checklists"] {
		if err := json.Unmarshal(row, &list); err != nil {
			t.Fatal(err)
		}
		var owner struct {
			TicketID uuid.UUID `json:"ticket_id"`
		}
		_ = json.Unmarshal(row, &owner)
		if owner.TicketID == id {
			break
		}
	}
	if len(list.Items) != 2 || list.Items[1].Unit != "bar" {
		t.Fatalf("the pulled checklist carries items %+v, want the template's two", list.Items)
	}

	// The dispatcher answers power_off from the office while the phone is offline.
	office, err := d.checklists.Answer(ctx, d.dispatch, id, list.ID, "power_off", checklist.AnswerInput{Value: json.RawMessage(`false`)})
	if err != nil || office.Version != 1 {
		t.Fatalf("office answer = %+v, %v", office, err)
	}

	answer := func(item, value string, base int) Mutation {
		return Mutation{ID: uuid.NewString(), Type: "checklist.answer", TicketID: str(id.String()), ChecklistID: str(list.ID.String()),
			ItemID: str(item), Value: json.RawMessage(value), BaseVersion: &base}
	}
	resolve := action(id, ticket.Resolve)
	resolve.Note = str("Заменён пускатель")
	resolveAgain := resolve
	resolveAgain.ID = uuid.NewString()
	batch := []Mutation{
		action(id, ticket.Accept),
		action(id, ticket.StartWork),
		answer("power_off", `true`, 0),  // the phone never saw the office's answer
		answer("pressure", `"high"`, 0), // not a number
		resolve,                         // pressure still missing
		answer("pressure", `4.5`, 0),
		resolveAgain,
	}
	want := []struct {
		status string
		stale  bool
	}{{"applied", false}, {"applied", false}, {"applied", true}, {"rejected", false}, {"rejected", false},
		{"applied", false}, {"applied", false}}
	results, err := d.m.Push(ctx, d.eng[0].p, d.eng[0].device, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Status != want[i].status || r.Stale != want[i].stale {
			t.Errorf("mutation %d (%s): %+v, want %s (stale %v)", i, batch[i].Type, r, want[i].status, want[i].stale)
		}
	}
	if f := results[4].Fields; f["checklists."+list.ID.String()+".pressure"] == "" {
		t.Errorf("the early resolve's rejection does not name the missing item: %+v", results[4])
	}
	if results[3].Fields["value"] == "" {
		t.Errorf("the bad answer's rejection does not name the value: %+v", results[3])
	}
	again, err := d.m.Push(ctx, d.eng[0].p, d.eng[0].device, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if r.Status != "duplicate" || r.Original != want[i].status || r.Stale != want[i].stale {
			t.Errorf("replayed mutation %d: %+v", i, r)
		}
	}

	// The answers reach the device; a ticket reassigned away takes its checklist along,
	// and brings it to the new engineer.
	d.assign(moved, 1)
	phone.sync(t, d, 0)
	if got := phone.rows["checklist_answers"]; len(got) != 2 {
		t.Errorf("the device holds %d answers, want 2", len(got))
	}
	if len(phone.rows["checklists"]) != 1 {
		t.Errorf("after the reassignment the device holds %d checklists, want 1", len(phone.rows["checklists"]))
	}
	other := newReplica()
	other.sync(t, d, 1)
	if len(other.rows["checklists"]) != 1 {
		t.Errorf("the new engineer's device holds %d checklists, want 1", len(other.rows["checklists"]))
	}
}

// Names a synced row shows from elsewhere (client, comment author, template) reach the
// device when they change.
func TestRenamesReachTheDevice(t *testing.T) {
	d := newDesk(t, Options{})
	ctx := context.Background()
	tpl, err := d.checklists.CreateTemplate(ctx, checklist.TemplateInput{Name: "Осмотр",
		Items: []checklist.Item{{ID: "ok", Type: checklist.YesNo, Label: "Всё в порядке"}}})
	if err != nil {
		t.Fatal(err)
	}
	site, asset := d.site()
	id := d.ticketFor(0, site, asset)
	if _, _, err := d.tickets.AddComment(ctx, d.dispatch, id, ticket.NewComment{Body: "Ключи у охраны"}); err != nil {
		t.Fatal(err)
	}
	phone := newReplica()
	phone.sync(t, d, 0)

	d.exec(`UPDATE clients SET name = 'ООО Клиент Плюс' WHERE id = $1`, d.client)
	d.exec(`UPDATE users SET full_name = 'Диспетчер Петрова' WHERE id = $1`, d.dispatch.UserID)
	tpl.Name = "Осмотр оборудования"
	if _, err := d.checklists.UpdateTemplate(ctx, tpl.ID, checklist.TemplateInput{Name: tpl.Name, Items: tpl.Items}); err != nil {
		t.Fatal(err)
	}
	phone.sync(t, d, 0)
	for table, want := range map[string]string{"sites": "ООО Клиент Плюс", "comments": "Диспетчер Петрова", "checklists": "Осмотр оборудования"} {
		found := false
		for _, row := range phone.rows[table] {
			found = found || strings.Contains(string(row), want)
		}
		if !found {
			t.Errorf("after the rename the device's %s do not show %q", table, want)
		}
	}
}
