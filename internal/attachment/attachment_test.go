package attachment_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/attachment"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/objstore"
	"fieldsvc/internal/ticket"
)

const mib = 1 << 20

func TestUploadConfirmAndDownload(t *testing.T) {
	w := newWorld(t, attachment.Options{})
	ctx := context.Background()
	data := []byte("a photo of the condenser, fan blade broken")
	in := photo(data)
	in.SHA256 = strings.ToUpper(in.SHA256) // devices may send either case
	out := w.slot(w.engineer, w.ticketA, in)
	a := out.Attachment
	if a.Status != attachment.Pending || a.Public || a.UploadedBy != w.engineer.UserID || a.Size != int64(len(data)) ||
		a.SHA256 != strings.ToLower(in.SHA256) || a.FileName != "chiller.jpg" {
		t.Fatalf("slot = %+v", a)
	}
	if want := w.clock.Now().Add(time.Hour); !out.ExpiresAt.Equal(want) || !a.ExpiresAt.Equal(want) {
		t.Fatalf("slot expires at %v (attachment %v), want %v", out.ExpiresAt, a.ExpiresAt, want)
	}
	if out.Upload == nil || out.Parts != nil || out.Upload.Headers["Content-Type"] != "image/jpeg" ||
		out.Upload.Headers["X-Amz-Checksum-Sha256"] == "" || !strings.Contains(out.Upload.URL, key(w.ticketA, a.ID)) {
		t.Fatalf("upload = %+v, want one signed PUT of the object key with its type and checksum", out.Upload)
	}
	var shape map[string]any
	raw, _ := json.Marshal(out)
	if err := json.Unmarshal(raw, &shape); err != nil {
		t.Fatal(err)
	}
	if _, ok := shape["parts"]; ok || shape["upload"] == nil || shape["part_size"] != nil {
		t.Fatalf("slot JSON = %s, want an upload and no parts", raw)
	}

	_, err := w.s.Confirm(ctx, w.engineer, a.ID)
	if ae := fails(t, "confirm before the upload", err, apperr.Conflict, ""); ae.Message != "the file has not been uploaded yet" {
		t.Fatalf("confirm before the upload: %v", err)
	}
	_, err = w.s.URL(ctx, w.engineer, a.ID)
	fails(t, "download before the confirm", err, apperr.Conflict, "")

	if code, msg := put(t, *out.Upload, data); code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, msg)
	}
	confirmedAt := w.clock.Now()
	got, err := w.s.Confirm(ctx, w.engineer, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != attachment.Confirmed || got.ConfirmedAt == nil || !got.ConfirmedAt.Equal(confirmedAt) {
		t.Fatalf("confirmed = %+v", got)
	}
	w.clock.Advance(time.Minute)
	again, err := w.s.Confirm(ctx, w.engineer, a.ID)
	if err != nil || again.Status != attachment.Confirmed || !again.ConfirmedAt.Equal(confirmedAt) {
		t.Fatalf("confirming again: %+v, %v; want it unchanged", again, err)
	}

	link, err := w.s.URL(ctx, w.engineer, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := w.clock.Now().Add(5 * time.Minute); !link.ExpiresAt.Equal(want) {
		t.Fatalf("link expires at %v, want %v", link.ExpiresAt, want)
	}
	if code, body := get(t, link.URL); code != http.StatusOK || body != string(data) {
		t.Fatalf("download: %d %q", code, body)
	}
}

func TestMultipartUpload(t *testing.T) {
	w := newWorld(t, attachment.Options{PartSize: 5 * mib})
	ctx := context.Background()
	data := random(5*mib + 1000)
	in := photo(data)
	in.Kind, in.ContentType, in.FileName = "document", "application/pdf", "act.pdf"
	out := w.slot(w.engineer, w.ticketA, in)
	id := out.Attachment.ID
	if out.Upload != nil || len(out.Parts) != 2 || out.PartSize != 5*mib {
		t.Fatalf("slot = upload %v, %d parts of %d, want 2 parts of 5 MiB", out.Upload, len(out.Parts), out.PartSize)
	}
	if _, err := w.s.Confirm(ctx, w.engineer, id); fails(t, "confirm with no parts", err, apperr.Conflict, "").Message !=
		"no parts have been uploaded" {
		t.Fatalf("confirm with no parts: %v", err)
	}
	part := func(parts []objstore.Upload, n int) {
		t.Helper()
		end := min(n*5*mib, len(data))
		if code, msg := put(t, parts[n-1], data[(n-1)*5*mib:end]); code != http.StatusOK {
			t.Fatalf("part %d: %d %s", n, code, msg)
		}
	}

	// One part short: the upload is left open for the rest, nothing is completed.
	part(out.Parts, 1)
	if _, err := w.s.Confirm(ctx, w.engineer, id); fails(t, "confirm one part short", err, apperr.Conflict, "").Message !=
		fmt.Sprintf("not all parts have been uploaded yet: %d of %d bytes", 5*mib, len(data)) {
		t.Fatalf("confirm one part short: %v", err)
	}
	if status, multipart := w.status(id); status != attachment.Pending || !multipart {
		t.Fatalf("after an early confirm: %s, multipart upload kept %v", status, multipart)
	}
	// The wrong bytes in the second part: the whole file is read through, found not to
	// be the declared one, removed, and the slot opens a new upload when asked again.
	wrong := random(1000)
	if code, msg := put(t, out.Parts[1], wrong); code != http.StatusOK {
		t.Fatalf("part 2: %d %s", code, msg)
	}
	_, err := w.s.Confirm(ctx, w.engineer, id)
	fails(t, "confirm wrong bytes", err, apperr.Conflict, "sha256")
	if status, multipart := w.status(id); status != attachment.Pending || multipart || !w.gone(w.ticketA, id) {
		t.Fatalf("after a refused file: %s, multipart upload kept %v, object gone %v", status, multipart, w.gone(w.ticketA, id))
	}
	retried, created, err := w.s.Slot(ctx, w.engineer, w.ticketA, in)
	if err != nil || created || len(retried.Parts) != 2 {
		t.Fatalf("slot again: created %v, %d parts, %v", created, len(retried.Parts), err)
	}
	if uploadID(t, retried.Parts[0]) == uploadID(t, out.Parts[0]) {
		t.Fatal("the slot reuses the completed multipart upload")
	}
	part(retried.Parts, 1)
	part(retried.Parts, 2)
	a, err := w.s.Confirm(ctx, w.engineer, id)
	if err != nil || a.Status != attachment.Confirmed {
		t.Fatalf("confirm: %+v, %v", a, err)
	}
	if _, multipart := w.status(id); multipart {
		t.Fatal("a confirmed file still has a multipart upload")
	}
	link, err := w.s.URL(ctx, w.dispatcher, id)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, link.URL); code != http.StatusOK || body != string(data) {
		t.Fatalf("download: %d, %d bytes, want the %d uploaded", code, len(body), len(data))
	}
}

