package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// TestEvidenceWalkthrough is a checklist and a photo from the manager's template to the
// client's download, over HTTP against real PostgreSQL and MinIO: the engineer's app
// uploads a photo straight to storage, answers the checklist offline, is refused a
// resolution while a required item is open, and the completed checklist is archived.
func TestEvidenceWalkthrough(t *testing.T) {
	env := testEnv(t)
	env["DISPATCH_MODE"] = "off"
	env["SLA_SWEEP_INTERVAL"] = "1s"
	runCommand(t, env, "migrate")
	logins := demoLogins(t, runCommand(t, env, "seed-demo"))
	anon := &client{t: t, base: startServer(t, env)}
	manager := anon.login(logins["manager"][0], logins["manager"][1])
	dispatcher := anon.login(logins["dispatcher"][0], logins["dispatcher"][1])
	customer := anon.login(logins["client"][0], logins["client"][1])
	app := anon.login(logins["engineer"][0], logins["engineer"][1])

	tpl := manager.must(http.StatusCreated, "POST", "/api/v1/checklist-templates", map[string]any{
		"name": "Консультация на месте", "ticket_kinds": []string{"consultation"}, "items": []map[string]any{
			{"id": "explained", "type": "yes_no", "label": "Клиенту объяснена работа", "required": true},
			{"id": "photo", "type": "photo", "label": "Фото оборудования", "required": true},
		}})
	problem(t, dispatcher.do("POST", "/api/v1/checklist-templates", map[string]any{"name": "x"}), http.StatusForbidden, "")

	assets := customer.must(http.StatusOK, "GET", "/api/v1/assets?limit=1", nil)["items"].([]any)
	ticket := customer.must(http.StatusCreated, "POST", "/api/v1/tickets", map[string]any{
		"asset_id": assets[0].(map[string]any)["id"], "kind": "consultation", "title": "Как перенастроить режим?"})
	id := ticket["id"].(string)
	me := app.must(http.StatusOK, "GET", "/api/v1/auth/me", nil)
	engineers := dispatcher.must(http.StatusOK, "GET", "/api/v1/admin/engineers?q="+url.QueryEscape(me["email"].(string)), nil)["items"].([]any)
	dispatcher.must(http.StatusOK, "POST", "/api/v1/tickets/"+id+"/assign", map[string]any{
		"engineer_id": engineers[0].(map[string]any)["id"], "override_capacity": true})

	lists := list(t, app.do("GET", "/api/v1/tickets/"+id+"/checklists", nil))
	if len(lists) != 1 || lists[0]["template_id"] != tpl["id"] {
		t.Fatalf("the new ticket's checklists: %v", lists)
	}
	checklist := lists[0]["id"].(string)

	// The app registers, then uploads a photo: a slot, the bytes straight to storage, confirm.
	device := uuid.NewString()
	reg := app.must(http.StatusCreated, "POST", "/mobile/v1/devices", map[string]any{"id": device, "platform": "android", "app_version": "2.0.0"})
	app.token = reg["tokens"].(map[string]any)["access_token"].(string)
	photo := bytes.Repeat([]byte("jpeg bytes of a control panel "), 1000)
	sum := sha256.Sum256(photo)
	photoID := uuid.NewString()
	slot := app.must(http.StatusCreated, "POST", "/mobile/v1/uploads", map[string]any{"ticket_id": id, "id": photoID,
		"kind": "photo", "file_name": "panel.jpg", "content_type": "image/jpeg", "size": len(photo),
		"sha256": hex.EncodeToString(sum[:]), "public": true})
	problem(t, app.do("POST", "/mobile/v1/uploads/"+photoID+"/confirm", nil), http.StatusConflict, "")
	up := slot["upload"].(map[string]any)
	req, _ := http.NewRequest(up["method"].(string), up["url"].(string), bytes.NewReader(photo))
	for k, v := range up["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("PUT to the presigned URL: %v %v", res, err)
	}
	res.Body.Close()
	if c := app.must(http.StatusOK, "POST", "/mobile/v1/uploads/"+photoID+"/confirm", nil); c["status"] != "confirmed" {
		t.Fatalf("confirmed upload %v", c)
	}

	// Offline work, pushed at once: resolving is refused while "explained" is open.
	push := func(mutations ...map[string]any) []any {
		t.Helper()
		r := app.doWith("POST", "/mobile/v1/sync/push", map[string]any{"mutations": mutations}, "X-Device-ID", device)
		if r.Status != http.StatusOK {
			t.Fatalf("push: %d %s", r.Status, r.Raw)
		}
		return r.Body["results"].([]any)
	}
	step := func(action string) map[string]any {
		return map[string]any{"id": uuid.NewString(), "type": "ticket.action", "ticket_id": id, "action": action, "note": "Настроен режим"}
	}
	answer := func(item string, value any) map[string]any {
		return map[string]any{"id": uuid.NewString(), "type": "checklist.answer", "ticket_id": id, "checklist_id": checklist,
			"item_id": item, "value": value, "base_version": 0}
	}
	results := push(step("accept"), step("start-work"), answer("photo", []string{photoID}), step("resolve"),
		answer("explained", true), step("resolve"))
	var statuses []string
	for _, r := range results {
		statuses = append(statuses, r.(map[string]any)["status"].(string))
	}
	if strings.Join(statuses, " ") != "applied applied applied rejected applied applied" {
		t.Fatalf("push results %v", results)
	}
	if f := results[3].(map[string]any)["fields"].(map[string]any); f["checklists."+checklist+".explained"] == nil {
		t.Fatalf("the refused resolution does not name the open item: %v", results[3])
	}

	// The client sees the public photo and, once the sweep has stored it, the act.
	if files := list(t, customer.do("GET", "/api/v1/tickets/"+id+"/attachments", nil)); len(files) != 1 || files[0]["id"] != photoID {
		t.Fatalf("the client's attachments: %v", files)
	}
	link := customer.must(http.StatusOK, "GET", "/api/v1/attachments/"+photoID+"/url", nil)
	if got := download(t, link["url"].(string)); !bytes.Equal(got, photo) {
		t.Fatal("the downloaded photo differs from the uploaded one")
	}
	var archive map[string]any
	for deadline := time.Now().Add(20 * time.Second); archive == nil; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the checklist was not archived within 20 s")
		}
		if a := list(t, customer.do("GET", "/api/v1/tickets/"+id+"/checklist-archives", nil)); len(a) == 1 && a[0]["archived_at"] != nil {
			archive = a[0]
		}
	}
	act := customer.must(http.StatusOK, "GET", "/api/v1/checklist-archives/"+archive["id"].(string)+"/url?document=act", nil)
	page := download(t, act["url"].(string))
	actSum := sha256.Sum256(page)
	if hex.EncodeToString(actSum[:]) != archive["act_sha256"] || !bytes.Contains(page, []byte("Клиенту объяснена работа")) {
		t.Fatalf("the act does not match its recorded checksum or lacks the checklist:\n%s", page)
	}
}

