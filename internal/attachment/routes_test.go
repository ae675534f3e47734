package attachment_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"fieldsvc/internal/attachment"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/web"
)

// app is the platform app with the attachment routes behind a fake authn: the caller
// is the principal named by the X-Test-User header.
func (w *world) app(users map[string]auth.Principal) *fiber.App {
	app := web.New(web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RequestTimeout: 30 * time.Second,
		BodyLimit: 1 << 20, Registry: prometheus.NewRegistry()})
	authn := func(c *fiber.Ctx) error {
		p, ok := users[c.Get("X-Test-User")]
		if !ok {
			return fiber.ErrUnauthorized
		}
		c.SetUserContext(auth.WithPrincipal(c.UserContext(), p))
		return c.Next()
	}
	w.s.Routes(app.Group("/api/v1"), authn)
	return app
}

// call makes a request as user and decodes the JSON answer into out (when not nil).
func call(t *testing.T, app *fiber.App, user, method, path string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("X-Test-User", user)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, res.StatusCode, raw, err)
		}
	}
	return res.StatusCode
}

func TestRoutes(t *testing.T) {
	w := newWorld(t, attachment.Options{})
	app := w.app(map[string]auth.Principal{"engineer": w.engineer, "other": w.engineer2, "client": w.clientUserA})
	ticketPath := "/api/v1/tickets/" + w.ticketA.String() + "/attachments"
	data := []byte("a photo sent over the API")
	in := photo(data)

	var slot attachment.SlotOut
	if code := call(t, app, "engineer", http.MethodPost, ticketPath, in, &slot); code != http.StatusCreated || slot.Upload == nil {
		t.Fatalf("open a slot: %d %+v", code, slot)
	}
	if code := call(t, app, "engineer", http.MethodPost, ticketPath, in, &slot); code != http.StatusOK {
		t.Fatalf("open the slot again: %d, want 200", code)
	}
	in.Size = 0
	var problem web.Problem
	if code := call(t, app, "engineer", http.MethodPost, ticketPath, in, &problem); code != http.StatusBadRequest ||
		len(problem.Errors) != 1 || problem.Errors[0].Field != "size" {
		t.Fatalf("an empty file: %d %+v, want 400 naming size", code, problem)
	}
	if code, msg := put(t, *slot.Upload, data); code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, msg)
	}
	id := slot.Attachment.ID.String()
	var a attachment.Attachment
	if code := call(t, app, "engineer", http.MethodPost, "/api/v1/attachments/"+id+"/confirm", nil, &a); code != http.StatusOK ||
		a.Status != attachment.Confirmed {
		t.Fatalf("confirm: %d %+v", code, a)
	}
	var list []attachment.Attachment
	if code := call(t, app, "engineer", http.MethodGet, ticketPath, nil, &list); code != http.StatusOK || len(list) != 1 {
		t.Fatalf("list: %d %+v", code, list)
	}
	if code := call(t, app, "client", http.MethodGet, ticketPath, nil, &list); code != http.StatusOK || len(list) != 0 {
		t.Fatalf("list as the client: %d %+v, want none (the photo is not public)", code, list)
	}
	if code := call(t, app, "other", http.MethodGet, ticketPath, nil, nil); code != http.StatusNotFound {
		t.Fatalf("list as another engineer: %d, want 404", code)
	}
	var link attachment.Link
	if code := call(t, app, "engineer", http.MethodGet, "/api/v1/attachments/"+id+"/url", nil, &link); code != http.StatusOK {
		t.Fatalf("url: %d", code)
	}
	if code, body := get(t, link.URL); code != http.StatusOK || body != string(data) {
		t.Fatalf("download: %d %q", code, body)
	}
	if code := call(t, app, "client", http.MethodGet, "/api/v1/attachments/"+id+"/url", nil, nil); code != http.StatusNotFound {
		t.Fatalf("url as the client: %d, want 404", code)
	}
	if code := call(t, app, "engineer", http.MethodGet, "/api/v1/attachments/not-an-id/url", nil, nil); code != http.StatusNotFound {
		t.Fatalf("url of a malformed id: %d, want 404", code)
	}
}
