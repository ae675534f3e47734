package push_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/push"
	"fieldsvc/internal/ticket"
	"fieldsvc/internal/web"
)

// assigned assigns the world's ticket to the first engineer, as a dispatcher: a sync for
// the engineer's devices and a notification for the client who filed it.
func (w *world) assigned() {
	w.t.Helper()
	e1 := w.engineer1.String()
	w.do(w.dispatcher, w.ticket, ticket.Assign, ticket.Command{EngineerID: &e1})
}

func TestDeliversTheRightPayloads(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.device(w.tech1, "tech1-phone")
	w.device(w.clientUser, "client-phone")
	s, reg := w.service(true)
	w.assigned()
	// Two more changes before the worker looks: the engineer's syncs go out as one.
	w.exec(`INSERT INTO ticket_events (ticket_id, actor_id, kind) VALUES ($1, $2, 'edited')`, w.ticket, w.dispatcher.UserID)
	w.exec(`INSERT INTO ticket_events (ticket_id, actor_id, kind) VALUES ($1, $2, 'edited')`, w.ticket, w.dispatcher.UserID)
	ids := map[string]string{} // outbox id → reason
	rows, err := w.pool.Query(context.Background(), `SELECT id, reason FROM push_outbox`)
	must(t, err)
	for rows.Next() {
		var id uuid.UUID
		var reason string
		must(t, rows.Scan(&id, &reason))
		ids[id.String()] = reason
	}
	must(t, rows.Err())

	if n := deliver(t, s); n != 4 {
		t.Fatalf("claimed %d, want 4 (3 syncs, 1 notification)", n)
	}
	sends := w.fcm.received()
	if len(sends) != 2 {
		t.Fatalf("%d sends, want 2: %+v", len(sends), sends)
	}
	byToken := map[string]fcmSend{}
	for _, x := range sends {
		if x.Host != "fcm.googleapis.com" || x.Path != "/v1/projects/"+fakeProject+"/messages:send" || x.Auth != "Bearer "+fakeToken {
			t.Errorf("sent to %s%s with %q", x.Host, x.Path, x.Auth)
		}
		if ids[x.Message.Data["id"]] != x.Message.Data["type"] {
			t.Errorf("message id %q does not name an outbox row of type %q", x.Message.Data["id"], x.Message.Data["type"])
		}
		byToken[x.Message.Token] = x
	}

	sync := byToken["tech1-phone"].Message
	if sync.Notification != nil || sync.Data["type"] != "sync" || sync.Data["ticket_id"] != w.ticket.String() {
		t.Errorf("sync: %+v", sync)
	}
	if sync.Android["collapse_key"] != "sync" || sync.Android["priority"] != "high" || sync.Android["ttl"] != "3600s" {
		t.Errorf("sync android: %v", sync.Android)
	}
	headers, _ := sync.APNS["headers"].(map[string]any)
	aps, _ := sync.APNS["payload"].(map[string]any)["aps"].(map[string]any)
	if headers["apns-collapse-id"] != "sync" || headers["apns-push-type"] != "background" || aps["content-available"] != 1.0 {
		t.Errorf("sync apns: %v", sync.APNS)
	}

	notice := byToken["client-phone"].Message
	if notice.Notification == nil || notice.Notification.Title != "Ticket 2026-000001: engineer assigned" ||
		notice.Notification.Body != "Не охлаждает витрина" {
		t.Errorf("notification: %+v", notice.Notification)
	}
	if notice.Data["type"] != "status" || notice.Data["event"] != "assign" || notice.Data["ticket_id"] != w.ticket.String() {
		t.Errorf("notification data: %v", notice.Data)
	}
	if android, _ := notice.Android["notification"].(map[string]any); android["tag"] != w.ticket.String() {
		t.Errorf("notification android: %v", notice.Android)
	}

	for _, r := range w.outbox() {
		if r.Status != "sent" || r.Attempts != 1 || r.Error != nil {
			t.Errorf("row after delivery: %+v", r)
		}
	}
	if got := counted(t, reg, "sent"); got != 4 {
		t.Errorf("sent counter %d, want 4", got)
	}
	if n := deliver(t, s); n != 0 || len(w.fcm.received()) != 2 {
		t.Errorf("a second run claimed %d and sent again", n)
	}
}

