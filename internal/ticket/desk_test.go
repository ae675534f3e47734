package ticket

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/page"
)

func TestAClientNeverReachesAnotherCompanysTickets(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	theirs := w.ticketIn(Resolved) // company A's
	b := w.clientUserB
	checks := map[string]error{}
	_, checks["get"] = w.s.Get(ctx, b, theirs)
	_, checks["history"] = w.s.History(ctx, b, theirs)
	_, checks["comments"] = w.s.Comments(ctx, b, theirs)
	_, _, checks["comment"] = w.s.AddComment(ctx, b, theirs, NewComment{Body: "Подсмотрел"})
	_, checks["rate"] = w.s.Rate(ctx, b, theirs, RatingInput{Score: new(int)})
	five := 5
	_, checks["rate 5"] = w.s.Rate(ctx, b, theirs, RatingInput{Score: &five})
	_, checks["close"] = w.s.Do(ctx, b, theirs, Close, Command{})
	_, checks["reopen"] = w.s.Do(ctx, b, theirs, Reopen, Command{Note: str("не моё")})
	_, checks["asset history"] = w.s.AssetHistory(ctx, b, w.assetA, page.Request{})
	_, checks["guess a random id"] = w.s.Get(ctx, b, uuid.New())
	for name, err := range checks {
		if name == "rate" { // a bad score is refused before anything is looked up
			if codeOf(err) != apperr.Invalid {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if codeOf(err) != apperr.NotFound {
			t.Errorf("%s: got %v, want not found", name, err)
		}
	}
	list, err := w.s.List(ctx, b, Filter{}, page.Request{})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("company B lists %d tickets (err %v)", len(list.Items), err)
	}
	list, _ = w.s.List(ctx, b, Filter{ClientID: &w.clientA}, page.Request{})
	if len(list.Items) != 0 {
		t.Errorf("company B lists A's tickets by asking for them")
	}
	// Filing against another company's site or asset: not found, naming the field.
	for field, in := range map[string]NewTicket{
		"site_id":  {SiteID: str(w.siteA.String()), Kind: "incident", Title: "x"},
		"asset_id": {AssetID: str(w.assetA.String()), Kind: "incident", Title: "x"},
	} {
		_, _, err := w.s.Create(ctx, b, in)
		if codeOf(err) != apperr.NotFound || fieldsOf(err)[field] == "" {
			t.Errorf("filing at A's %s: %v", field, err)
		}
	}
	if n := countTickets(t, w); n != 1 {
		t.Fatalf("%d tickets stored, want 1", n)
	}
}

func countTickets(t *testing.T, w *world) int {
	t.Helper()
	var n int
	if err := w.pool.QueryRow(context.Background(), `SELECT count(*) FROM tickets`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInternalCommentsStayInternal(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := w.ticketIn(Assigned)
	if _, _, err := w.s.AddComment(ctx, w.dispatcher, id, NewComment{Body: "Клиент должник, не спешить", Visibility: str("internal")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.s.AddComment(ctx, w.engineer, id, NewComment{Body: "Буду в 14:00"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := w.s.AddComment(ctx, w.clientUserA, id, NewComment{Body: "секрет", Visibility: str("internal")})
	if fieldsOf(err)["visibility"] == "" {
		t.Fatalf("a client posted an internal comment: %v", err)
	}
	if _, _, err := w.s.AddComment(ctx, w.manager, id, NewComment{Body: "Разберитесь"}); codeOf(err) != apperr.Forbidden {
		t.Fatalf("a manager commented: %v", err)
	}
	staff, _ := w.s.Comments(ctx, w.dispatcher, id)
	client, _ := w.s.Comments(ctx, w.clientUserA, id)
	if len(staff) != 2 || len(client) != 1 || client[0].Visibility != "public" {
		t.Fatalf("staff see %d comments, the client %d: %+v", len(staff), len(client), client)
	}
	for _, e := range mustHistory(t, w, w.clientUserA, id) {
		if e.Kind == "commented_internal" {
			t.Fatal("the client's history shows that an internal comment was written")
		}
	}
	if !slices.ContainsFunc(mustHistory(t, w, w.dispatcher, id), func(e Event) bool { return e.Kind == "commented_internal" }) {
		t.Fatal("staff history lacks the internal comment")
	}
}

func mustHistory(t *testing.T, w *world, p auth.Principal, id uuid.UUID) []Event {
	t.Helper()
	events, err := w.s.History(context.Background(), p, id)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestRetriedRequestsCreateNothingTwice(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7()).String()
	in := NewTicket{ID: &id, SiteID: str(w.siteA.String()), Kind: "incident", Title: "Сбой кассы"}
	first, created, err := w.s.Create(ctx, w.clientUserA, in)
	if err != nil || !created {
		t.Fatalf("first filing: %v %v", created, err)
	}
	again, created, err := w.s.Create(ctx, w.clientUserA, in)
	if err != nil || created || again.Number != first.Number {
		t.Fatalf("the retry: created %v, number %s vs %s, %v", created, again.Number, first.Number, err)
	}
	if _, _, err := w.s.Create(ctx, w.clientUserB, NewTicket{ID: &id, SiteID: str(w.siteB.String()), Kind: "incident", Title: "x"}); codeOf(err) != apperr.Conflict {
		t.Fatalf("another company reusing the id: %v", err)
	}
	if _, _, err := w.s.Create(ctx, w.dispatcher, in); codeOf(err) != apperr.Conflict {
		t.Fatalf("a dispatcher reusing the client's id got the ticket back: %v", err)
	}
	if _, _, err := w.s.Create(ctx, w.clientUserA, NewTicket{ID: str(uuid.NewString()), SiteID: str(w.siteA.String()),
		Kind: "incident", Title: "x"}); fieldsOf(err)["id"] == "" {
		t.Fatalf("a random (v4) id was accepted: %v", err)
	}
	cid := uuid.NewString()
	for i := range 3 {
		_, created, err := w.s.AddComment(ctx, w.clientUserA, first.ID, NewComment{ID: &cid, Body: "Повторная отправка"})
		if err != nil || created != (i == 0) {
			t.Fatalf("comment attempt %d: created %v, %v", i, created, err)
		}
	}
	if n := countTickets(t, w); n != 1 {
		t.Fatalf("%d tickets", n)
	}
	comments, _ := w.s.Comments(ctx, w.admin, first.ID)
	if len(comments) != 1 {
		t.Fatalf("%d comments after three tries", len(comments))
	}
}

func TestFilingRules(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	high := "high"
	byAsset, _, err := w.s.Create(ctx, w.clientUserA, NewTicket{AssetID: str(w.assetA.String()), Kind: "incident",
		Title: "Не морозит", Priority: &high})
	if err != nil || byAsset.SiteID != w.siteA || byAsset.ClientID != w.clientA || byAsset.Priority != "high" {
		t.Fatalf("filed by asset: %+v %v", byAsset, err)
	}
	events := mustHistory(t, w, w.admin, byAsset.ID)
	if len(events) != 1 || events[0].Kind != "created" || *events[0].To != "new" {
		t.Fatalf("events %+v", events)
	}
	onPhone, _, err := w.s.Create(ctx, w.dispatcher, NewTicket{SiteID: str(w.siteA.String()), Kind: "request",
		Title: "Звонок клиента", RequiredSkillIDs: []string{w.skill.String()}})
	if err != nil || len(onPhone.RequiredSkills) != 1 || onPhone.RequiredSkills[0].Code != "refrigeration" || *onPhone.CreatedBy != w.dispatcher.UserID {
		t.Fatalf("filed by a dispatcher: %+v %v", onPhone, err)
	}
	for name, tc := range map[string]struct {
		in    NewTicket
		field string
	}{
		"no place":                  {NewTicket{Kind: "incident", Title: "x"}, "site_id"},
		"preventive by hand":        {NewTicket{SiteID: str(w.siteA.String()), Kind: "preventive", Title: "x"}, "kind"},
		"no title":                  {NewTicket{SiteID: str(w.siteA.String()), Kind: "incident", Title: "  "}, "title"},
		"bad priority":              {NewTicket{SiteID: str(w.siteA.String()), Kind: "incident", Title: "x", Priority: str("urgent")}, "priority"},
		"client sets skills":        {NewTicket{SiteID: str(w.siteA.String()), Kind: "incident", Title: "x", RequiredSkillIDs: []string{w.skill.String()}}, "required_skill_ids"},
		"asset not at the site":     {NewTicket{SiteID: str(uuid.NewString()), AssetID: str(w.assetA.String()), Kind: "incident", Title: "x"}, "asset_id"},
		"malformed id":              {NewTicket{ID: str("abc"), SiteID: str(w.siteA.String()), Kind: "incident", Title: "x"}, "id"},
		"malformed skill":           {NewTicket{SiteID: str(w.siteA.String()), Kind: "incident", Title: "x", RequiredSkillIDs: []string{"x"}}, "required_skill_ids[0]"},
		"unknown skill by the desk": {NewTicket{SiteID: str(w.siteA.String()), Kind: "incident", Title: "x", RequiredSkillIDs: []string{uuid.NewString()}}, "required_skill_ids"},
	} {
		p := w.clientUserA
		if name == "unknown skill by the desk" {
			p = w.dispatcher
		}
		_, _, err := w.s.Create(ctx, p, tc.in)
		if codeOf(err) != apperr.Invalid || fieldsOf(err)[tc.field] == "" {
			t.Errorf("%s: got %v, want invalid %s", name, err, tc.field)
		}
	}
	if _, _, err := w.s.Create(ctx, w.engineer, NewTicket{SiteID: str(w.siteA.String()), Kind: "incident", Title: "x"}); codeOf(err) != apperr.Forbidden {
		t.Errorf("an engineer filed a ticket: %v", err)
	}
	if n := countTickets(t, w); n != 2 {
		t.Fatalf("%d tickets stored, want 2", n)
	}
}

func TestClosingTheLoop(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	five, one, three := 5, 1, 3

	confirmed := w.ticketIn(Resolved)
	if tk := w.do(w.clientUserA, confirmed, Close, Command{}); tk.Status != Closed || tk.ClosedAt == nil {
		t.Fatalf("confirmed: %+v", tk)
	}

	happy := w.ticketIn(Resolved)
	tk, err := w.s.Rate(ctx, w.clientUserA, happy, RatingInput{Score: &five, Comment: str("Быстро и аккуратно")})
	if err != nil || tk.Status != Closed || tk.Rating == nil || tk.Rating.Score != 5 {
		t.Fatalf("rated 5: %+v %v", tk, err)
	}
	if _, err := w.s.Rate(ctx, w.clientUserA, happy, RatingInput{Score: &three}); codeOf(err) != apperr.Conflict {
		t.Fatalf("rated twice: %v", err)
	}

	unhappy := w.ticketIn(Resolved)
	tk, err = w.s.Rate(ctx, w.clientUserA, unhappy, RatingInput{Score: &one, Comment: str("Снова течёт")})
	if err != nil || tk.Status != Assigned || tk.ReopenCount != 1 || tk.ResolvedAt != nil || tk.Rating != nil {
		t.Fatalf("rated 1: %+v %v", tk, err)
	}
	if tk.AssigneeID == nil || *tk.AssigneeID != w.engineerID {
		t.Fatalf("reopened work went to %v, not back to its engineer", tk.AssigneeID)
	}
	// Redone after a good rating was withdrawn by a reopen: the new work can be rated.
	w.do(w.dispatcher, happy, Reopen, Command{Note: str("Клиент звонил: снова шумит")})
	for _, a := range []Action{Accept, StartWork, Resolve} {
		w.do(w.engineer, happy, a, w.command(a))
	}
	if tk, err := w.s.Rate(ctx, w.clientUserA, happy, RatingInput{Score: &three}); err != nil || tk.Rating.Score != 3 {
		t.Fatalf("rating the redone work: %+v %v", tk.Rating, err)
	}

	unrated := w.ticketIn(Resolved)
	if _, err := w.s.Rate(ctx, w.dispatcher, unrated, RatingInput{Score: &five}); codeOf(err) != apperr.Forbidden {
		t.Fatalf("a dispatcher rated: %v", err)
	}
	if _, err := w.s.Rate(ctx, w.clientUserA, w.ticketIn(InProgress), RatingInput{Score: &five}); codeOf(err) != apperr.Conflict {
		t.Fatalf("unfinished work rated: %v", err)
	}

	forgotten := w.ticketIn(Resolved)
	stale := w.ticketIn(Resolved)
	w.clock.Advance(71 * time.Hour)
	if r, _ := w.s.Sweep(ctx); r.AutoClosed != 0 {
		t.Fatalf("closed before %v: %+v", 72*time.Hour, r)
	}
	w.clock.Advance(2 * time.Hour)
	if r, err := w.s.Sweep(ctx); err != nil || r.AutoClosed != 3 { // forgotten, stale and unrated
		t.Fatalf("auto-close: %+v %v", r, err)
	}
	if tk, _ := w.s.Get(ctx, w.admin, unrated); tk.Status != Closed {
		t.Fatalf("unrated: %s", tk.Status)
	}
	events := mustHistory(t, w, w.clientUserA, forgotten)
	if last := events[len(events)-1]; last.Kind != "close" || last.ActorID != nil || last.Data["auto"] != true {
		t.Fatalf("auto-close event %+v", last)
	}
	// Still within 14 days of resolution: the client may reopen.
	if tk := w.do(w.clientUserA, forgotten, Reopen, Command{Note: str("Опять не работает")}); tk.Status != Assigned || tk.ClosedAt != nil {
		t.Fatalf("reopened: %+v", tk)
	}
	w.clock.Advance(12 * 24 * time.Hour)
	if _, err := w.s.Do(ctx, w.clientUserA, stale, Reopen, Command{Note: str("Поздно")}); codeOf(err) != apperr.Conflict {
		t.Fatalf("reopened after the window: %v", err)
	}
	if tk, err := w.s.Rate(ctx, w.clientUserA, stale, RatingInput{Score: &one}); err != nil || tk.Status != Closed || tk.Rating.Score != 1 {
		t.Fatalf("a low rating after the window is recorded without reopening: %+v %v", tk, err)
	}
}

func TestListSearchAndAssetHistory(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	fridge, _, err := w.s.Create(ctx, w.clientUserA, NewTicket{AssetID: str(w.assetA.String()), Kind: "incident", Title: "Холодильник гудит"})
	if err != nil {
		t.Fatal(err)
	}
	w.do(w.dispatcher, fridge.ID, Assign, w.command(Assign))
	for range 3 {
		w.file()
	}
	found, _ := w.s.List(ctx, w.dispatcher, Filter{Query: "гудит"}, page.Request{})
	if len(found.Items) != 1 || found.Items[0].ID != fridge.ID {
		t.Fatalf("search: %+v", found.Items)
	}
	byNumber, _ := w.s.List(ctx, w.dispatcher, Filter{Query: fridge.Number}, page.Request{})
	assigned, _ := w.s.List(ctx, w.dispatcher, Filter{Statuses: []string{"assigned", "accepted"}}, page.Request{})
	mine, _ := w.s.List(ctx, w.engineer, Filter{}, page.Request{})
	if len(byNumber.Items) != 1 || len(assigned.Items) != 1 || len(mine.Items) != 1 || mine.Items[0].ID != fridge.ID {
		t.Fatalf("by number %d, assigned %d, the engineer's %d", len(byNumber.Items), len(assigned.Items), len(mine.Items))
	}
	// Newest first, and paging neither skips nor repeats.
	var seen []uuid.UUID
	pr := page.Request{Limit: 3}
	for {
		p, err := w.s.List(ctx, w.manager, Filter{}, pr)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range p.Items {
			seen = append(seen, tk.ID)
		}
		if p.NextCursor == "" {
			break
		}
		next := uuid.MustParse(p.NextCursor)
		pr.After = &next
	}
	if len(seen) != 4 || seen[3] != fridge.ID {
		t.Fatalf("paged list %v, want 4 with the first filed last", seen)
	}
	history, err := w.s.AssetHistory(ctx, w.clientUserA, w.assetA, page.Request{})
	if err != nil || len(history.Items) != 1 || len(history.Items[0].Events) != 2 {
		t.Fatalf("asset history: %+v %v", history, err)
	}
	if h, err := w.s.AssetHistory(ctx, w.engineer, w.assetA, page.Request{}); err != nil || len(h.Items) != 1 {
		t.Fatalf("the assigned engineer reads the asset's history on site: %+v %v", h, err)
	}
}

func TestAssignmentsClaimCapacityAndRecordWhy(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	openJobs := func(engineer uuid.UUID) int {
		var n int
		if err := w.pool.QueryRow(ctx, `SELECT open_jobs FROM engineers WHERE id = $1`, engineer).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := w.pool.Exec(ctx, `UPDATE engineers SET capacity = 1 WHERE id = $1`, w.engineerID); err != nil {
		t.Fatal(err)
	}
	first := w.ticketIn(Assigned)
	if n := openJobs(w.engineerID); n != 1 {
		t.Fatalf("open jobs after one assignment: %d", n)
	}
	second := w.file().ID
	_, err := w.s.Do(ctx, w.dispatcher, second, Assign, w.command(Assign))
	if codeOf(err) != apperr.Conflict || fieldsOf(err)["engineer_id"] == "" {
		t.Fatalf("assigning past capacity: %v", err)
	}
	cmd := w.command(Assign)
	cmd.OverrideCapacity = true
	w.do(w.dispatcher, second, Assign, cmd)
	if n := openJobs(w.engineerID); n != 2 {
		t.Fatalf("open jobs after an override: %d", n)
	}
	w.do(w.dispatcher, second, Unassign, Command{Note: str("Перегружен")})
	w.do(w.dispatcher, first, Assign, Command{EngineerID: str(w.engineer2ID.String()), Note: str("Первый инженер на больничном")})
	if a, b := openJobs(w.engineerID), openJobs(w.engineer2ID); a != 0 || b != 1 {
		t.Fatalf("after unassign and reassign: %d and %d", a, b)
	}
	w.do(w.engineer2, first, Accept, Command{})
	w.do(w.engineer2, first, StartWork, Command{})
	w.do(w.engineer2, first, Resolve, w.command(Resolve))
	if n := openJobs(w.engineer2ID); n != 0 {
		t.Fatalf("resolved work still counts: %d", n)
	}
	var mode string
	var distance float64
	var reasons map[string]any
	err = w.pool.QueryRow(ctx, `SELECT mode, distance_m, reasons FROM ticket_assignments WHERE ticket_id = $1
		ORDER BY created_at DESC LIMIT 1`, first).Scan(&mode, &distance, &reasons)
	if err != nil || mode != "manual" || distance < 1000 || distance > 20000 { // the engineers' base is ~6.7 km from the site
		t.Fatalf("recorded assignment: %s %.0f m (%v)", mode, distance, err)
	}
	// The dispatcher's reason is the reassignment's, beside whom it was taken from.
	if reasons["note"] != "Первый инженер на больничном" || reasons["previous_engineer_id"] != w.engineerID.String() {
		t.Fatalf("reasons of the reassignment: %v", reasons)
	}
}

func TestConcurrentRetriesOfOneFilingGetTheSameTicket(t *testing.T) {
	w := newWorld(t)
	id := uuid.Must(uuid.NewV7()).String()
	in := NewTicket{ID: &id, SiteID: str(w.siteA.String()), Kind: "incident", Title: "Повтор"}
	numbers := make(chan string, 8)
	for range 8 {
		go func() {
			tk, _, err := w.s.Create(context.Background(), w.clientUserA, in)
			if err != nil {
				t.Error(err)
			}
			numbers <- tk.Number
		}()
	}
	first := <-numbers
	for range 7 {
		if n := <-numbers; n != first {
			t.Fatalf("retries got tickets %s and %s", first, n)
		}
	}
	if n := countTickets(t, w); n != 1 {
		t.Fatalf("%d tickets", n)
	}
}

func TestEngineersReadTheHistoryOfAssetsTheyWorkOn(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tk, _, err := w.s.Create(ctx, w.clientUserA, NewTicket{AssetID: str(w.assetA.String()), Kind: "incident", Title: "Шумит"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.AssetHistory(ctx, w.engineer, w.assetA, page.Request{}); codeOf(err) != apperr.NotFound {
		t.Fatalf("an engineer read the history of an asset they do not work on: %v", err)
	}
	w.do(w.dispatcher, tk.ID, Assign, w.command(Assign))
	if h, err := w.s.AssetHistory(ctx, w.engineer, w.assetA, page.Request{}); err != nil || len(h.Items) != 1 {
		t.Fatalf("the assigned engineer: %+v %v", h, err)
	}
}

func TestPlacingABatchCountsTheRoomItTakes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.pool.Exec(ctx, `UPDATE engineers SET capacity = 1 WHERE id = $1`, w.engineerID); err != nil {
		t.Fatal(err)
	}
	a, b, c := w.file().ID, w.file().ID, w.file().ID
	cancelled := w.ticketIn(Cancelled)
	dist := 1234.0
	both := []Choice{{Engineer: w.engineerID, Assignment: Assignment{Mode: "auto", DistanceM: &dist,
		Reasons: map[string]any{"rank": 1}}}, {Engineer: w.engineer2ID, Assignment: Assignment{Mode: "auto"}}}
	placed, err := w.s.Place(ctx, []Offer{
		{Ticket: a, By: System, Choices: both},
		{Ticket: b, By: System, Choices: both},             // the first choice is full now
		{Ticket: c, By: System, Choices: both[:1]},         // and it had no other
		{Ticket: a, By: System, Choices: both},             // offered twice
		{Ticket: cancelled, By: System, Choices: both[1:]}, // no longer waiting
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Placed{{Engineer: &w.engineerID}, {Engineer: &w.engineer2ID}, {}, {Changed: true}, {Changed: true}}
	for i := range want {
		got := placed[i]
		if got.Changed != want[i].Changed || (got.Engineer == nil) != (want[i].Engineer == nil) ||
			(got.Engineer != nil && *got.Engineer != *want[i].Engineer) {
			t.Errorf("offer %d placed %+v, want %+v", i, got, want[i])
		}
	}
	for id, engineer := range map[uuid.UUID]uuid.UUID{a: w.engineerID, b: w.engineer2ID} {
		tk, err := w.s.Get(ctx, w.dispatcher, id)
		if err != nil || tk.Status != Assigned || *tk.AssigneeID != engineer || tk.Version != 2 {
			t.Errorf("placed ticket = %+v, %v", tk, err)
		}
		events, _ := w.s.History(ctx, w.dispatcher, id)
		last := events[len(events)-1]
		if last.Kind != "assign" || last.Data["mode"] != "auto" || last.Data["engineer_id"] != engineer.String() {
			t.Errorf("the placement's event: %+v", last)
		}
	}
	if tk, _ := w.s.Get(ctx, w.dispatcher, c); tk.Status != New || tk.AssigneeID != nil {
		t.Errorf("the ticket nobody could take is %s", tk.Status)
	}
	var recorded float64
	var reasons map[string]any
	if err := w.pool.QueryRow(ctx, `SELECT distance_m, reasons FROM ticket_assignments WHERE ticket_id = $1`, a).
		Scan(&recorded, &reasons); err != nil || recorded != dist || reasons["rank"] != 1.0 {
		t.Errorf("recorded assignment: %v m, %v (%v)", recorded, reasons, err)
	}
	var over int
	if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM engineers WHERE open_jobs > capacity`).Scan(&over); err != nil || over != 0 {
		t.Errorf("%d engineers over capacity (%v)", over, err)
	}
	// Two placements on one engineer in one batch record the load each found.
	d, e := w.file().ID, w.file().ID
	if _, err := w.s.Place(ctx, []Offer{{Ticket: d, By: System, Choices: both[1:]}, {Ticket: e, By: System, Choices: both[1:]}}); err != nil {
		t.Fatal(err)
	}
	var loads string
	if err := w.pool.QueryRow(ctx, `SELECT string_agg(load::text, ',' ORDER BY t.number) FROM ticket_assignments a
		JOIN tickets t ON t.id = a.ticket_id WHERE a.ticket_id IN ($1, $2)`, d, e).Scan(&loads); err != nil || loads != "1,2" {
		t.Errorf("recorded loads %q (%v), want 1,2", loads, err)
	}
	if _, err := w.s.Place(ctx, []Offer{{Ticket: c, By: w.engineer, Choices: both[1:]}}); codeOf(err) != apperr.Forbidden {
		t.Errorf("an engineer placing tickets: %v, want forbidden", err)
	}
}