func uploadID(t *testing.T, up objstore.Upload) string { return query(t, up, "uploadId") }

// expiresIn is how many seconds a presigned URL is valid.
func expiresIn(t *testing.T, up objstore.Upload) string { return query(t, up, "X-Amz-Expires") }

func query(t *testing.T, up objstore.Upload, name string) string {
	t.Helper()
	u, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(name)
}

func TestConfirmRefusesAFileThatIsNotTheOneDeclared(t *testing.T) {
	w := newWorld(t, attachment.Options{})
	ctx := context.Background()
	data := []byte("the signed work-completion act, page 1")
	out := w.slot(w.engineer, w.ticketA, photo(data))
	id, k := out.Attachment.ID, key(w.ticketA, out.Attachment.ID)
	other := bytes.ToUpper(data) // same length, other bytes

	// Storage itself refuses bytes that do not hash to the signed checksum.
	if code, msg := put(t, *out.Upload, other); code < 400 {
		t.Fatalf("storage accepted bytes against the signed checksum: %d %s", code, msg)
	}
	if !w.gone(w.ticketA, id) {
		t.Fatal("a refused upload left an object")
	}

	// A file of another size (written past the slot) is refused at confirm and removed.
	if err := w.store.Put(ctx, k, "image/jpeg", append(data, '!')); err != nil {
		t.Fatal(err)
	}
	_, err := w.s.Confirm(ctx, w.engineer, id)
	ae := fails(t, "confirm of the wrong size", err, apperr.Conflict, "size")
	if p := ae.Fields["size"]; !strings.Contains(p, "38") || !strings.Contains(p, "39") {
		t.Fatalf("size problem %q, want both sizes", p)
	}
	if status, _ := w.status(id); status != attachment.Pending || !w.gone(w.ticketA, id) {
		t.Fatalf("after the wrong size: %s, object gone %v; want pending with the object removed", status, w.gone(w.ticketA, id))
	}

	// Same size, other bytes, stored with their own checksum: storage's checksum betrays them.
	sum := sha256.Sum256(other)
	up, err := w.store.PresignPut(ctx, k, "image/jpeg", sum[:], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if code, msg := put(t, up, other); code != http.StatusOK {
		t.Fatalf("upload of other bytes: %d %s", code, msg)
	}
	_, err = w.s.Confirm(ctx, w.engineer, id)
	ae = fails(t, "confirm of other bytes", err, apperr.Conflict, "sha256")
	if !strings.Contains(ae.Fields["sha256"], hex.EncodeToString(sum[:])) {
		t.Fatalf("sha256 problem %q, want the stored checksum", ae.Fields["sha256"])
	}
	if status, _ := w.status(id); status != attachment.Pending || !w.gone(w.ticketA, id) {
		t.Fatalf("after other bytes: %s, object gone %v; want pending with the object removed", status, w.gone(w.ticketA, id))
	}

	// The slot lives on: the right file goes through.
	if code, msg := put(t, *out.Upload, data); code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, msg)
	}
	if a, err := w.s.Confirm(ctx, w.engineer, id); err != nil || a.Status != attachment.Confirmed {
		t.Fatalf("confirm of the right file: %+v, %v", a, err)
	}
}