// TestRetriesHonourRetryAfter: 503 and 429 leave the message pending, due no sooner than
// FCM's Retry-After (or the jittered backoff without one), and hold back every other
// message until then; the Firebase client does not retry on its own behind the outbox's
// back.
func TestRetriesHonourRetryAfter(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.device(w.clientUser, "client-phone")
	s, reg := w.service(true)
	w.assigned()
	sentTotal := 0
	for i, c := range []struct {
		status     int
		grpc, code string // the error's status and FCM's error code
		retryAfter string
		least      time.Duration // the least time before the next attempt
		most       time.Duration // and the most
	}{
		{http.StatusServiceUnavailable, "UNAVAILABLE", "UNAVAILABLE", "120", 120 * time.Second, 120 * time.Second},
		{http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "90", 90 * time.Second, 90 * time.Second},
		{http.StatusServiceUnavailable, "UNAVAILABLE", "UNAVAILABLE", "", 500 * time.Millisecond, time.Second}, // backoff
	} {
		what := fmt.Sprintf("%d with Retry-After %q", c.status, c.retryAfter)
		w.exec(`DELETE FROM push_outbox`)
		w.exec(`INSERT INTO ticket_events (ticket_id, actor_id, kind, from_status, to_status) VALUES ($1, $2, 'accept', 'assigned', 'accepted')`,
			w.ticket, w.tech1.UserID)
		w.fcm.answering(func(int, fcmMessage) (int, string, string) {
			w.fcm.answering(nil) // once
			return c.status, c.retryAfter, fcmError(c.status, c.grpc, c.code)
		})
		sent := len(w.fcm.received())
		start := w.clock.Now()
		if n := deliver(t, s); n != 1 || len(w.fcm.received()) != sent+1 {
			t.Fatalf("%s: claimed %d, %d requests; want one of each", what, n, len(w.fcm.received())-sent)
		}
		r := w.outbox()[0]
		if r.Status != "pending" || r.Attempts != 1 || r.Next == nil || r.Error == nil || !strings.Contains(*r.Error, fmt.Sprint(c.status)) {
			t.Fatalf("%s: %+v", what, r)
		}
		if wait := r.Next.Sub(start); wait < c.least || wait > c.most {
			t.Fatalf("%s: next attempt in %s, want %s–%s", what, wait, c.least, c.most)
		}
		// While FCM asks to wait, nothing else is sent either.
		fresh := 0
		if c.retryAfter != "" {
			w.exec(`INSERT INTO ticket_events (ticket_id, actor_id, kind) VALUES ($1, $2, 'commented')`, w.ticket, w.dispatcher.UserID)
			fresh = 1
		}
		w.clock.Set(r.Next.Add(-time.Millisecond))
		if n := deliver(t, s); n != 0 {
			t.Fatalf("%s: claimed %d before the next attempt was due", what, n)
		}
		w.clock.Set(*r.Next)
		if n := deliver(t, s); n != 1+fresh || w.outbox()[0].Status != "sent" || len(w.fcm.received()) != sent+2+fresh {
			t.Fatalf("%s: when due, claimed %d, %+v, %d requests", what, n, w.outbox()[0], len(w.fcm.received())-sent)
		}
		sentTotal += 1 + fresh
		if counted(t, reg, "retried") != i+1 || counted(t, reg, "sent") != sentTotal {
			t.Errorf("%s: counters retried %d, sent %d", what, counted(t, reg, "retried"), counted(t, reg, "sent"))
		}
	}
}

