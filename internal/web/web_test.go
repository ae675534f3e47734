package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/geo"
)

type point struct {
	Name     string     `json:"name"`
	Location *geo.Point `json:"location"`
	Count    int        `json:"count"`
}

func testApp(t *testing.T, ready ...Check) *fiber.App {
	t.Helper()
	app := New(Options{
		Logger:         slog.New(slog.NewJSONHandler(io.Discard, nil)),
		RequestTimeout: 50 * time.Millisecond,
		BodyLimit:      1024,
		Registry:       prometheus.NewRegistry(),
		Ready:          ready,
	})
	app.Post("/echo", func(c *fiber.Ctx) error {
		var p point
		if err := DecodeJSON(c, &p); err != nil {
			return err
		}
		return c.JSON(p)
	})
	app.Get("/fail/:kind", func(c *fiber.Ctx) error {
		switch c.Params("kind") {
		case "conflict":
			return &apperr.Error{Code: apperr.Conflict, Message: "state changed", Current: map[string]string{"status": "closed"}}
		case "internal":
			return errors.New("pq: password authentication failed for user secret-user")
		case "panic":
			panic("kaboom")
		case "slow":
			<-c.UserContext().Done()
			return c.UserContext().Err()
		}
		return nil
	})
	return app
}

type result struct {
	status int
	header http.Header
	body   map[string]any
}

func call(t *testing.T, app *fiber.App, method, path, body string, header ...string) result {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := app.Test(req, 5000)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := result{status: res.StatusCode, header: res.Header}
	if strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("bad JSON %q: %v", raw, err)
		}
	}
	return r
}

func fieldOf(r result) string {
	errs, _ := r.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	return errs[0].(map[string]any)["field"].(string)
}

func TestDecodeJSONNamesTheField(t *testing.T) {
	app := testApp(t)
	for _, tc := range []struct {
		name, body, field string
	}{
		{"malformed", `{"name": "x",`, "body"},
		{"not json", `hello`, "body"},
		{"empty", ``, "body"},
		{"two values", `{"name":"a"} {"name":"b"}`, "body"},
		{"wrong type", `{"name": 5}`, "name"},
		{"wrong nested type", `{"location": {"lat": "north", "lng": 1}}`, "location.lat"},
		{"number for int", `{"count": 1.5}`, "count"},
		{"unknown field", `{"name": "x", "colour": "red"}`, "colour"},
		{"array for object", `[1, 2]`, "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, app, "POST", "/echo", tc.body)
			if r.status != 400 || r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d, type %q, body %v", r.status, r.header.Get("Content-Type"), r.body)
			}
			if got := fieldOf(r); got != tc.field {
				t.Fatalf("field %q, want %q (%v)", got, tc.field, r.body)
			}
			if r.body["code"] != "invalid" || r.body["type"] != "urn:fieldsvc:problem:invalid" {
				t.Fatalf("problem %v", r.body)
			}
		})
	}
	ok := call(t, app, "POST", "/echo", `{"name": "ok", "location": {"lat": 55.7, "lng": 37.6}}`)
	if ok.status != 200 || ok.body["name"] != "ok" {
		t.Fatalf("valid body refused: %d %v", ok.status, ok.body)
	}
}

