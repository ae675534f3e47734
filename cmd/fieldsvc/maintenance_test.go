package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestMaintenanceWalkthrough is a manager planning preventive maintenance over HTTP:
// plans for one asset and for a set, work orders made ahead and released to dispatch by
// the server's own periodic jobs, the calendar, and a client reading their compliance.
func TestMaintenanceWalkthrough(t *testing.T) {
	env := testEnv(t)
	env["SLA_SWEEP_INTERVAL"] = "1s"
	runCommand(t, env, "migrate")
	logins := demoLogins(t, runCommand(t, env, "seed-demo"))
	anon := &client{t: t, base: startServer(t, env)}
	manager := anon.login(logins["manager"][0], logins["manager"][1])
	dispatcher := anon.login(logins["dispatcher"][0], logins["dispatcher"][1])
	customer := anon.login(logins["client"][0], logins["client"][1])
	engineer := anon.login(logins["engineer"][0], logins["engineer"][1])

	asset := customer.must(http.StatusOK, "GET", "/api/v1/assets?limit=1", nil)["items"].([]any)[0].(map[string]any)
	today := time.Now().UTC().Format(time.DateOnly)
	plan := map[string]any{"asset_id": asset["id"], "name": "Ежедневный осмотр", "cron": "0 9 * * *",
		"horizon_days": 3, "lead_hours": 72, "duration_minutes": 30, "starts_on": today}

	problem(t, manager.do("POST", "/api/v1/maintenance/plans", with(plan, "cron", "* * * * *")), http.StatusBadRequest, "cron")
	problem(t, manager.do("POST", "/api/v1/maintenance/plans", with(plan, "interval_days", 30)), http.StatusBadRequest, "cron")
	problem(t, manager.do("POST", "/api/v1/maintenance/plans", with(plan, "starts_on", "tomorrow")), http.StatusBadRequest, "starts_on")
	problem(t, dispatcher.do("POST", "/api/v1/maintenance/plans", plan), http.StatusForbidden, "")
	problem(t, engineer.do("GET", "/api/v1/maintenance/plans", nil), http.StatusForbidden, "")
	problem(t, customer.do("GET", "/api/v1/maintenance/forecast?from=2026-01-01&to=2026-02-01", nil), http.StatusForbidden, "")

	created := manager.must(http.StatusCreated, "POST", "/api/v1/maintenance/plans", plan)
	id := created["id"].(string)
	if created["next_due_at"] == nil || created["site_id"] != asset["site_id"] || created["version"].(float64) != 1 {
		t.Fatalf("the plan as created: %v", created)
	}
	// Its work orders are made at once, and the dispatch sweep releases them, since
	// their lead time has come.
	var orders []any
	for _, tk := range dispatcher.must(http.StatusOK, "GET", "/api/v1/tickets?limit=500&asset_id="+asset["id"].(string), nil)["items"].([]any) {
		if tk.(map[string]any)["kind"] == "preventive" {
			orders = append(orders, tk)
		}
	}
	if len(orders) < 2 || len(orders) > 4 {
		t.Fatalf("%d work orders for three days of a daily plan", len(orders))
	}
	first := orders[len(orders)-1].(map[string]any)
	if first["scheduled_for"] == nil || first["sla"].(map[string]any)["reaction"].(map[string]any)["state"] != "none" {
		t.Fatalf("a work order: %v", first)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		tk := dispatcher.must(http.StatusOK, "GET", "/api/v1/tickets/"+first["id"].(string), nil)
		if tk["dispatch_after"] == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the work order was not released to dispatch: %v", tk)
		}
		time.Sleep(200 * time.Millisecond)
	}

	problem(t, manager.do("PUT", "/api/v1/maintenance/plans/"+id, plan), http.StatusBadRequest, "version")
	problem(t, manager.do("PUT", "/api/v1/maintenance/plans/"+id, with(plan, "version", 7)), http.StatusConflict, "version")
	edited := manager.must(http.StatusOK, "PUT", "/api/v1/maintenance/plans/"+id, with(with(plan, "version", 1), "duration_minutes", 45))
	if edited["version"].(float64) != 2 || edited["duration_minutes"].(float64) != 45 {
		t.Fatalf("edited: %v", edited)
	}

	// A client reads their own company's compliance, whatever client they ask for.
	report := customer.must(http.StatusOK, "GET", "/api/v1/maintenance/compliance?client_id=00000000-0000-7000-8000-000000000000&from="+
		time.Now().UTC().AddDate(0, -1, 0).Format(time.DateOnly)+"&to="+url.QueryEscape(time.Now().UTC().AddDate(0, 1, 0).Format(time.DateOnly)), nil)["items"].([]any)
	if len(report) != 1 || report[0].(map[string]any)["client_id"] != created["client_id"] {
		t.Fatalf("the client's compliance: %v", report)
	}

	paused := manager.must(http.StatusOK, "POST", "/api/v1/maintenance/plans/"+id+"/deactivate", nil)
	if paused["active"] != false {
		t.Fatalf("paused: %v", paused)
	}

	bulk := map[string]any{"asset_type": asset["asset_type"], "site_id": asset["site_id"],
		"plan": map[string]any{"name": "Квартальное ТО", "cron": "0 10 1 */3 *", "duration_minutes": 120, "starts_on": today}}
	made := manager.must(http.StatusCreated, "POST", "/api/v1/maintenance/plans/bulk", bulk)
	n := len(made["created"].([]any))
	if n == 0 {
		t.Fatalf("bulk: %v", made)
	}
	again := manager.must(http.StatusCreated, "POST", "/api/v1/maintenance/plans/bulk", bulk)
	if len(again["created"].([]any)) != 0 || int(again["skipped"].(float64)) != n {
		t.Fatalf("bulk again: %v", again)
	}
	quarterly := 0
	for _, p := range manager.must(http.StatusOK, "GET", "/api/v1/maintenance/plans?limit=500&active=true&site_id="+asset["site_id"].(string), nil)["items"].([]any) {
		if p.(map[string]any)["name"] == "Квартальное ТО" {
			quarterly++
		}
	}
	if quarterly != n {
		t.Fatalf("%d quarterly plans at the site, want the %d just made", quarterly, n)
	}

	to := time.Now().UTC().AddDate(0, 6, 0).Format(time.DateOnly)
	forecast := dispatcher.must(http.StatusOK, "GET", "/api/v1/maintenance/forecast?group=week&by=site&from="+today+"&to="+to, nil)
	total := 0
	for _, b := range forecast["buckets"].([]any) {
		total += int(b.(map[string]any)["occurrences"].(float64))
	}
	if total < n { // each quarterly plan falls at least once in six months
		t.Fatalf("forecast: %v", forecast)
	}
	problem(t, dispatcher.do("GET", "/api/v1/maintenance/forecast?from="+to+"&to="+today, nil), http.StatusBadRequest, "to")
	manager.must(http.StatusOK, "GET", "/api/v1/maintenance/load?from="+today+"&to="+to, nil)

}
