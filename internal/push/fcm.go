package push

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/option"
)

const fcmScope = "https://www.googleapis.com/auth/firebase.messaging"

// sender is the Firebase messaging client, authenticated with a service account key.
type sender struct {
	client *messaging.Client
	tokens oauth2.TokenSource // the sends' access tokens, cached until they expire
}

// newSender builds the client on an HTTP client of its own: the service account's
// tokens over throttled{transport}. Every request to Google, the token exchange too,
// goes through transport.
func newSender(ctx context.Context, key []byte, transport http.RoundTripper, timeout time.Duration) (*sender, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	// The token source fetches tokens with the client ctx carries, for as long as it
	// lives, and not with a send's context: without a timeout of its own a token
	// endpoint that hangs would hold up every send, which all wait for that one token.
	ctx = context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, &http.Client{Transport: transport, Timeout: timeout})
	creds, err := google.CredentialsFromJSONWithType(ctx, key, google.ServiceAccount, fcmScope)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &oauth2.Transport{Source: creds.TokenSource, Base: throttled{transport}}}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: creds.ProjectID}, option.WithHTTPClient(hc))
	if err != nil {
		return nil, err
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, err
	}
	return &sender{client: client, tokens: creds.TokenSource}, nil
}

// authorise makes sure the sends of a batch have an access token, within ctx. The
// token source fetches under a lock and without ctx: were the token endpoint to hang,
// each send would wait its turn to time out on it.
func (s *sender) authorise(ctx context.Context) error {
	got := make(chan error, 1)
	go func() {
		_, err := s.tokens.Token()
		got <- err
	}()
	select {
	case err := <-got:
		if err != nil {
			return fmt.Errorf("FCM access token: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("FCM access token: %w", ctx.Err())
	}
}

// checkKey refuses a key that could never sign in, at start rather than at the first send.
func checkKey(key []byte) error {
	var k struct {
		Type        string `json:"type"`
		ProjectID   string `json:"project_id"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(key, &k); err != nil {
		return fmt.Errorf("not a JSON key: %w", err)
	}
	if k.Type != "service_account" || k.ProjectID == "" || k.ClientEmail == "" {
		return errors.New(`not a service account key (it needs "type": "service_account", project_id and client_email)`)
	}
	block, _ := pem.Decode([]byte(k.PrivateKey))
	if block == nil {
		return errors.New("private_key is not a PEM key")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if _, err1 := x509.ParsePKCS1PrivateKey(block.Bytes); err1 != nil {
			return fmt.Errorf("private_key: %w", err)
		}
	}
	return nil
}

// verdict is what became of one send.
type verdict int

const (
	delivered verdict = iota
	retry             // try again later
	gone              // the token is no longer valid: drop it
	fatal             // FCM refuses the message itself: retrying cannot help
	skip              // not sent: push is off, or the device has no token
)

// result is the outcome of one send, with FCM's Retry-After when it gave one.
type result struct {
	verdict   verdict
	after     time.Duration
	throttled bool // FCM answered 429 or 503: every send would meet the same for now
	err       error
}

// send sends one message within ctx.
func (s *sender) send(ctx context.Context, m *messaging.Message) result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	note := &throttle{cancel: cancel}
	_, err := s.client.Send(context.WithValue(ctx, throttleKey{}, note), m)
	return judge(err, note)
}

func judge(err error, note *throttle) result {
	if err == nil {
		return result{verdict: delivered}
	}
	if note.status != 0 { // err says only that the send was cut short
		return result{verdict: retry, after: note.after, throttled: true, err: fmt.Errorf("FCM answered %d %s (Retry-After %s)",
			note.status, http.StatusText(note.status), note.after)}
	}
	r := result{verdict: retry, err: err}
	if res := errorutils.HTTPResponse(err); res != nil {
		r.after = retryAfter(res.Header, time.Now())
		r.err = fmt.Errorf("FCM answered %d %s: %w", res.StatusCode, http.StatusText(res.StatusCode), err)
	}
	switch {
	case messaging.IsUnregistered(err):
		r.verdict = gone
	case messaging.IsSenderIDMismatch(err):
		// The token belongs to another Firebase project than the key's: a wrong
		// FCM_CREDENTIALS_FILE refuses every token, which must not all be thrown away.
		r.verdict, r.err = fatal, fmt.Errorf("the device's token belongs to another Firebase project than FCM_CREDENTIALS_FILE's: %w", r.err)
	case messaging.IsInvalidArgument(err):
		r.verdict = fatal
	}
	return r
}

// throttled hands FCM's 429 and 503 answers back to the outbox at once. The Firebase
// client would otherwise retry a 503 itself, sleeping inside the send for up to two
// minutes of Retry-After: a worker would sit on its claim, and the persistent backoff
// (with its jitter and dead letter) would never see the failure.
type throttled struct{ next http.RoundTripper }

// throttle notes a 429 or 503 for the send whose context carries it, and ends that send.
type throttle struct {
	status int
	after  time.Duration
	cancel context.CancelFunc
}

type throttleKey struct{}

func (t throttled) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(req)
	note, ok := req.Context().Value(throttleKey{}).(*throttle)
	if err != nil || !ok || (res.StatusCode != http.StatusTooManyRequests && res.StatusCode != http.StatusServiceUnavailable) {
		return res, err
	}
	// Read before cancelling, which would cut the body off.
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	note.status, note.after = res.StatusCode, retryAfter(res.Header, time.Now())
	note.cancel()
	return res, nil
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP date; 0 without one.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(secs)*time.Second, 0)
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0)
	}
	return 0
}
