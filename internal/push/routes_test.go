package push_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"fieldsvc/internal/auth"
	"fieldsvc/internal/push"
	"fieldsvc/internal/web"
)

// app is the platform app with the push routes behind a fake authn: the caller is the
// principal named by the X-Test-User header.
func (w *world) app(s *push.Service, users map[string]auth.Principal) *fiber.App {
	app := web.New(web.Options{Logger: slog.New(slog.DiscardHandler), RequestTimeout: 30 * time.Second,
		BodyLimit: 1 << 20, Registry: prometheus.NewRegistry()})
	authn := func(c *fiber.Ctx) error {
		p, ok := users[c.Get("X-Test-User")]
		if !ok {
			return fiber.ErrUnauthorized
		}
		c.SetUserContext(auth.WithPrincipal(c.UserContext(), p))
		return c.Next()
	}
	api := app.Group("/api/v1")
	s.Routes(api, authn)
	s.AdminRoutes(api.Group("/admin", authn))
	return app
}

// call makes a request as user and returns the status and the decoded JSON answer.
func call(t *testing.T, app *fiber.App, user, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		must(t, err)
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("X-Test-User", user)
	req.Header.Set("Content-Type", "application/json")
	res, err := app.Test(req, -1)
	must(t, err)
	defer res.Body.Close()
	var out map[string]any
	raw, err := io.ReadAll(res.Body)
	must(t, err)
	if len(raw) > 0 {
		must(t, json.Unmarshal(raw, &out))
	}
	return res.StatusCode, out
}

func TestDeviceRegistration(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s, _ := w.service(false)
	app := w.app(s, map[string]auth.Principal{"dispatcher": w.dispatcher, "client": w.clientUser, "engineer": w.tech1})
	phone, laptop := "/api/v1/push/devices/"+uuid.NewString(), "/api/v1/push/devices/"+uuid.NewString()
	in := map[string]any{"platform": "android", "app_version": "3.1.0", "push_token": "token-a"}

	status, d := call(t, app, "dispatcher", "PUT", phone, in)
	if status != 200 || d["push_token"] != "token-a" || d["user_id"] != w.dispatcher.UserID.String() {
		t.Fatalf("register: %d %v", status, d)
	}
	in["push_token"] = "token-b"
	if status, d := call(t, app, "dispatcher", "PUT", phone, in); status != 200 || d["push_token"] != "token-b" {
		t.Fatalf("new token: %d %v", status, d)
	}
	// The token moves to the laptop (the same browser profile, say).
	in["platform"] = "web"
	if status, _ := call(t, app, "dispatcher", "PUT", laptop, in); status != 200 {
		t.Fatalf("second device: %d", status)
	}
	var moved *string
	must(t, w.pool.QueryRow(t.Context(), `SELECT push_token FROM devices WHERE id = $1`, d["id"]).Scan(&moved))
	if moved != nil {
		t.Fatalf("the first device kept the token: %v", *moved)
	}
	// The dispatcher is on duty: a client's comment reaches the laptop.
	w.comment(w.clientUser, w.ticket, "public")
	if rows := w.outbox(); len(rows) != 1 || rows[0].Reason != "client_comment" {
		t.Fatalf("outbox: %+v", rows)
	}

	for _, c := range []struct {
		user, path string
		body       map[string]any
		status     int
		field      string
	}{
		{"engineer", "/api/v1/push/devices/" + uuid.NewString(), in, 403, ""},
		{"client", laptop, in, 409, "id"},
		{"client", "/api/v1/push/devices/" + uuid.NewString(), map[string]any{"platform": "symbian", "app_version": "1", "push_token": "x"}, 400, "platform"},
		{"client", "/api/v1/push/devices/" + uuid.NewString(), map[string]any{"platform": "ios", "app_version": "1"}, 400, "push_token"},
		{"client", "/api/v1/push/devices/" + uuid.NewString(), map[string]any{"platform": "ios", "app_version": "1", "push_token": "not a token"}, 400, "push_token"},
		{"client", "/api/v1/push/devices/not-an-id", in, 404, ""},
	} {
		status, body := call(t, app, c.user, "PUT", c.path, c.body)
		if status != c.status || (c.field != "" && !names(body, c.field)) {
			t.Errorf("PUT %s as %s: %d %v, want %d naming %q", c.path, c.user, status, body, c.status, c.field)
		}
	}

	if status, _ := call(t, app, "client", "DELETE", laptop, nil); status != 404 {
		t.Errorf("deleting another user's device: %d, want 404", status)
	}
	if status, d := call(t, app, "dispatcher", "DELETE", laptop, nil); status != 200 || d["push_token"] != nil {
		t.Fatalf("unregister: %d %v", status, d)
	}
	w.exec(`DELETE FROM push_outbox`)
	w.comment(w.clientUser, w.ticket, "public")
	if rows := w.outbox(); len(rows) != 0 {
		t.Fatalf("off duty, the dispatcher still gets %+v", rows)
	}
}