func TestOversizeBodyIs413Problem(t *testing.T) {
	// fasthttp refuses a body by its declared length while reading the request, before
	// any handler, and closes the connection: only a real listener shows what a client
	// gets, and only a client that does not go on writing the body reliably reads it.
	app := testApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusRequestEntityTooLarge || body["code"] != "invalid" ||
		res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d type %q body %v", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}

func TestErrorsBecomeProblemsWithoutLeakingInternals(t *testing.T) {
	app := testApp(t)
	r := call(t, app, "GET", "/fail/conflict", "")
	if r.status != 409 || r.body["detail"] != "state changed" || r.body["current"].(map[string]any)["status"] != "closed" {
		t.Fatalf("conflict: %d %v", r.status, r.body)
	}
	for _, kind := range []string{"internal", "panic"} {
		r = call(t, app, "GET", "/fail/"+kind, "")
		if r.status != 500 || r.body["code"] != "internal" {
			t.Fatalf("%s: %d %v", kind, r.status, r.body)
		}
		if detail, _ := r.body["detail"].(string); strings.Contains(detail, "secret-user") || strings.Contains(detail, "kaboom") {
			t.Fatalf("%s leaks internals: %v", kind, r.body)
		}
		if r.body["request_id"] == "" || r.body["request_id"] != r.header.Get("X-Request-ID") {
			t.Fatalf("%s: request id missing from the problem: %v", kind, r.body)
		}
	}
	r = call(t, app, "GET", "/fail/slow", "")
	if r.status != 503 || r.body["code"] != "unavailable" {
		t.Fatalf("timeout: %d %v", r.status, r.body)
	}
	r = call(t, app, "GET", "/no/such/route", "")
	if r.status != 404 || r.body["code"] != "not_found" {
		t.Fatalf("unknown route: %d %v", r.status, r.body)
	}
}

func TestRequestIDIsKeptWhenSaneAndReplacedOtherwise(t *testing.T) {
	app := testApp(t)
	if got := call(t, app, "GET", "/healthz", "", "X-Request-ID", "abc-123").header.Get("X-Request-ID"); got != "abc-123" {
		t.Fatalf("kept id: %q", got)
	}
	got := call(t, app, "GET", "/healthz", "", "X-Request-ID", "<script>").header.Get("X-Request-ID")
	if got == "" || got == "<script>" {
		t.Fatalf("unsafe id not replaced: %q", got)
	}
}

func TestReadyzReportsEachCheck(t *testing.T) {
	down := errors.New("connection refused")
	app := testApp(t,
		Check{Name: "database", Check: func(context.Context) error { return nil }},
		Check{Name: "storage", Check: func(context.Context) error { return down }})
	r := call(t, app, "GET", "/readyz", "")
	checks, _ := r.body["checks"].(map[string]any)
	if r.status != 503 || checks["database"] != "ok" || checks["storage"] != "failed" {
		t.Fatalf("readyz: %d %v", r.status, r.body)
	}
	if r := call(t, testApp(t), "GET", "/healthz", ""); r.status != 200 {
		t.Fatalf("healthz: %d", r.status)
	}
}

func TestReadyzShowsDisabledPartsAndStaysReady(t *testing.T) {
	app := testApp(t,
		Check{Name: "database", Check: func(context.Context) error { return nil }},
		Check{Name: "push", Check: func(context.Context) error { return fmt.Errorf("no credentials: %w", ErrDisabled) }})
	r := call(t, app, "GET", "/readyz", "")
	checks, _ := r.body["checks"].(map[string]any)
	if r.status != 200 || r.body["status"] != "ready" || checks["push"] != "disabled" || checks["database"] != "ok" {
		t.Fatalf("readyz: %d %v", r.status, r.body)
	}
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	app := testApp(t)
	call(t, app, "POST", "/echo", `{"name":"a"}`)
	call(t, app, "GET", "/fail/conflict", "")
	req := httptest.NewRequest("GET", "/metrics", nil)
	res, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		`http_requests_total{method="POST",route="/echo",status="200"} 1`,
		`http_requests_total{method="GET",route="/fail/:kind",status="409"} 1`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// Behind a trusted proxy the client's address comes from X-Forwarded-For; from anyone
// else the header is ignored, so a client cannot pick the address its rate limit counts.
func TestClientAddressBehindTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		trusted []string
		want    string
	}{
		{[]string{"0.0.0.0/8"}, "203.0.113.7"}, // app.Test's connections come from 0.0.0.0
		{[]string{"10.0.0.0/8"}, "0.0.0.0"},
		{nil, "0.0.0.0"},
	} {
		app := New(Options{Logger: slog.New(slog.DiscardHandler), RequestTimeout: time.Second, BodyLimit: 1024,
			Registry: prometheus.NewRegistry(), TrustedProxies: tc.trusted})
		app.Get("/ip", func(c *fiber.Ctx) error { return c.SendString(c.IP()) })
		req := httptest.NewRequest("GET", "/ip", nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.7, 10.1.2.3")
		res, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		if string(body) != tc.want {
			t.Errorf("trusting %v: the client is %q, want %q", tc.trusted, body, tc.want)
		}
	}
}