// TestUnregisteredTokensAreRemoved: FCM's UNREGISTERED drops the device's token (unless
// the app registered a new one meanwhile); the message is skipped and the device gets no
// more messages.
func TestUnregisteredTokensAreRemoved(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	phone, tablet := w.device(w.tech1, "tech1-phone"), w.device(w.tech1, "tech1-tablet")
	client := w.device(w.clientUser, "client-phone")
	s, reg := w.service(true)
	w.fcm.answering(func(_ int, m fcmMessage) (int, string, string) {
		switch m.Token {
		case "tech1-tablet": // the app re-registers with a new token while this send is in flight
			if _, err := w.pool.Exec(context.Background(), `UPDATE devices SET push_token = 'tech1-tablet-2' WHERE id = $1`, tablet); err != nil {
				t.Error(err)
			}
			fallthrough
		case "tech1-phone":
			return http.StatusNotFound, "", fcmError(404, "NOT_FOUND", "UNREGISTERED")
		}
		return http.StatusOK, "", ""
	})
	w.assigned()
	if n := deliver(t, s); n != 3 {
		t.Fatalf("claimed %d, want 3", n)
	}
	tokens := map[uuid.UUID]*string{}
	rows, err := w.pool.Query(context.Background(), `SELECT id, push_token FROM devices`)
	must(t, err)
	for rows.Next() {
		var id uuid.UUID
		var token *string
		must(t, rows.Scan(&id, &token))
		tokens[id] = token
	}
	if tokens[phone] != nil || tokens[tablet] == nil || *tokens[tablet] != "tech1-tablet-2" || *tokens[client] != "client-phone" {
		t.Fatalf("tokens after UNREGISTERED: phone %v, tablet %v, client %v", tokens[phone], tokens[tablet], tokens[client])
	}
	for _, r := range w.outbox() {
		if want := map[uuid.UUID]string{phone: "skipped", tablet: "skipped", client: "sent"}[r.Device]; r.Status != want {
			t.Errorf("device %s: %s, want %s (%v)", r.Device, r.Status, want, r.Error)
		}
	}
	if counted(t, reg, "skipped") != 2 {
		t.Errorf("skipped counter %d, want 2", counted(t, reg, "skipped"))
	}
	// The phone is no longer written to; the tablet's new token is.
	w.exec(`DELETE FROM push_outbox`)
	w.exec(`INSERT INTO ticket_events (ticket_id, actor_id, kind) VALUES ($1, $2, 'edited')`, w.ticket, w.dispatcher.UserID)
	if rows := w.outbox(); len(rows) != 1 || rows[0].Device != tablet {
		t.Fatalf("after the token went: %+v", rows)
	}
}

// TestDeadLetterAfterLastAttempt: a message failing every attempt is dead after the last,
// listed for admins, and goes out again when one retries it. One FCM refuses outright is
// dead at once.
func TestDeadLetterAfterLastAttempt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.device(w.clientUser, "client-phone")
	w.device(w.tech1, "tech1-phone")
	s, reg := w.service(true, func(o *push.Options) { o.MaxAttempts = 3 })
	w.fcm.answering(func(_ int, m fcmMessage) (int, string, string) {
		if m.Token == "tech1-phone" {
			return http.StatusBadRequest, "", fcmError(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT")
		}
		return http.StatusInternalServerError, "", fcmError(500, "INTERNAL", "INTERNAL")
	})
	w.assigned()
	for attempt := 1; attempt <= 3; attempt++ {
		if n := deliver(t, s); n == 0 {
			t.Fatalf("attempt %d claimed nothing", attempt)
		}
		w.clock.Advance(time.Duration(1<<(attempt-1)) * time.Second) // the longest backoff after it
	}
	if n := deliver(t, s); n != 0 {
		t.Fatalf("claimed %d after the last attempt", n)
	}
	for _, r := range w.outbox() {
		if r.Status != "dead" || r.Error == nil {
			t.Errorf("%s %s: %+v", r.Reason, r.Status, r)
		}
		if want := map[string]int{"sync": 1, "status": 3}[r.Reason]; r.Attempts != want {
			t.Errorf("%s: %d attempts, want %d", r.Reason, r.Attempts, want)
		}
	}
	if counted(t, reg, "dead") != 2 || counted(t, reg, "retried") != 2 {
		t.Errorf("counters: dead %d, retried %d", counted(t, reg, "dead"), counted(t, reg, "retried"))
	}

	first, err := s.DeadLetters(context.Background(), pageOf(1))
	must(t, err)
	all, err := s.DeadLetters(context.Background(), pageOf(10))
	must(t, err)
	if len(first.Items) != 1 || first.NextCursor == "" || len(all.Items) != 2 || all.NextCursor != "" {
		t.Fatalf("dead letters: first page %+v, all %+v", first, all)
	}
	notice := all.Items[0]
	if notice.Reason != "status" {
		notice = all.Items[1]
	}
	if notice.Reason != "status" || notice.UserID == nil || *notice.UserID != w.clientUser.UserID || notice.Attempts != 3 ||
		!strings.Contains(*notice.LastError, "INTERNAL") || notice.FinishedAt == nil {
		t.Fatalf("the notification's dead letter: %+v", notice)
	}
	w.fcm.answering(nil)
	retried, err := s.Retry(context.Background(), notice.ID)
	if err != nil || retried.Status != "pending" || retried.Attempts != 0 {
		t.Fatalf("retry: %+v, %v", retried, err)
	}
	if n := deliver(t, s); n != 1 {
		t.Fatalf("claimed %d after the retry", n)
	}
	if got, _ := s.DeadLetters(context.Background(), pageOf(10)); len(got.Items) != 1 || got.Items[0].Reason != "sync" {
		t.Fatalf("dead letters after the retry: %+v", got.Items)
	}
	// All of them at once, from a time on.
	later := w.clock.Now().Add(time.Hour)
	if n, err := s.RetryAll(context.Background(), &later); n != 0 || err != nil {
		t.Fatalf("retry all since a later time: %d, %v", n, err)
	}
	if n, err := s.RetryAll(context.Background(), nil); n != 1 || err != nil {
		t.Fatalf("retry all: %d, %v", n, err)
	}
	if got, _ := s.DeadLetters(context.Background(), pageOf(10)); len(got.Items) != 0 || deliver(t, s) != 1 {
		t.Fatalf("dead letters after retrying all: %+v", got.Items)
	}
}