func TestSlotLimits(t *testing.T) {
	w := newWorld(t, attachment.Options{})
	good := photo([]byte("x"))
	for _, tc := range []struct {
		name, field, problem string
		edit                 func(*attachment.NewSlot)
	}{
		{"too large", "size", "must be at most 50 MiB", func(in *attachment.NewSlot) { in.Size = 50*mib + 1 }},
		{"empty", "size", "must be more than 0 bytes", func(in *attachment.NewSlot) { in.Size = 0 }},
		{"a GIF photo", "content_type", "must be one of image/jpeg, image/png, image/heic, image/heif, image/webp",
			func(in *attachment.NewSlot) { in.ContentType = "image/gif" }},
		{"a JPEG document", "content_type", "must be one of application/pdf",
			func(in *attachment.NewSlot) { in.Kind = "document" }},
		{"a video", "kind", "must be one of photo, signature, document", func(in *attachment.NewSlot) { in.Kind = "video" }},
		{"checksum not hex", "sha256", "", func(in *attachment.NewSlot) { in.SHA256 = strings.Repeat("z", 64) }},
		{"checksum short", "sha256", "", func(in *attachment.NewSlot) { in.SHA256 = in.SHA256[:62] }},
		{"a path", "file_name", "", func(in *attachment.NewSlot) { in.FileName = "../../etc/passwd" }},
		{"no id", "id", "", func(in *attachment.NewSlot) { in.ID = "" }},
	} {
		in := good
		tc.edit(&in)
		_, _, err := w.s.Slot(context.Background(), w.engineer, w.ticketA, in)
		ae := fails(t, tc.name, err, apperr.Invalid, tc.field)
		if tc.problem != "" && ae.Fields[tc.field] != tc.problem {
			t.Errorf("%s: %s %q, want %q", tc.name, tc.field, ae.Fields[tc.field], tc.problem)
		}
	}
	if n := w.count(); n != 0 {
		t.Fatalf("%d attachments recorded from invalid requests", n)
	}
	in := good
	in.Size = 50 * mib // the limit itself is allowed
	if _, _, err := w.s.Slot(context.Background(), w.engineer, w.ticketA, in); err != nil {
		t.Fatalf("a file of exactly the limit: %v", err)
	}
}

