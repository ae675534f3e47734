package checklist

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/objstore"
	"fieldsvc/internal/page"
	"fieldsvc/internal/ticket"
)

func TestTemplateItemsAreValidated(t *testing.T) {
	w := newWorld(t)
	in := TemplateInput{Name: "Bad", TicketKinds: []string{"repair"}, AssetTypes: []string{"Chiller!"}, Items: []Item{
		{ID: "a", Type: "rating", Label: "x"},
		{ID: "a", Type: Text, Label: ""},
		{ID: "b", Type: Number, Label: "n", Min: num(5), Max: num(1)},
		{ID: "c", Type: Choice, Label: "c", Options: []string{"only"}},
		{ID: "d", Type: YesNo, Label: "d", Unit: "bar"},
		{ID: "Bad Id", Type: Text, Label: "e"},
	}}
	_, err := w.s.CreateTemplate(context.Background(), in)
	want := []string{"ticket_kinds[0]", "asset_types[0]", "items[0].type", "items[1].id", "items[1].label",
		"items[2].max", "items[3].options", "items[4].min", "items[5].id"}
	f := fieldsOf(err)
	for _, k := range want {
		if f[k] == "" {
			t.Errorf("no problem reported for %s (got %v)", k, f)
		}
	}
	if _, err := w.s.CreateTemplate(context.Background(), TemplateInput{Name: "Empty"}); fieldsOf(err)["items"] == "" {
		t.Errorf("a template without items: %v", err)
	}
}

