package main

import (
	"net/http"
	"net/url"
	"testing"
)

// TestTicketWalkthrough follows a fault from the client's report to their rating, over
// HTTP with the demo data, and checks that another company sees none of it.
func TestTicketWalkthrough(t *testing.T) {
	env := testEnv(t)
	runCommand(t, env, "migrate")
	logins := demoLogins(t, runCommand(t, env, "seed-demo"))
	anon := &client{t: t, base: startServer(t, env)}
	customer := anon.login(logins["client"][0], logins["client"][1])
	dispatcher := anon.login(logins["dispatcher"][0], logins["dispatcher"][1])
	engineer := anon.login(logins["engineer"][0], logins["engineer"][1])
	admin := anon.login(logins["admin"][0], logins["admin"][1])

	// The client finds one of their assets and files a fault against it.
	assets := customer.must(http.StatusOK, "GET", "/api/v1/assets?limit=5", nil)["items"].([]any)
	if len(assets) == 0 {
		t.Fatal("the demo client has no assets")
	}
	own := customer.must(http.StatusOK, "GET", "/api/v1/auth/me", nil)["client_id"]
	for _, a := range customer.must(http.StatusOK, "GET", "/api/v1/assets?limit=500", nil)["items"].([]any) {
		if a.(map[string]any)["client_id"] != own {
			t.Fatalf("the client lists another company's asset %v", a)
		}
	}
	// Equipment without a demo checklist: TestEvidenceWalkthrough covers checklists.
	var asset map[string]any
	for _, a := range customer.must(http.StatusOK, "GET", "/api/v1/assets?limit=500", nil)["items"].([]any) {
		if typ := a.(map[string]any)["asset_type"]; asset == nil && typ != "refrigeration" && typ != "elevator" {
			asset = a.(map[string]any)
		}
	}
	if asset == nil {
		t.Fatal("the demo client has no equipment without a checklist")
	}
	created := customer.must(http.StatusCreated, "POST", "/api/v1/tickets", map[string]any{
		"asset_id": asset["id"], "kind": "incident", "title": "Не включается оборудование", "description": "Нет индикации"})
	id := created["id"].(string)
	// Demo contracts follow DISPATCH_MODE (auto), and the demo's day, late and night
	// shifts cover every hour: the ticket comes back assigned to the best engineer.
	if created["site_id"] != asset["site_id"] || created["status"] != "assigned" || created["assignee_id"] == nil ||
		created["sla"].(map[string]any)["reaction"].(map[string]any)["due_at"] == nil {
		t.Fatalf("filed ticket %v", created)
	}

	// Another company: a user of a different client sees and touches nothing of it.
	var otherClient string
	for _, c := range admin.must(http.StatusOK, "GET", "/api/v1/admin/clients?limit=500", nil)["items"].([]any) {
		if c := c.(map[string]any); c["id"] != created["client_id"] {
			otherClient = c["id"].(string)
			break
		}
	}
	admin.must(http.StatusCreated, "POST", "/api/v1/admin/users", map[string]string{"email": "rival@example.com",
		"full_name": "Конкурент", "role": "client", "client_id": otherClient, "password": "rival password 1"})
	rival := anon.login("rival@example.com", "rival password 1")
	for _, r := range []response{
		rival.do("GET", "/api/v1/tickets/"+id, nil),
		rival.do("GET", "/api/v1/tickets/"+id+"/events", nil),
		rival.do("GET", "/api/v1/tickets/"+id+"/comments", nil),
		rival.do("POST", "/api/v1/tickets/"+id+"/comments", map[string]string{"body": "Привет"}),
		rival.do("POST", "/api/v1/tickets/"+id+"/cancel", map[string]string{"note": "чужое"}),
		rival.do("GET", "/api/v1/assets/"+asset["id"].(string), nil),
		rival.do("GET", "/api/v1/assets/"+asset["id"].(string)+"/history", nil),
	} {
		problem(t, r, http.StatusNotFound, "")
	}
	problem(t, rival.do("POST", "/api/v1/tickets", map[string]any{"asset_id": asset["id"], "kind": "incident", "title": "x"}),
		http.StatusNotFound, "asset_id")
	if items := rival.must(http.StatusOK, "GET", "/api/v1/tickets?client_id="+url.QueryEscape(created["client_id"].(string)), nil)["items"].([]any); len(items) != 0 {
		t.Fatalf("the rival lists %d of another company's tickets", len(items))
	}

	// The dispatcher assigns the demo engineer, who works the ticket.
	me := engineer.must(http.StatusOK, "GET", "/api/v1/auth/me", nil)
	engineers := dispatcher.must(http.StatusOK, "GET", "/api/v1/admin/engineers?q="+url.QueryEscape(me["email"].(string)), nil)["items"].([]any)
	if len(engineers) != 1 {
		t.Fatalf("found %d engineers for %s", len(engineers), me["email"])
	}
	engineerID := engineers[0].(map[string]any)["id"]
	candidates := dispatcher.must(http.StatusOK, "GET", "/api/v1/tickets/"+id+"/candidates", nil)["candidates"].([]any)
	if len(candidates) == 0 || candidates[0].(map[string]any)["distance_m"] == nil {
		t.Fatalf("candidates %v", candidates)
	}
	problem(t, customer.do("GET", "/api/v1/tickets/"+id+"/candidates", nil), http.StatusForbidden, "")
	if created["assignee_id"] != engineerID {
		problem(t, engineer.do("POST", "/api/v1/tickets/"+id+"/accept", nil), http.StatusNotFound, "")
		dispatcher.must(http.StatusOK, "POST", "/api/v1/tickets/"+id+"/assign", map[string]any{"engineer_id": engineerID,
			"note": "Знает это оборудование", "override_capacity": true})
	}
	engineer.must(http.StatusNoContent, "POST", "/api/v1/engineers/me/location", map[string]any{
		"location": map[string]float64{"lat": 55.75, "lng": 37.62}, "accuracy_m": 12})
	problem(t, customer.do("POST", "/api/v1/engineers/me/location", map[string]any{
		"location": map[string]float64{"lat": 55.75, "lng": 37.62}}), http.StatusForbidden, "")
	problem(t, customer.do("POST", "/api/v1/tickets/"+id+"/accept", nil), http.StatusForbidden, "")
	engineer.must(http.StatusOK, "POST", "/api/v1/tickets/"+id+"/accept", nil)
	engineer.must(http.StatusOK, "POST", "/api/v1/tickets/"+id+"/start-travel", "")
	engineer.must(http.StatusOK, "POST", "/api/v1/tickets/"+id+"/start-work", nil)
	engineer.must(http.StatusCreated, "POST", "/api/v1/tickets/"+id+"/comments", map[string]string{"body": "Засорён конденсатор, чищу"})
	conflict := engineer.do("POST", "/api/v1/tickets/"+id+"/start-travel", nil)
	problem(t, conflict, http.StatusConflict, "")
	if conflict.Body["current"].(map[string]any)["status"] != "in_progress" {
		t.Fatalf("a conflict without the current state: %s", conflict.Raw)
	}
	problem(t, engineer.do("POST", "/api/v1/tickets/"+id+"/resolve", map[string]string{}), http.StatusBadRequest, "note")
	problem(t, engineer.do("POST", "/api/v1/tickets/"+id+"/resolve", `{"note": 5}`), http.StatusBadRequest, "note")
	resolved := engineer.must(http.StatusOK, "POST", "/api/v1/tickets/"+id+"/resolve", map[string]string{"note": "Почищен конденсатор, +4 °C"})
	if resolved["status"] != "resolved" || resolved["sla"].(map[string]any)["reaction"].(map[string]any)["met_at"] == nil {
		t.Fatalf("resolved %v", resolved)
	}

	// The client sees the public history and rates the work, which closes it.
	rated := customer.must(http.StatusOK, "POST", "/api/v1/tickets/"+id+"/rate", map[string]any{"score": 5, "comment": "Спасибо"})
	if rated["status"] != "closed" || rated["rating"].(map[string]any)["score"] != 5.0 {
		t.Fatalf("rated %v", rated)
	}
	problem(t, customer.do("POST", "/api/v1/tickets/"+id+"/rate", map[string]any{"score": 9}), http.StatusBadRequest, "score")
	history := customer.must(http.StatusOK, "GET", "/api/v1/assets/"+asset["id"].(string)+"/history", nil)["items"].([]any)
	if len(history) == 0 || len(history[0].(map[string]any)["events"].([]any)) < 6 {
		t.Fatalf("asset history %v", history)
	}
	problem(t, engineer.do("GET", "/api/v1/sites", nil), http.StatusForbidden, "")
	problem(t, customer.do("GET", "/api/v1/tickets?status=lost", nil), http.StatusBadRequest, "status")
	problem(t, customer.do("POST", "/api/v1/tickets/"+id+"/teleport", nil), http.StatusNotFound, "")
}

// demoLogins reads the demo logins seed-demo printed: role → (email, password).
func demoLogins(t *testing.T, seeded string) map[string][2]string {
	t.Helper()
	logins := map[string][2]string{}
	for _, m := range loginLine.FindAllStringSubmatch(seeded, -1) {
		logins[m[1]] = [2]string{m[2], m[3]}
	}
	for _, role := range []string{"admin", "dispatcher", "engineer", "client"} {
		if logins[role][0] == "" {
			t.Fatalf("seed-demo printed no %s login:\n%s", role, seeded)
		}
	}
	return logins
}