func TestExpiredSlotsAreCleanedUp(t *testing.T) {
	w := newWorld(t, attachment.Options{PartSize: 5 * mib})
	ctx := context.Background()
	data := []byte("never confirmed")
	single := w.slot(w.engineer, w.ticketA, photo(data))
	if code, msg := put(t, *single.Upload, data); code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, msg)
	}
	big := random(5*mib + 1)
	multi := w.slot(w.engineer, w.ticketA, photo(big))
	if code, msg := put(t, multi.Parts[1], big[5*mib:]); code != http.StatusOK {
		t.Fatalf("part: %d %s", code, msg)
	}
	kept := w.attach(w.engineer, w.ticketA, []byte("confirmed in time"), false)
	w.clock.Advance(30 * time.Minute)
	later := w.slot(w.engineer, w.ticketA, photo([]byte("opened later")))

	// Just past its end a slot can no longer be confirmed, but its object is left alone
	// for a while: an upload that started in time may still be arriving.
	w.clock.Advance(31 * time.Minute)
	if _, err := w.s.Confirm(ctx, w.engineer, single.Attachment.ID); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("confirm of an ended slot: %v, want a conflict", err)
	}
	if n, err := w.s.Expire(ctx); err != nil || n != 0 || w.gone(w.ticketA, single.Attachment.ID) {
		t.Fatalf("expire right after the end: %d, %v, object gone %v; want nothing touched yet", n, err, w.gone(w.ticketA, single.Attachment.ID))
	}

	w.clock.Advance(15 * time.Minute)
	n, err := w.s.Expire(ctx)
	if err != nil || n != 2 {
		t.Fatalf("expire: %d, %v; want the 2 ended slots", n, err)
	}
	for _, id := range []uuid.UUID{single.Attachment.ID, multi.Attachment.ID} {
		if status, multipart := w.status(id); status != attachment.Expired || multipart || !w.gone(w.ticketA, id) {
			t.Errorf("slot %s: %s, multipart upload kept %v, object gone %v", id, status, multipart, w.gone(w.ticketA, id))
		}
	}
	if code, _ := put(t, multi.Parts[0], big[:5*mib]); code != http.StatusNotFound {
		t.Errorf("a part of an expired slot: %d, want 404 (upload aborted)", code)
	}
	if status, _ := w.status(kept.ID); status != attachment.Confirmed || w.gone(w.ticketA, kept.ID) {
		t.Errorf("a confirmed file was touched: %s", status)
	}
	list, err := w.s.List(ctx, w.dispatcher, w.ticketA)
	if err != nil || !sameIDs(list, kept.ID, later.Attachment.ID) {
		t.Fatalf("list after expiry: %v, %v; want the confirmed file and the living slot", list, err)
	}
	_, err = w.s.Confirm(ctx, w.engineer, single.Attachment.ID)
	fails(t, "confirm of an expired slot", err, apperr.Conflict, "")
	retry := photo(data)
	retry.ID = single.Attachment.ID.String()
	_, _, err = w.s.Slot(ctx, w.engineer, w.ticketA, retry)
	fails(t, "slot again after expiry", err, apperr.Conflict, "id")
	if n, err := w.s.Expire(ctx); err != nil || n != 0 {
		t.Fatalf("expire again: %d, %v; want nothing left", n, err)
	}
}

func sameIDs(list []attachment.Attachment, ids ...uuid.UUID) bool {
	got := make([]uuid.UUID, len(list))
	for i, a := range list {
		got[i] = a.ID
	}
	return slices.Equal(got, ids)
}

