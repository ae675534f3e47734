package push_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// fakeFCM is Google as the push service meets it: the OAuth token endpoint, which checks
// the service account's signed assertion, and the FCM HTTP v1 send endpoint, which
// records every message and answers as answer says (200 when nil).
type fakeFCM struct {
	t      *testing.T
	server *httptest.Server
	key    *rsa.PrivateKey

	mu     sync.Mutex
	sends  []fcmSend
	answer func(n int, m fcmMessage) (status int, retryAfter string, body string)
	hang   chan struct{} // while open, token requests are not answered
}

// fcmSend is one request to the send endpoint.
type fcmSend struct {
	Host, Path, Auth string
	Message          fcmMessage
}

// fcmMessage is the message of a send, as FCM receives it.
type fcmMessage struct {
	Token        string            `json:"token"`
	Data         map[string]string `json:"data"`
	Notification *struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	} `json:"notification"`
	Android map[string]any `json:"android"`
	APNS    map[string]any `json:"apns"`
}

const (
	fakeProject = "fieldsvc-test"
	fakeToken   = "ya29.fake-access-token"
)

var testKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func newFakeFCM(t *testing.T) *fakeFCM {
	t.Helper()
	key, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeFCM{t: t, key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", f.send)
	f.server = httptest.NewServer(mux)
	t.Cleanup(f.server.Close)
	return f
}

// transport sends every request to Google to the fake instead, keeping the host it was
// meant for in X-Original-Host.
func (f *fakeFCM) transport() http.RoundTripper {
	target, _ := url.Parse(f.server.URL)
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("X-Original-Host", r.URL.Host)
		r.URL.Scheme, r.URL.Host, r.Host = target.Scheme, target.Host, ""
		return http.DefaultTransport.RoundTrip(r)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// credentials writes a service account key, as the Firebase console makes them, with a
// throwaway RSA key, and returns its path.
func (f *fakeFCM) credentials() string {
	f.t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(f.key)
	if err != nil {
		f.t.Fatal(err)
	}
	key, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": fakeProject, "private_key_id": "test-key-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "push@" + fakeProject + ".iam.gserviceaccount.com", "client_id": "1",
		"token_uri": "https://oauth2.googleapis.com/token",
	})
	path := filepath.Join(f.t.TempDir(), "service-account.json")
	if err := os.WriteFile(path, key, 0o600); err != nil {
		f.t.Fatal(err)
	}
	return path
}

// hangTokens makes the token endpoint keep every request waiting until the test ends.
func (f *fakeFCM) hangTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hang = make(chan struct{})
	f.t.Cleanup(func() { close(f.hang) }) // before the server closes, which waits for handlers
}

func (f *fakeFCM) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	hang := f.hang
	f.mu.Unlock()
	if hang != nil {
		<-hang
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.FormValue("assertion"), claims, func(*jwt.Token) (any, error) { return &f.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience("https://oauth2.googleapis.com/token"))
	if r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || err != nil ||
		!strings.Contains(fmt.Sprint(claims["scope"]), "firebase.messaging") {
		f.t.Errorf("token request: grant %q, assertion %v, claims %v", r.FormValue("grant_type"), err, claims)
		http.Error(w, `{"error": "invalid_grant"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token": %q, "token_type": "Bearer", "expires_in": 3600}`, fakeToken)
}

func (f *fakeFCM) send(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Message fcmMessage `json:"message"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.t.Errorf("send: %v", err)
	}
	f.mu.Lock()
	f.sends = append(f.sends, fcmSend{Host: r.Header.Get("X-Original-Host"), Path: r.URL.Path,
		Auth: r.Header.Get("Authorization"), Message: req.Message})
	n, answer := len(f.sends), f.answer
	f.mu.Unlock()
	status, retryAfter, body := http.StatusOK, "", ""
	if answer != nil {
		status, retryAfter, body = answer(n, req.Message)
	}
	w.Header().Set("Content-Type", "application/json")
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.WriteHeader(status)
	if body == "" {
		body = fmt.Sprintf(`{"name": "projects/%s/messages/%d"}`, fakeProject, n)
	}
	fmt.Fprint(w, body)
}

// fcmError is an FCM HTTP v1 error body.
func fcmError(code int, status, fcmCode string) string {
	return fmt.Sprintf(`{"error": {"code": %d, "message": "fake %s", "status": %q, "details": [
		{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": %q}]}}`, code, fcmCode, status, fcmCode)
}

// answering sets how the send endpoint answers from now on.
func (f *fakeFCM) answering(answer func(n int, m fcmMessage) (int, string, string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = answer
}

// received returns the sends so far.
func (f *fakeFCM) received() []fcmSend {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fcmSend(nil), f.sends...)
}
