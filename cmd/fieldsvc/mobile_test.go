package main

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestMobileWalkthrough is the engineer's app over HTTP with the demo data: register the
// device, sync, work a ticket offline and push it, and see the change come back.
func TestMobileWalkthrough(t *testing.T) {
	env := testEnv(t)
	runCommand(t, env, "migrate")
	logins := demoLogins(t, runCommand(t, env, "seed-demo"))
	anon := &client{t: t, base: startServer(t, env)}
	app := anon.login(logins["engineer"][0], logins["engineer"][1])
	device := uuid.NewString()
	reg := app.must(http.StatusCreated, "POST", "/mobile/v1/devices", map[string]any{"id": device, "platform": "android",
		"app_version": "1.4.2", "push_token": "fcm-token-" + device})
	app.token = reg["tokens"].(map[string]any)["access_token"].(string) // the device's own session from now on

	pull := func(cursor string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("GET", app.base+"/mobile/v1/sync/pull?cursor="+url.QueryEscape(cursor), nil)
		req.Header.Set("Authorization", "Bearer "+app.token)
		req.Header.Set("X-Device-ID", device)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := http.DefaultTransport.RoundTrip(req) // no transparent gunzip: see it is compressed
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("pull: %d, encoding %q", res.StatusCode, res.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(zr)
		var page map[string]any
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		return page
	}
	page := pull("")
	tickets := page["changes"].(map[string]any)["tickets"].(map[string]any)["upserted"].([]any)
	var work map[string]any
	for _, tk := range tickets {
		if tk.(map[string]any)["status"] == "assigned" {
			work = tk.(map[string]any)
		}
	}
	if work == nil || page["has_more"] != false {
		t.Fatalf("the demo engineer's first sync has no assigned work: %d tickets, has_more %v", len(tickets), page["has_more"])
	}
	if sites := page["changes"].(map[string]any)["sites"].(map[string]any)["upserted"].([]any); len(sites) == 0 {
		t.Fatal("no sites came with the work")
	}
	cursor := page["next_cursor"].(string)
	id := work["id"].(string)

	push := func(mutations []map[string]any) []any {
		t.Helper()
		r := app.doWith("POST", "/mobile/v1/sync/push", map[string]any{"mutations": mutations}, "X-Device-ID", device)
		if r.Status != http.StatusOK {
			t.Fatalf("push: %d %s", r.Status, r.Raw)
		}
		return r.Body["results"].([]any)
	}
	batch := []map[string]any{
		{"id": uuid.NewString(), "type": "ticket.action", "ticket_id": id, "action": "accept"},
		{"id": uuid.NewString(), "type": "ticket.action", "ticket_id": id, "action": "start-work"},
		{"id": uuid.NewString(), "type": "comment.add", "ticket_id": id, "body": "На месте, приступаю"},
	}
	for _, r := range push(batch) {
		if r.(map[string]any)["status"] != "applied" {
			t.Fatalf("push result %v", r)
		}
	}
	for _, r := range push(batch) {
		if r.(map[string]any)["status"] != "duplicate" {
			t.Fatalf("replayed push result %v", r)
		}
	}
	// One mutation the app got wrong is refused alone, naming its field; the rest apply.
	mixed := push([]map[string]any{
		{"id": uuid.NewString(), "type": "ticket.action", "ticket_id": id, "action": "wait", "waiting_on": "parts", "version": "seven"},
		{"id": uuid.NewString(), "type": "comment.add", "ticket_id": id, "body": "Ждём запчасть"},
	})
	bad := mixed[0].(map[string]any)
	if bad["status"] != "rejected" || bad["fields"].(map[string]any)["version"] == nil || mixed[1].(map[string]any)["status"] != "applied" {
		t.Fatalf("a malformed mutation in a batch: %v", mixed)
	}
	// The changes come with the next pulls: a pull stops short of transactions still
	// running (the server's own periodic jobs, say), and what they hold back comes with
	// the pull after.
	changed, comments := map[string]any{}, map[string]bool{}
	for try := 0; try < 50 && len(comments) < 2; try++ {
		if try > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		page := pull(cursor)
		cursor = page["next_cursor"].(string)
		next := page["changes"].(map[string]any)
		for _, tk := range next["tickets"].(map[string]any)["upserted"].([]any) {
			changed[tk.(map[string]any)["id"].(string)] = tk.(map[string]any)["status"]
		}
		for _, c := range next["comments"].(map[string]any)["upserted"].([]any) {
			comments[c.(map[string]any)["id"].(string)] = true
		}
	}
	if len(changed) != 1 || changed[id] != "in_progress" || len(comments) != 2 {
		t.Fatalf("the next pulls: tickets %v, %d comments", changed, len(comments))
	}
	problem(t, app.doWith("GET", "/mobile/v1/sync/pull", nil, "X-Device-ID", "not-a-device"), http.StatusBadRequest, "X-Device-ID")
	problem(t, app.doWith("GET", "/mobile/v1/sync/pull", nil, "X-Device-ID", uuid.NewString()), http.StatusNotFound, "")

	// An admin revokes the device (lost phone): its session ends at once.
	admin := anon.login(logins["admin"][0], logins["admin"][1])
	admin.must(http.StatusOK, "POST", "/api/v1/admin/devices/"+device+"/revoke", nil)
	problem(t, app.doWith("GET", "/mobile/v1/sync/pull", nil, "X-Device-ID", device), http.StatusUnauthorized, "")
	problem(t, anon.do("POST", "/api/v1/auth/refresh", map[string]any{"refresh_token": reg["tokens"].(map[string]any)["refresh_token"]}),
		http.StatusUnauthorized, "")
	// The lost phone cannot sign itself back in with a token it still holds.
	again := anon.login(logins["engineer"][0], logins["engineer"][1])
	problem(t, again.do("POST", "/mobile/v1/devices", map[string]any{"id": device, "platform": "android", "app_version": "1.4.2"}),
		http.StatusConflict, "id")
	problem(t, again.doWith("POST", "/mobile/v1/sync/push", `{"mutations": []}`, "Content-Encoding", "gzip"), http.StatusUnsupportedMediaType, "")
}