func TestEditingATemplateNeverChangesGivenChecklists(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tpl := w.template(chillerCheck())
	first := w.file("incident", true)

	in := chillerCheck()
	in.Items = append(in.Items, Item{ID: "leak_test", Type: YesNo, Label: "Leak test passed", Required: true})
	v2, err := w.s.UpdateTemplate(ctx, tpl.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || len(v2.Items) != 8 {
		t.Fatalf("after editing the items: version %d with %d items, want 2 with 8", v2.Version, len(v2.Items))
	}
	in.Name = "Chiller service (renamed)"
	if same, err := w.s.UpdateTemplate(ctx, tpl.ID, in); err != nil || same.Version != 2 {
		t.Fatalf("renaming made version %d (%v), want it to stay 2", same.Version, err)
	}
	second := w.file("incident", true)

	got := w.checklists(first)
	if len(got) != 1 || got[0].TemplateVersion != 1 || len(got[0].Items) != 7 {
		t.Fatalf("the ticket filed before the edit has %+v, want version 1 with 7 items", got)
	}
	if got := w.checklists(second); len(got) != 1 || got[0].TemplateVersion != 2 || len(got[0].Items) != 8 {
		t.Fatalf("the ticket filed after the edit has %+v, want version 2 with 8 items", got)
	}
	old, err := w.s.Template(ctx, tpl.ID, ver(1))
	if err != nil || len(old.Items) != 7 || old.Current != 2 {
		t.Fatalf("version 1 = %+v, %v", old, err)
	}
	if _, err := w.s.Template(ctx, tpl.ID, ver(3)); codeOf(err) != apperr.NotFound {
		t.Fatalf("version 3: %v, want not found", err)
	}
}

func TestTemplatesAttachByTicketKindAndAssetType(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	chiller := w.template(chillerCheck())
	anyIncident := w.template(TemplateInput{Name: "Safety", TicketKinds: []string{"incident"},
		Items: []Item{{ID: "ppe", Type: YesNo, Label: "PPE worn"}}})
	retired := w.template(TemplateInput{Name: "Old", Items: []Item{{ID: "x", Type: YesNo, Label: "x"}}})
	if _, err := w.s.SetTemplateActive(ctx, retired.ID, false); err != nil {
		t.Fatal(err)
	}
	names := func(id uuid.UUID) []string {
		var out []string
		for _, c := range w.checklists(id) {
			out = append(out, c.Name)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		kind    string
		onAsset bool
		want    []string
	}{
		{"incident", true, []string{chiller.Name, anyIncident.Name}},
		{"incident", false, []string{anyIncident.Name}},
		{"request", true, nil},
	} {
		if got := names(w.file(tc.kind, tc.onAsset)); !slices.Equal(got, tc.want) {
			t.Errorf("%s ticket (on the chiller: %v) got %v, want %v", tc.kind, tc.onAsset, got, tc.want)
		}
	}

	// By hand: staff only, once per template, active templates only.
	id := w.file("request", false)
	if _, err := w.s.Attach(ctx, w.engineer, id, chiller.ID); codeOf(err) != apperr.Forbidden {
		t.Errorf("an engineer attaching a checklist: %v, want forbidden", err)
	}
	c, err := w.s.Attach(ctx, w.dispatcher, id, chiller.ID)
	if err != nil || c.Name != chiller.Name || len(c.Missing) != 3 {
		t.Fatalf("attach = %+v, %v", c, err)
	}
	if _, err := w.s.Attach(ctx, w.dispatcher, id, chiller.ID); codeOf(err) != apperr.Conflict {
		t.Errorf("attaching twice: %v, want conflict", err)
	}
	if _, err := w.s.Attach(ctx, w.dispatcher, id, retired.ID); fieldsOf(err)["template_id"] == "" {
		t.Errorf("attaching a retired template: %v, want template_id invalid", err)
	}
	list, err := w.s.Templates(ctx, Filter{TicketKind: "request"}, page.Request{Limit: 10})
	if err != nil || len(list.Items) != 1 || list.Items[0].ID != retired.ID {
		t.Errorf("templates for requests = %+v, %v; want only the one for any kind", list.Items, err)
	}
}

func TestAnswersAreCheckedByType(t *testing.T) {
	w := newWorld(t)
	w.template(chillerCheck())
	id := w.working()
	c := w.checklists(id)[0].ID
	photo, pending := w.attachment(id, "photo", "confirmed"), w.attachment(id, "photo", "pending")
	sig := w.attachment(id, "signature", "confirmed")
	other := w.attachment(w.working(), "photo", "confirmed")

	for _, tc := range []struct {
		item  string
		value any
		ok    bool
	}{
		{"power_off", true, true}, {"power_off", "yes", false},
		{"pressure", 4.5, true}, {"pressure", 31, false}, {"pressure", -1, false}, {"pressure", "4", false},
		{"notes", "ok", true}, {"notes", strings.Repeat("x", 21), false}, {"notes", 7, false},
		{"refrigerant", "R410A", true}, {"refrigerant", "R22", false},
		{"parts", []string{"fan", "valve"}, true}, {"parts", []string{"fan", "fan"}, false}, {"parts", []string{}, false},
		{"photos", []uuid.UUID{photo}, true}, {"photos", []uuid.UUID{pending}, false},
		{"photos", []uuid.UUID{other}, false}, {"photos", []uuid.UUID{sig}, false}, {"photos", "x", false},
		{"signature", SignatureValue{AttachmentID: sig, SignedBy: "И. Петров"}, true},
		{"signature", SignatureValue{AttachmentID: sig}, false},
		{"signature", SignatureValue{AttachmentID: photo, SignedBy: "И. Петров"}, false},
		{"power_off", nil, true}, // clears
	} {
		_, err := w.answer(w.engineer, id, c, tc.item, tc.value, nil)
		if tc.ok && err != nil {
			t.Errorf("%s = %v: %v", tc.item, tc.value, err)
		}
		if !tc.ok && codeOf(err) != apperr.Invalid {
			t.Errorf("%s = %v: %v, want invalid", tc.item, tc.value, err)
		}
	}
	if _, err := w.answer(w.engineer, id, c, "nope", true, nil); codeOf(err) != apperr.NotFound {
		t.Errorf("an unknown item: %v, want not found", err)
	}
	got := w.checklists(id)[0]
	if !slices.Equal(got.Missing, []string{"power_off"}) {
		t.Errorf("missing = %v, want the cleared power_off only", got.Missing)
	}
}

func TestAnswersLastWriteWinsAndStaleWritesAreFlagged(t *testing.T) {
	w := newWorld(t)
	w.template(chillerCheck())
	id := w.working()
	c := w.checklists(id)[0].ID

	a, err := w.answer(w.engineer, id, c, "pressure", 4.0, ver(0))
	if err != nil || a.Version != 1 || a.Stale {
		t.Fatalf("first answer = %+v, %v; want version 1, not stale", a, err)
	}
	a, err = w.answer(w.dispatcher, id, c, "pressure", 5.0, ver(1))
	if err != nil || a.Version != 2 || a.Stale {
		t.Fatalf("an answer on the latest version = %+v, %v; want version 2, not stale", a, err)
	}
	// The engineer's phone still had version 1: its write wins, and says whose it replaced.
	a, err = w.answer(w.engineer, id, c, "pressure", 6.0, ver(1))
	if err != nil || a.Version != 3 || !a.Stale {
		t.Fatalf("a write on a stale base = %+v, %v; want version 3, stale", a, err)
	}
	if a, err = w.answer(w.engineer, id, c, "pressure", 7.0, nil); err != nil || a.Stale {
		t.Fatalf("a write without a base = %+v, %v; want not stale", a, err)
	}
	got := w.checklists(id)[0].Answers
	if len(got) != 1 || string(got[0].Value) != "7" || got[0].Version != 4 || got[0].AnsweredBy != w.engineer.UserID {
		t.Fatalf("answers = %+v, want 7 at version 4 by the engineer", got)
	}
}

func TestWhoMayAnswerAndRead(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.template(chillerCheck())
	id := w.working()
	c := w.checklists(id)[0].ID
	for _, tc := range []struct {
		p    auth.Principal
		want apperr.Code
	}{
		{w.engineer, ""}, {w.dispatcher, ""}, {w.manager, ""}, {w.admin, ""},
		{w.engineer2, apperr.NotFound}, {w.clientUserA, apperr.Forbidden}, {w.clientUserB, apperr.Forbidden},
	} {
		if _, err := w.answer(tc.p, id, c, "power_off", true, nil); codeOf(err) != tc.want {
			t.Errorf("%s answering: %v, want %q", tc.p.Role, err, tc.want)
		}
	}
	if _, err := w.s.ForTicket(ctx, w.clientUserA, id); err != nil {
		t.Errorf("the ticket's client reading its checklists: %v", err)
	}
	for _, p := range []auth.Principal{w.clientUserB, w.engineer2} {
		if _, err := w.s.ForTicket(ctx, p, id); codeOf(err) != apperr.NotFound {
			t.Errorf("%s reading another's checklists: %v, want not found", p.Role, err)
		}
	}
}

// resolveAll answers every required item of the chiller check and resolves the ticket.
func (w *world) completeAndResolve(id uuid.UUID) {
	w.t.Helper()
	c := w.checklists(id)[0].ID
	photo := w.attachment(id, "photo", "confirmed")
	for item, v := range map[string]any{"power_off": true, "pressure": 4.5, "photos": []uuid.UUID{photo}} {
		if _, err := w.answer(w.engineer, id, c, item, v, nil); err != nil {
			w.t.Fatal(err)
		}
	}
	w.do(w.engineer, id, ticket.Resolve, ticket.Command{Note: str("Заменён вентилятор")})
}

func TestResolveNeedsRequiredItemsAndArchivesTheChecklist(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.template(chillerCheck())
	id := w.working()
	c := w.checklists(id)[0].ID
	if _, err := w.answer(w.engineer, id, c, "power_off", true, nil); err != nil {
		t.Fatal(err)
	}

	_, err := w.tickets.Do(ctx, w.engineer, id, ticket.Resolve, ticket.Command{Note: str("done")})
	f := fieldsOf(err)
	if codeOf(err) != apperr.Conflict || len(f) != 2 || f["checklists."+c.String()+".pressure"] == "" ||
		f["checklists."+c.String()+".photos"] == "" {
		t.Fatalf("resolving with two required items left: %v %v, want a conflict naming both", err, f)
	}
	if tk, _ := w.tickets.Get(ctx, w.dispatcher, id); tk.Status != ticket.InProgress {
		t.Fatalf("the refused resolution left the ticket %s", tk.Status)
	}

	public := w.attachment(id, "document", "confirmed")
	w.exec(`UPDATE attachments SET public = true WHERE id = $1`, public)
	w.completeAndResolve(id) // with a photo the client may not see
	if _, err := w.answer(w.engineer, id, c, "notes", "late", nil); codeOf(err) != apperr.Conflict {
		t.Errorf("answering after resolution: %v, want conflict", err)
	}
	archives, err := w.s.Archives(ctx, w.clientUserA, id)
	if err != nil || len(archives) != 1 || archives[0].ArchivedAt != nil {
		t.Fatalf("archives after resolving = %+v, %v; want one waiting for storage", archives, err)
	}
	if _, err := w.s.DocumentURL(ctx, w.clientUserA, archives[0].ID, "act"); codeOf(err) != apperr.Conflict {
		t.Errorf("downloading before storage has it: %v, want conflict", err)
	}
	if n, err := w.s.ArchivePending(ctx); err != nil || n != 1 {
		t.Fatalf("ArchivePending = %d, %v; want 1", n, err)
	}
	a := w.mustArchived(id)

	doc := w.fetch(a, "json")
	var d Document
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if d.Ticket.ID != id || d.Ticket.ResolutionNote != "Заменён вентилятор" || len(d.Checklists) != 1 ||
		len(d.Checklists[0].Items) != 7 || len(d.Attachments) != 1 || d.Attachments[0].ID != public {
		t.Fatalf("archived document = %+v", d)
	}
	if it := d.Checklists[0].Items[1]; it.ID != "pressure" || string(it.Answer) != "4.5" || it.AnsweredBy == nil {
		t.Errorf("archived pressure item = %+v", it)
	}
	if page := string(w.fetch(a, "act")); !strings.Contains(page, "Work completion act") ||
		!strings.Contains(page, "Suction pressure") || !strings.Contains(page, "4.5 bar") {
		t.Errorf("act = %s", page)
	}
	if _, err := w.s.DocumentURL(ctx, w.clientUserB, a.ID, "act"); codeOf(err) != apperr.NotFound {
		t.Errorf("another company's client downloading the act: %v, want not found", err)
	}
	events, err := w.tickets.History(ctx, w.dispatcher, id)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(events, func(e ticket.Event) bool {
		return e.Kind == "checklist_archived" && e.Data["act_sha256"] == a.ActSHA256
	}) {
		t.Errorf("no checklist_archived event with the act's checksum in %+v", events)
	}
}

// mustArchived returns the ticket's one archive, which must be in storage.
func (w *world) mustArchived(id uuid.UUID) Archive {
	w.t.Helper()
	list, err := w.s.Archives(context.Background(), w.dispatcher, id)
	if err != nil || len(list) != 1 || list[0].ArchivedAt == nil {
		w.t.Fatalf("archives = %+v, %v; want one in storage", list, err)
	}
	return list[0]
}

// fetch downloads an archived document through its presigned URL and checks it against
// the recorded checksum.
func (w *world) fetch(a Archive, which string) []byte {
	w.t.Helper()
	link, err := w.s.DocumentURL(context.Background(), w.clientUserA, a.ID, which)
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := http.Get(link.URL)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	sum := sha256.Sum256(body)
	want := map[string]string{"json": a.JSONSHA256, "act": a.ActSHA256}[which]
	if res.StatusCode != http.StatusOK || hex.EncodeToString(sum[:]) != want {
		w.t.Fatalf("%s: %d, sha256 %x, want %s", which, res.StatusCode, sum, want)
	}
	return body
}

func TestStorageOutageDuringResolveLosesNothing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.template(chillerCheck())
	id := w.working()

	o := dbtest.StoreOptions(t)
	o.Endpoint = "127.0.0.1:1" // storage is down
	dead, err := objstore.New(o)
	if err != nil {
		t.Fatal(err)
	}
	w.s.store = dead
	w.completeAndResolve(id) // resolving does not need storage
	if n, err := w.s.ArchivePending(ctx); n != 0 || codeOf(err) != apperr.Unavailable {
		t.Fatalf("archiving with storage down = %d, %v; want 0 and unavailable", n, err)
	}
	var attempts int
	var lastError string
	var doc []byte
	if err := w.pool.QueryRow(ctx, `SELECT attempts, last_error, json_doc FROM checklist_archives WHERE ticket_id = $1`, id).
		Scan(&attempts, &lastError, &doc); err != nil || attempts != 1 || lastError == "" || len(doc) == 0 {
		t.Fatalf("after the failed try: attempts %d, error %q, document kept %d bytes (%v)", attempts, lastError, len(doc), err)
	}
	// Storage is back, but the archive waits out its backoff, then goes.
	w.s.store = w.store
	if n, err := w.s.ArchivePending(ctx); n != 0 || err != nil {
		t.Fatalf("retrying before the backoff = %d, %v; want nothing yet", n, err)
	}
	w.clock.Advance(2 * time.Minute)
	if n, err := w.s.ArchivePending(ctx); n != 1 || err != nil {
		t.Fatalf("retrying after the backoff = %d, %v; want 1", n, err)
	}
	a := w.mustArchived(id)
	if !bytes.Contains(w.fetch(a, "json"), []byte(id.String())) {
		t.Error("the archived document does not name the ticket")
	}
	if err := w.pool.QueryRow(ctx, `SELECT json_doc FROM checklist_archives WHERE id = $1`, a.ID).Scan(&doc); err != nil || doc != nil {
		t.Errorf("the stored document is still kept in the database (%d bytes, %v)", len(doc), err)
	}
}