// TestTwoWorkersNeverSendAMessageTwice: workers claiming side by side (small batches,
// one held up while the other claims) send each message once, and all of them.
func TestTwoWorkersNeverSendAMessageTwice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const devices = 150
	for i := range devices {
		w.device(w.dispatcher, fmt.Sprintf("dispatcher-browser-%d", i))
	}
	w.exec(`UPDATE tickets SET assignee_id = $2, status = 'assigned' WHERE id = $1`, w.ticket, w.engineer1)
	w.comment(w.clientUser, w.ticket, "public")
	// The first worker's sends wait until the second has sent one: both must claim.
	second := make(chan struct{})
	var once sync.Once
	workers := []*push.Service{}
	for i := range 2 {
		s, _ := w.service(true, func(o *push.Options) {
			o.Batch = 7
			base := o.Transport
			o.Transport = roundTripper(func(r *http.Request) (*http.Response, error) {
				if strings.HasSuffix(r.URL.Path, ":send") {
					if i == 1 {
						once.Do(func() { close(second) })
					} else {
						select {
						case <-second:
						case <-time.After(10 * time.Second):
						}
					}
				}
				return base.RoundTrip(r)
			})
		})
		workers = append(workers, s)
	}
	var wg sync.WaitGroup
	claimed := make([]int, len(workers))
	for i, s := range workers {
		wg.Go(func() {
			for {
				n, err := s.Deliver(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
				claimed[i] += n
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, x := range w.fcm.received() {
		seen[x.Message.Data["id"]]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %s sent %d times", id, n)
		}
	}
	if len(seen) != devices || claimed[0]+claimed[1] != devices {
		t.Fatalf("%d messages sent, %d claimed (%v), want %d", len(seen), claimed[0]+claimed[1], claimed, devices)
	}
	if claimed[0] == 0 || claimed[1] == 0 {
		t.Errorf("one worker did all the work: %v", claimed)
	}
	for _, r := range w.outbox() {
		if r.Status != "sent" || r.Attempts != 1 {
			t.Fatalf("row: %+v", r)
		}
	}
}

// TestClaimsLastALease: a message claimed by a worker that then died is left alone for
// the lease, and sent by another worker after it.
func TestClaimsLastALease(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.device(w.clientUser, "client-phone")
	s, _ := w.service(true, func(o *push.Options) { o.SendTimeout = 10 * time.Second })
	w.assigned()
	// What a claim does, by a worker that never comes back.
	w.exec(`UPDATE push_outbox SET attempts = 1, next_attempt_at = $1`, w.clock.Now().Add(40*time.Second))
	w.clock.Advance(39 * time.Second)
	if n := deliver(t, s); n != 0 {
		t.Fatalf("claimed %d under another worker's lease", n)
	}
	w.clock.Advance(time.Second)
	if n := deliver(t, s); n != 1 || w.outbox()[0].Attempts != 2 || w.outbox()[0].Status != "sent" {
		t.Fatalf("after the lease: claimed %d, %+v", n, w.outbox())
	}
}

// TestALateResultIsDropped: a worker whose send outlived its lease finds the message
// taken over and sent by another; its late answer changes nothing and counts nothing.
func TestALateResultIsDropped(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.device(w.clientUser, "client-phone")
	long := func(o *push.Options) { o.SendTimeout = time.Minute } // never reached: the answer waits for the test
	slow, slowReg := w.service(true, long)
	other, otherReg := w.service(true, long)
	w.assigned()
	inFlight, release := make(chan struct{}), make(chan struct{})
	w.fcm.answering(func(n int, _ fcmMessage) (int, string, string) {
		if n == 1 {
			close(inFlight)
			<-release
			return http.StatusInternalServerError, "", fcmError(500, "INTERNAL", "INTERNAL")
		}
		return http.StatusOK, "", ""
	})
	done := make(chan int)
	go func() { done <- deliver(t, slow) }()
	<-inFlight
	w.clock.Advance(4*time.Minute + time.Millisecond) // past the slow worker's lease
	if n := deliver(t, other); n != 1 {
		t.Fatalf("the other worker claimed %d after the lease", n)
	}
	close(release)
	if n := <-done; n != 1 {
		t.Fatalf("the slow worker claimed %d", n)
	}
	if r := w.outbox(); len(r) != 1 || r[0].Status != "sent" || r[0].Attempts != 2 || r[0].Error != nil {
		t.Fatalf("after the late answer: %+v", r)
	}
	if counted(t, slowReg, "retried")+counted(t, slowReg, "sent") != 0 || counted(t, otherReg, "sent") != 1 {
		t.Errorf("counters: slow retried %d sent %d, other sent %d", counted(t, slowReg, "retried"),
			counted(t, slowReg, "sent"), counted(t, otherReg, "sent"))
	}
}

// TestAnotherProjectsTokenIsKept: SENDER_ID_MISMATCH (the key is of another Firebase
// project than the app's tokens) dead-letters the message at once and keeps the token.
func TestAnotherProjectsTokenIsKept(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	phone := w.device(w.clientUser, "client-phone")
	s, _ := w.service(true)
	w.fcm.answering(func(int, fcmMessage) (int, string, string) {
		return http.StatusForbidden, "", fcmError(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH")
	})
	w.assigned()
	if n := deliver(t, s); n != 1 {
		t.Fatalf("claimed %d", n)
	}
	if r := w.outbox(); len(r) != 1 || r[0].Status != "dead" || r[0].Attempts != 1 || !strings.Contains(*r[0].Error, "another Firebase project") {
		t.Fatalf("outbox: %+v", r)
	}
	var token *string
	must(t, w.pool.QueryRow(context.Background(), `SELECT push_token FROM devices WHERE id = $1`, phone).Scan(&token))
	if token == nil || *token != "client-phone" {
		t.Fatalf("token after SENDER_ID_MISMATCH: %v", token)
	}
}

// TestAHangingTokenEndpointTimesOut: Google's token endpoint not answering fails a
// batch's sends within one SendTimeout (not one each, in turn, behind the token cache's
// lock); the messages wait for the next attempt.
func TestAHangingTokenEndpointTimesOut(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const devices = 5
	for i := range devices {
		w.device(w.clientUser, fmt.Sprintf("client-device-%d", i))
	}
	w.fcm.hangTokens()
	s, _ := w.service(true, func(o *push.Options) { o.SendTimeout = time.Second })
	w.assigned()
	start := time.Now()
	done := make(chan int, 1)
	go func() { done <- deliver(t, s) }()
	select {
	case n := <-done:
		if took := time.Since(start); took > (devices-1)*time.Second {
			t.Errorf("the batch took %s: its sends waited for the token in turn", took)
		}
		rows := w.outbox()
		if n != devices || len(rows) != devices {
			t.Fatalf("claimed %d: %+v", n, rows)
		}
		for _, r := range rows {
			if r.Status != "pending" || r.Error == nil || !strings.Contains(*r.Error, "access token") {
				t.Errorf("row: %+v", r)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a send waits for a token request that hangs")
	}
}

// TestWithoutCredentialsPushIsOff: nothing is sent, messages are skipped, and readiness
// reports push as disabled.
func TestWithoutCredentialsPushIsOff(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.device(w.tech1, "tech1-phone")
	w.device(w.clientUser, "client-phone")
	s, reg := w.service(false)
	if s.Enabled() || !errors.Is(s.Ready(context.Background()), web.ErrDisabled) {
		t.Fatalf("enabled %v, ready %v", s.Enabled(), s.Ready(context.Background()))
	}
	w.assigned()
	if n := deliver(t, s); n != 2 || len(w.fcm.received()) != 0 {
		t.Fatalf("claimed %d, sent %d", n, len(w.fcm.received()))
	}
	for _, r := range w.outbox() {
		if r.Status != "skipped" || r.Error == nil || !strings.Contains(*r.Error, "push is off") {
			t.Errorf("row: %+v", r)
		}
	}
	if counted(t, reg, "skipped") != 2 {
		t.Errorf("skipped counter %d", counted(t, reg, "skipped"))
	}
	on, _ := w.service(true)
	if !on.Enabled() || on.Ready(context.Background()) != nil {
		t.Fatalf("with credentials: enabled %v, ready %v", on.Enabled(), on.Ready(context.Background()))
	}
}

func TestBadCredentialsRefuseToStart(t *testing.T) {
	t.Parallel()
	for name, key := range map[string]string{
		"not JSON":       "hello",
		"user key":       `{"type": "authorized_user", "client_id": "x"}`,
		"no private key": `{"type": "service_account", "project_id": "p", "client_email": "a@b", "private_key": "x"}`,
	} {
		path := t.TempDir() + "/key.json"
		must(t, writeFile(path, key))
		if _, err := push.New(context.Background(), nil, push.Options{CredentialsFile: path}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := push.New(context.Background(), nil, push.Options{CredentialsFile: "/nonexistent/key.json"}); err == nil {
		t.Error("a missing file: accepted")
	}
}

func TestPruneKeepsWhatIsStillUseful(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.device(w.dispatcher, "dispatcher-phone")
	s, _ := w.service(false)
	for range 6 {
		w.exec(`INSERT INTO ticket_events (ticket_id, kind) VALUES ($1, 'sla.reaction_at_risk')`, w.ticket)
	}
	now := w.clock.Now()
	day := 24 * time.Hour
	w.exec(`WITH o AS (SELECT id, row_number() OVER (ORDER BY id) n FROM push_outbox)
		UPDATE push_outbox p SET status = x.status, finished_at = x.finished_at
		FROM o JOIN unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS x (status, finished_at, n) ON x.n = o.n
		WHERE p.id = o.id`,
		[]string{"sent", "skipped", "sent", "dead", "dead", "pending"},
		[]*time.Time{ptr(now.Add(-8 * day)), ptr(now.Add(-8 * day)), ptr(now.Add(-day)), ptr(now.Add(-8 * day)), ptr(now.Add(-31 * day)), nil})
	n, err := s.Prune(context.Background())
	if err != nil || n != 3 {
		t.Fatalf("pruned %d (%v), want 3", n, err)
	}
	var left []string
	for _, r := range w.outbox() {
		left = append(left, r.Status)
	}
	if strings.Join(left, ",") != "sent,dead,pending" {
		t.Fatalf("left %v", left)
	}
}
