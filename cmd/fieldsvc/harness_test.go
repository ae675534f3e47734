package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/postgres"
)

// testEnv is the environment of a server under test: its own fresh database, the real
// MinIO that `make test` starts, a random port and cheap password hashing.
func testEnv(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL": dbtest.MustURL(t),
		"JWT_SECRET":   "test-secret-that-is-long-enough-for-hs256",
		"HTTP_ADDR":    "127.0.0.1:0",
		"BCRYPT_COST":  "4",
		"S3_BUCKET":    "fieldsvc-test",
	}
	for _, name := range []string{"S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_USE_SSL"} {
		env[name] = os.Getenv(name)
	}
	if env["S3_ENDPOINT"] == "" {
		t.Fatal("S3_ENDPOINT is not set: run the tests with `make test`, which starts MinIO")
	}
	return env
}

// poolFor connects to the server-under-test's database, for checks behind the API.
func poolFor(t *testing.T, env map[string]string) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Connect(context.Background(), env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// runCommand runs one fieldsvc command to completion and returns what it printed.
func runCommand(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, args, getenv(env), &stdout, &stderr); err != nil {
		t.Fatalf("fieldsvc %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, &stdout, &stderr)
	}
	return stdout.String()
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startServer runs `fieldsvc serve` until the test ends and returns its base URL.
func startServer(t *testing.T, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, in := io.Pipe()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, getenv(env), in, &logs)
		in.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not shut down within 30s")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, out) }() // keep the pipe drained
			return m[1]
		}
	}
	t.Fatalf("serve stopped before listening: %v\n%s", <-done, logs.String())
	return ""
}

// syncBuffer is a bytes.Buffer safe for the server's log writes and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// client talks JSON to the server under test, as one signed-in user (or nobody).
type client struct {
	t     *testing.T
	base  string
	token string
}

// response is what came back: status, headers and the body decoded as JSON.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

func (c *client) do(method, path string, body any) response {
	c.t.Helper()
	return c.doWith(method, path, body)
}

// doWith is do with extra request headers, given as name, value pairs.
func (c *client) doWith(method, path string, body any, header ...string) response {
	c.t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string: // raw, possibly malformed, JSON
		reader = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, reader)
	if err != nil {
		c.t.Fatal(err)
	}
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.send(req)
}

func (c *client) send(req *http.Request) response {
	c.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return c.read(req.Method+" "+req.URL.Path, res)
}

func (c *client) read(label string, res *http.Response) response {
	c.t.Helper()
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			c.t.Fatalf("%s: body is not JSON: %v\n%s", label, err, raw)
		}
	}
	return r
}

// oversize posts a request declaring a body larger than the server accepts. The server
// refuses on the declared length and closes the connection, so the body is never sent:
// a client still writing would see a reset instead of the answer.
func (c *client) oversize(path string, size int) response {
	c.t.Helper()
	u, err := url.Parse(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"name\": \"",
		u.Path, u.Host, c.token, size)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		c.t.Fatalf("POST %s with %d bytes: %v", path, size, err)
	}
	return c.read("POST "+path, res)
}

// must is do that fails the test unless the status is want.
func (c *client) must(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.Status != want {
		c.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.Status, want, r.Raw)
	}
	return r.Body
}

// login signs in and returns a client acting as that user.
func (c *client) login(email, password string) *client {
	c.t.Helper()
	body := c.must(http.StatusOK, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password})
	return &client{t: c.t, base: c.base, token: body["access_token"].(string)}
}

// problem asserts r is a problem+json error with status want, naming field when given.
func problem(t *testing.T, r response, want int, field string) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d\n%s", r.Status, want, r.Raw)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json\n%s", ct, r.Raw)
	}
	if int(r.Body["status"].(float64)) != want || r.Body["type"] == nil || r.Body["title"] == nil {
		t.Fatalf("not a problem document: %s", r.Raw)
	}
	if field == "" {
		return
	}
	errs, _ := r.Body["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["field"] == field {
			return
		}
	}
	t.Fatalf("problem does not name field %q: %s", field, r.Raw)
}