func TestAccessByRoleAndCompany(t *testing.T) {
	w := newWorld(t, attachment.Options{})
	ctx := context.Background()
	// A client's file is public even when asked otherwise; the engineer's is not by default.
	pub := w.attach(w.clientUserA, w.ticketA, []byte("photo from the store manager"), false)
	w.clock.Advance(time.Second)
	priv := w.attach(w.engineer, w.ticketA, []byte("internal photo of the wiring"), false)
	w.clock.Advance(time.Second)
	pendingData := []byte("still uploading")
	pending := w.slot(w.engineer, w.ticketA, photo(pendingData)).Attachment
	if !pub.Public || priv.Public {
		t.Fatalf("public: client's %v, engineer's %v; want true, false", pub.Public, priv.Public)
	}

	everything := []uuid.UUID{pub.ID, priv.ID, pending.ID} // oldest first
	for _, tc := range []struct {
		name string
		p    auth.Principal
		list []uuid.UUID // nil: the ticket is not found
		urls map[uuid.UUID]apperr.Code
	}{
		{"assigned engineer", w.engineer, everything,
			map[uuid.UUID]apperr.Code{pub.ID: "", priv.ID: "", pending.ID: apperr.Conflict}},
		{"another engineer", w.engineer2, nil,
			map[uuid.UUID]apperr.Code{pub.ID: apperr.NotFound, priv.ID: apperr.NotFound, pending.ID: apperr.NotFound}},
		{"dispatcher", w.dispatcher, everything,
			map[uuid.UUID]apperr.Code{pub.ID: "", priv.ID: "", pending.ID: apperr.Conflict}},
		{"manager", w.manager, everything, map[uuid.UUID]apperr.Code{pub.ID: "", priv.ID: ""}},
		{"admin", w.admin, everything, map[uuid.UUID]apperr.Code{priv.ID: ""}},
		{"client of the ticket's company", w.clientUserA, []uuid.UUID{pub.ID},
			map[uuid.UUID]apperr.Code{pub.ID: "", priv.ID: apperr.NotFound, pending.ID: apperr.NotFound}},
		{"client of another company", w.clientUserB, nil,
			map[uuid.UUID]apperr.Code{pub.ID: apperr.NotFound, priv.ID: apperr.NotFound, pending.ID: apperr.NotFound}},
	} {
		list, err := w.s.List(ctx, tc.p, w.ticketA)
		switch {
		case tc.list == nil && apperr.CodeOf(err) != apperr.NotFound:
			t.Errorf("%s: list: %v, want not found", tc.name, err)
		case tc.list != nil && (err != nil || !sameIDs(list, tc.list...)):
			t.Errorf("%s: list: %v, %v; want %v", tc.name, list, err, tc.list)
		}
		for id, want := range tc.urls {
			link, err := w.s.URL(ctx, tc.p, id)
			switch {
			case want == "" && err != nil:
				t.Errorf("%s: url of %s: %v", tc.name, id, err)
			case want == "":
				if code, _ := get(t, link.URL); code != http.StatusOK {
					t.Errorf("%s: download of %s: %d", tc.name, id, code)
				}
			case apperr.CodeOf(err) != want:
				t.Errorf("%s: url of %s: %v, want %s", tc.name, id, err, want)
			}
		}
	}
	if _, err := w.s.URL(ctx, w.dispatcher, uuid.New()); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("url of an unknown attachment: %v", err)
	}

	// Only those who see the ticket may attach to it.
	for _, p := range []auth.Principal{w.engineer2, w.clientUserB} {
		if _, _, err := w.s.Slot(ctx, p, w.ticketA, photo([]byte("x"))); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("slot as %s on another's ticket: %v, want not found", p.Role, err)
		}
	}
	// The uploader confirms, or office staff; nobody else learns the slot exists.
	for _, p := range []auth.Principal{w.engineer2, w.clientUserA, w.clientUserB} {
		if _, err := w.s.Confirm(ctx, p, pending.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("confirm as %s of an engineer's upload: %v, want not found", p.Role, err)
		}
	}
	if code, msg := put(t, *w.slotAgain(pending, pendingData).Upload, pendingData); code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, msg)
	}
	if a, err := w.s.Confirm(ctx, w.dispatcher, pending.ID); err != nil || a.Status != attachment.Confirmed {
		t.Fatalf("confirm by the dispatcher: %+v, %v", a, err)
	}
}

// slotAgain asks for a's slot again, as its uploader.
func (w *world) slotAgain(a attachment.Attachment, data []byte) attachment.SlotOut {
	w.t.Helper()
	in := photo(data)
	in.ID = a.ID.String()
	p := auth.Principal{UserID: a.UploadedBy, Role: auth.Engineer}
	out, created, err := w.s.Slot(context.Background(), p, a.TicketID, in)
	if err != nil || created {
		w.t.Fatalf("slot again: created %v, %v", created, err)
	}
	return out
}