func names(problem map[string]any, field string) bool {
	errs, _ := problem["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["field"] == field {
			return true
		}
	}
	return false
}

func TestDeadLetterRoutes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.device(w.clientUser, "client-phone")
	s, _ := w.service(false)
	app := w.app(s, map[string]auth.Principal{"admin": w.admin, "dispatcher": w.dispatcher})
	w.assigned()
	w.exec(`UPDATE push_outbox SET status = 'dead', attempts = 8, last_error = 'FCM answered 500', finished_at = now()`)
	var id uuid.UUID
	must(t, w.pool.QueryRow(t.Context(), `SELECT id FROM push_outbox`).Scan(&id))

	if status, _ := call(t, app, "dispatcher", "GET", "/api/v1/admin/push/dead-letters", nil); status != 403 {
		t.Fatalf("a dispatcher lists dead letters: %d", status)
	}
	status, page := call(t, app, "admin", "GET", "/api/v1/admin/push/dead-letters?limit=10", nil)
	items, _ := page["items"].([]any)
	if status != 200 || len(items) != 1 || items[0].(map[string]any)["id"] != id.String() ||
		items[0].(map[string]any)["last_error"] != "FCM answered 500" {
		t.Fatalf("list: %d %v", status, page)
	}
	retry := "/api/v1/admin/push/dead-letters/" + id.String() + "/retry"
	if status, m := call(t, app, "admin", "POST", retry, nil); status != 200 || m["status"] != "pending" || m["attempts"] != 0.0 {
		t.Fatalf("retry: %d %v", status, m)
	}
	if status, m := call(t, app, "admin", "POST", retry, nil); status != 409 || m["current"].(map[string]any)["status"] != "pending" {
		t.Fatalf("retrying a pending message: %d %v", status, m)
	}
	if status, _ := call(t, app, "admin", "POST", "/api/v1/admin/push/dead-letters/"+uuid.NewString()+"/retry", nil); status != 404 {
		t.Fatalf("retrying an unknown message: %d", status)
	}
	if status, _ := call(t, app, "admin", "GET", "/api/v1/admin/push/dead-letters?limit=0", nil); status != 400 {
		t.Fatalf("a bad limit: %d", status)
	}
	// Every dead letter at once.
	w.exec(`UPDATE push_outbox SET status = 'dead', finished_at = now()`)
	if status, _ := call(t, app, "dispatcher", "POST", "/api/v1/admin/push/dead-letters/retry", nil); status != 403 {
		t.Fatalf("a dispatcher retries dead letters: %d", status)
	}
	if status, _ := call(t, app, "admin", "POST", "/api/v1/admin/push/dead-letters/retry?since=yesterday", nil); status != 400 {
		t.Fatalf("a bad since: %d", status)
	}
	if status, m := call(t, app, "admin", "POST", "/api/v1/admin/push/dead-letters/retry?since=2020-01-01T03:00:00+03:00", nil); status != 200 || m["retried"] != 1.0 {
		t.Fatalf("retry all: %d %v", status, m)
	}
}
