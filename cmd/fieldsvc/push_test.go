package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestPushWalkthrough runs the server without FCM credentials, as `make run` does: it is
// ready with push disabled, staff and clients register devices, the changes they should
// hear of are queued in the outbox, and the worker marks them skipped.
func TestPushWalkthrough(t *testing.T) {
	env := testEnv(t)
	runCommand(t, env, "migrate")
	logins := demoLogins(t, runCommand(t, env, "seed-demo"))
	anon := &client{t: t, base: startServer(t, env)}
	ready := anon.must(http.StatusOK, "GET", "/readyz", nil)
	if ready["status"] != "ready" || ready["checks"].(map[string]any)["push"] != "disabled" {
		t.Fatalf("readyz without FCM credentials: %v", ready)
	}
	customer := anon.login(logins["client"][0], logins["client"][1])
	dispatcher := anon.login(logins["dispatcher"][0], logins["dispatcher"][1])
	engineer := anon.login(logins["engineer"][0], logins["engineer"][1])
	admin := anon.login(logins["admin"][0], logins["admin"][1])

	device := map[string]string{"platform": "web", "app_version": "desk 1.0", "push_token": "dispatcher-browser"}
	dispatcher.must(http.StatusOK, "PUT", "/api/v1/push/devices/"+uuid.NewString(), device)
	device["platform"], device["push_token"] = "ios", "client-phone"
	customer.must(http.StatusOK, "PUT", "/api/v1/push/devices/"+uuid.NewString(), device)
	problem(t, engineer.do("PUT", "/api/v1/push/devices/"+uuid.NewString(), device), http.StatusForbidden, "")

	// The client files a fault (auto-dispatch assigns it: they hear of it) and writes on
	// it (the dispatcher on duty hears of that).
	asset := customer.must(http.StatusOK, "GET", "/api/v1/assets?limit=1", nil)["items"].([]any)[0].(map[string]any)
	ticket := customer.must(http.StatusCreated, "POST", "/api/v1/tickets", map[string]any{
		"asset_id": asset["id"], "kind": "incident", "title": "Не включается касса"})
	customer.must(http.StatusCreated, "POST", "/api/v1/tickets/"+ticket["id"].(string)+"/comments", map[string]string{"body": "Срочно"})

	pool := poolFor(t, env)
	var reasons string
	deadline := time.Now().Add(15 * time.Second)
	for {
		var pending int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE status <> 'skipped'),
			coalesce(string_agg(reason, ',' ORDER BY reason), '') FROM push_outbox`).Scan(&pending, &reasons)
		if err != nil {
			t.Fatal(err)
		}
		if pending == 0 && reasons != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox (%s) still has %d messages not skipped", reasons, pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if reasons != "client_comment,status" {
		t.Fatalf("queued %q, want the client's status notification and the dispatcher's comment notification", reasons)
	}
	metrics := anon.do("GET", "/metrics", nil)
	if !strings.Contains(string(metrics.Raw), `fieldsvc_push_messages_total{outcome="skipped"} 2`) {
		t.Errorf("metrics do not count the skipped messages:\n%s", metrics.Raw)
	}
	if items := admin.must(http.StatusOK, "GET", "/api/v1/admin/push/dead-letters", nil)["items"].([]any); len(items) != 0 {
		t.Errorf("dead letters: %v", items)
	}
	problem(t, dispatcher.do("GET", "/api/v1/admin/push/dead-letters", nil), http.StatusForbidden, "")
}