func TestStorageDown(t *testing.T) {
	w := newWorld(t, attachment.Options{})
	ctx := context.Background()
	a := w.attach(w.engineer, w.ticketA, []byte("uploaded while storage was up"), false)
	w.clock.Advance(time.Second)
	pending := w.slot(w.engineer, w.ticketA, photo([]byte("not yet"))).Attachment
	o := dbtest.StoreOptions(t)
	o.Endpoint = "127.0.0.1:1" // nothing listens there
	store, err := objstore.New(o)
	if err != nil {
		t.Fatal(err)
	}
	down := attachment.NewService(w.pool, w.tickets, store, attachment.Options{Now: w.clock.Now})

	before := w.count()
	if _, _, err := down.Slot(ctx, w.engineer, w.ticketA, photo([]byte("x"))); apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("slot with storage down: %v, want unavailable", err)
	}
	if n := w.count(); n != before {
		t.Fatalf("a slot was recorded with storage down (%d attachments, were %d)", n, before)
	}
	if _, err := down.Confirm(ctx, w.engineer, pending.ID); apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("confirm with storage down: %v, want unavailable", err)
	}
	if status, _ := w.status(pending.ID); status != attachment.Pending {
		t.Fatalf("a confirm with storage down left the slot %s", status)
	}
	list, err := down.List(ctx, w.engineer, w.ticketA)
	if err != nil || !sameIDs(list, a.ID, pending.ID) {
		t.Fatalf("list with storage down: %v, %v", list, err)
	}
}

func TestSlotRetryAndClosedTickets(t *testing.T) {
	w := newWorld(t, attachment.Options{})
	ctx := context.Background()
	data := []byte("the same photo, sent twice")
	in := photo(data)
	first := w.slot(w.engineer, w.ticketA, in)
	w.clock.Advance(10 * time.Minute)
	again, created, err := w.s.Slot(ctx, w.engineer, w.ticketA, in)
	if err != nil || created {
		t.Fatalf("the same slot again: created %v, %v", created, err)
	}
	if again.Attachment != first.Attachment || !again.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("the same slot again = %+v, want %+v", again.Attachment, first.Attachment)
	}
	// The fresh URL dies with the slot, not an hour from now.
	if first, again := expiresIn(t, *first.Upload), expiresIn(t, *again.Upload); first != "3600" || again != "3000" {
		t.Fatalf("URLs valid for %s s and, asked again 10 minutes later, %s s; want 3600 and 3000", first, again)
	}
	if code, msg := put(t, *again.Upload, data); code != http.StatusOK {
		t.Fatalf("upload through the fresh URL: %d %s", code, msg)
	}
	if n := w.count(); n != 1 {
		t.Fatalf("%d attachments, want 1", n)
	}

	other := w.ticket(ticket.InProgress)
	for name, tc := range map[string]struct {
		p      auth.Principal
		ticket uuid.UUID
		edit   func(*attachment.NewSlot)
	}{
		"another checksum": {w.engineer, w.ticketA, func(in *attachment.NewSlot) { in.SHA256 = strings.Repeat("0", 64) }},
		"another size":     {w.engineer, w.ticketA, func(in *attachment.NewSlot) { in.Size++ }},
		"another kind":     {w.engineer, w.ticketA, func(in *attachment.NewSlot) { in.Kind = "signature" }},
		"another uploader": {w.dispatcher, w.ticketA, func(*attachment.NewSlot) {}},
		"another ticket":   {w.engineer, other, func(*attachment.NewSlot) {}},
	} {
		changed := in
		tc.edit(&changed)
		_, _, err := w.s.Slot(ctx, tc.p, tc.ticket, changed)
		if ae := fails(t, name, err, apperr.Conflict, "id"); ae.Message != "an attachment with this id exists" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := w.s.Confirm(ctx, w.engineer, first.Attachment.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = w.s.Slot(ctx, w.engineer, w.ticketA, in)
	fails(t, "the slot again once confirmed", err, apperr.Conflict, "id")

	for _, status := range []ticket.Status{ticket.Closed, ticket.Cancelled} {
		_, _, err := w.s.Slot(ctx, w.engineer, w.ticket(status), photo(data))
		fails(t, "slot on a "+string(status)+" ticket", err, apperr.Conflict, "")
	}
	// Resolved is not the end: the client may still add a photo before closing.
	w.slot(w.clientUserA, w.ticket(ticket.Resolved), photo(data))
}