func download(t *testing.T, u string) []byte {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, res.StatusCode, body)
	}
	return body
}

// list reads a 200 answer that is a JSON array of objects.
func list(t *testing.T, r response) []map[string]any {
	t.Helper()
	var out []map[string]any
	if r.Status != http.StatusOK || json.Unmarshal(r.Raw, &out) != nil {
		t.Fatalf("want a list: %d %s", r.Status, r.Raw)
	}
	return out
}

// TestStorageBucketComesBack: a bucket missing while the server runs (storage was down
// at start, or someone removed it) is created again by the periodic sweep.
func TestStorageBucketComesBack(t *testing.T) {
	env := testEnv(t)
	env["S3_BUCKET"] = "fieldsvc-test-" + strings.ToLower(uuid.NewString()[:8])
	env["SLA_SWEEP_INTERVAL"] = "1s"
	runCommand(t, env, "migrate")
	anon := &client{t: t, base: startServer(t, env)}
	s3, err := minio.New(env["S3_ENDPOINT"], &minio.Options{Creds: credentials.NewStaticV4(env["S3_ACCESS_KEY"], env["S3_SECRET_KEY"], "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Cleanup(func() {
		_ = s3.RemoveBucketWithOptions(ctx, env["S3_BUCKET"], minio.RemoveBucketOptions{ForceDelete: true})
	})
	if err := s3.RemoveBucket(ctx, env["S3_BUCKET"]); err != nil {
		t.Fatalf("the server did not create its bucket at start: %v", err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if ok, err := s3.BucketExists(ctx, env["S3_BUCKET"]); err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bucket was not created again within 15 s")
		}
	}
	if r := anon.do("GET", "/readyz", nil); r.Status != http.StatusOK {
		t.Fatalf("readyz after the bucket came back: %d %s", r.Status, r.Raw)
	}
	// The periodic jobs report on /metrics once a run has finished (the bucket is back
	// early in the storage job's run).
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		metrics := anon.do("GET", "/metrics", nil)
		if strings.Contains(string(metrics.Raw), `fieldsvc_job_runs_total{job="storage-upkeep",outcome="ok"}`) &&
			strings.Contains(string(metrics.Raw), `fieldsvc_job_duration_seconds_count{job="sla-sweep"}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics has no job metrics:\n%s", metrics.Raw)
		}
	}
}
