package checklist

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/postgres"
)

// resolving refuses to resolve a ticket whose checklists have required items left, and
// otherwise fixes its archive: both documents are built here, from the state the
// resolution commits, and wait in the database until storage has them.
func (s *Service) resolving(ctx context.Context, id uuid.UUID) error {
	lists, err := s.load(ctx, id, nil)
	if err != nil || len(lists) == 0 {
		return err
	}
	gaps := map[string]string{}
	for _, c := range lists {
		for _, item := range c.Missing {
			for _, it := range c.Items {
				if it.ID == item {
					gaps[fmt.Sprintf("checklists.%s.%s", c.ID, item)] = "is required: " + it.Label
				}
			}
		}
	}
	if len(gaps) > 0 {
		return &apperr.Error{Code: apperr.Conflict, Fields: gaps,
			Message: fmt.Sprintf("the ticket's checklists have %d required items unanswered", len(gaps))}
	}
	doc, err := s.document(ctx, id, lists)
	if err != nil {
		return err
	}
	return s.queueArchive(ctx, doc)
}

// Document is the archived record of a resolution: the ticket, its completed checklists
// and the files attached to it.
type Document struct {
	Ticket      DocTicket       `json:"ticket"`
	Checklists  []DocChecklist  `json:"checklists"`
	Attachments []DocAttachment `json:"attachments"`
}

// DocTicket is the ticket as resolved.
type DocTicket struct {
	ID             uuid.UUID `json:"id"`
	Number         string    `json:"number"`
	Title          string    `json:"title"`
	Kind           string    `json:"kind"`
	Client         string    `json:"client"`
	Site           string    `json:"site"`
	Address        string    `json:"address"`
	Asset          *string   `json:"asset"`
	Engineer       *string   `json:"engineer"`
	FiledAt        time.Time `json:"filed_at"`
	ResolvedAt     time.Time `json:"resolved_at"`
	ResolutionNote string    `json:"resolution_note"`
}

// DocChecklist is one completed checklist.
type DocChecklist struct {
	ID              uuid.UUID `json:"id"`
	Name            string    `json:"name"`
	TemplateID      uuid.UUID `json:"template_id"`
	TemplateVersion int       `json:"template_version"`
	Items           []DocItem `json:"items"`
}

// DocItem is an item with its answer, if any.
type DocItem struct {
	Item
	Answer     json.RawMessage `json:"answer"`
	AnsweredBy *string         `json:"answered_by"`
	AnsweredAt *time.Time      `json:"answered_at"`
}

// DocAttachment is a confirmed public file of the ticket.
type DocAttachment struct {
	ID          uuid.UUID `json:"id"`
	Kind        string    `json:"kind"`
	FileName    string    `json:"file_name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
}

func (s *Service) document(ctx context.Context, id uuid.UUID, lists []Checklist) (Document, error) {
	q := postgres.Q(ctx, s.pool)
	var d Document
	t := &d.Ticket
	err := q.QueryRow(ctx, `
		SELECT k.id, k.number, k.title, k.kind, c.name, s.name, s.address,
			nullif(concat_ws(' ', a.asset_type, a.manufacturer, a.model, 's/n ' || a.serial_number), ''), u.full_name,
			k.created_at, k.resolved_at, coalesce(k.resolution_note, '')
		FROM tickets k JOIN clients c ON c.id = k.client_id JOIN sites s ON s.id = k.site_id
		LEFT JOIN assets a ON a.id = k.asset_id LEFT JOIN engineers e ON e.id = k.assignee_id
		LEFT JOIN users u ON u.id = e.user_id
		WHERE k.id = $1`, id).Scan(&t.ID, &t.Number, &t.Title, &t.Kind, &t.Client, &t.Site, &t.Address, &t.Asset,
		&t.Engineer, &t.FiledAt, &t.ResolvedAt, &t.ResolutionNote)
	if err != nil {
		return d, fmt.Errorf("checklist: archive ticket: %w", err)
	}
	names, err := s.userNames(ctx, lists)
	if err != nil {
		return d, err
	}
	for _, c := range lists {
		dc := DocChecklist{ID: c.ID, Name: c.Name, TemplateID: c.TemplateID, TemplateVersion: c.TemplateVersion}
		for _, it := range c.Items {
			di := DocItem{Item: it}
			for _, a := range c.Answers {
				if a.ItemID == it.ID && given(a.Value) {
					name, at := names[a.AnsweredBy], a.AnsweredAt
					di.Answer, di.AnsweredBy, di.AnsweredAt = a.Value, &name, &at
				}
			}
			dc.Items = append(dc.Items, di)
		}
		d.Checklists = append(d.Checklists, dc)
	}
	// The client reads the act: it lists the files the client may see.
	rows, err := q.Query(ctx, `SELECT id, kind, file_name, content_type, size_bytes, encode(sha256, 'hex')
		FROM attachments WHERE ticket_id = $1 AND status = 'confirmed' AND public ORDER BY created_at, id`, id)
	if err != nil {
		return d, fmt.Errorf("checklist: archive attachments: %w", err)
	}
	d.Attachments, err = pgx.CollectRows(rows, pgx.RowToStructByPos[DocAttachment])
	if err != nil {
		return d, fmt.Errorf("checklist: archive attachments: %w", err)
	}
	return d, nil
}

func (s *Service) userNames(ctx context.Context, lists []Checklist) (map[uuid.UUID]string, error) {
	var ids []uuid.UUID
	for _, c := range lists {
		for _, a := range c.Answers {
			ids = append(ids, a.AnsweredBy)
		}
	}
	names := map[uuid.UUID]string{}
	rows, err := postgres.Q(ctx, s.pool).Query(ctx, `SELECT id, full_name FROM users WHERE id = ANY ($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("checklist: archive names: %w", err)
	}
	var id uuid.UUID
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error { names[id] = name; return nil })
	if err != nil {
		return nil, fmt.Errorf("checklist: archive names: %w", err)
	}
	return names, nil
}

//go:embed act.html
var actHTML string

var act = template.Must(template.New("act").Funcs(template.FuncMap{
	"answer": answerText,
	"when":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
}).Parse(actHTML))

// answerText shows an answer to people.
func answerText(it DocItem) string {
	if it.Answer == nil {
		return "—"
	}
	switch it.Type {
	case YesNo:
		if string(it.Answer) == "true" {
			return "Yes"
		}
		return "No"
	case Number:
		return string(it.Answer) + unit(it.Item)
	case Photo:
		var ids []string
		_ = json.Unmarshal(it.Answer, &ids)
		return fmt.Sprintf("%d photo(s): %v", len(ids), ids)
	case Signature:
		var sig SignatureValue
		_ = json.Unmarshal(it.Answer, &sig)
		return fmt.Sprintf("signed by %s (signature %s)", sig.SignedBy, sig.AttachmentID)
	case MultiChoice:
		var picked []string
		_ = json.Unmarshal(it.Answer, &picked)
		sort.Strings(picked)
		return fmt.Sprint(picked)
	}
	var s string
	_ = json.Unmarshal(it.Answer, &s)
	return s
}

// queueArchive stores both documents with their checksums, to go to storage next.
func (s *Service) queueArchive(ctx context.Context, d Document) error {
	js, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("checklist: archive: %w", err)
	}
	var page bytes.Buffer
	if err := act.Execute(&page, d); err != nil {
		return fmt.Errorf("checklist: archive act: %w", err)
	}
	// The archive's own id keeps two resolutions within one second apart.
	id := uuid.Must(uuid.NewV7())
	prefix := fmt.Sprintf("tickets/%s/archive/%s-%s-", d.Ticket.ID, d.Ticket.ResolvedAt.UTC().Format("20060102T150405Z"), id)
	jsum, asum := sha256.Sum256(js), sha256.Sum256(page.Bytes())
	_, err = postgres.Q(ctx, s.pool).Exec(ctx, `
		INSERT INTO checklist_archives (id, ticket_id, resolved_at, json_key, json_sha256, act_key, act_sha256, json_doc, act_doc, next_try_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		id, d.Ticket.ID, d.Ticket.ResolvedAt, prefix+"checklists.json", jsum[:], prefix+"act.html",
		asum[:], js, page.Bytes(), s.now())
	if err != nil {
		return fmt.Errorf("checklist: archive: %w", err)
	}
	return nil
}

// Archive is a resolution's archived documents, as the API shows them.
type Archive struct {
	ID         uuid.UUID  `json:"id"`
	TicketID   uuid.UUID  `json:"ticket_id"`
	ResolvedAt time.Time  `json:"resolved_at"`
	JSONKey    string     `json:"json_key"`
	JSONSHA256 string     `json:"json_sha256"`
	ActKey     string     `json:"act_key"`
	ActSHA256  string     `json:"act_sha256"`
	ArchivedAt *time.Time `json:"archived_at"`
	Attempts   int        `json:"attempts"`
}

const archiveSelect = `SELECT id, ticket_id, resolved_at, json_key, encode(json_sha256, 'hex'), act_key,
	encode(act_sha256, 'hex'), archived_at, attempts FROM checklist_archives`

func scanArchive(row pgx.Row) (Archive, error) {
	var a Archive
	err := row.Scan(&a.ID, &a.TicketID, &a.ResolvedAt, &a.JSONKey, &a.JSONSHA256, &a.ActKey, &a.ActSHA256, &a.ArchivedAt, &a.Attempts)
	return a, err
}

// Archives lists a ticket's archives, newest first; archived_at is null while one still
// waits for storage.
func (s *Service) Archives(ctx context.Context, p auth.Principal, ticketID uuid.UUID) ([]Archive, error) {
	if _, err := s.tickets.Get(ctx, p, ticketID); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, archiveSelect+` WHERE ticket_id = $1 ORDER BY resolved_at DESC`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("checklist: archives: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Archive, error) { return scanArchive(row) })
	if err != nil {
		return nil, fmt.Errorf("checklist: archives: %w", err)
	}
	return list, nil
}

// Link is a short-lived download.
type Link struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// DocumentURL returns a download of an archive's JSON document ("json") or its act
// ("act"), for those who may see the ticket, once storage has it.
func (s *Service) DocumentURL(ctx context.Context, p auth.Principal, archiveID uuid.UUID, which string) (Link, error) {
	if which != "json" && which != "act" {
		return Link{}, apperr.Field("document", "must be json or act")
	}
	a, err := postgres.GetByID(ctx, s.pool, "archive", archiveSelect+` WHERE id = $1`, archiveID, scanArchive)
	if err != nil {
		return Link{}, err
	}
	if _, err := s.tickets.Get(ctx, p, a.TicketID); err != nil {
		return Link{}, apperr.New(apperr.NotFound, "archive %s not found", archiveID)
	}
	if a.ArchivedAt == nil {
		return Link{}, apperr.New(apperr.Conflict, "the archive is not in storage yet; it is retried until it is")
	}
	key, name := a.JSONKey, "checklists.json"
	if which == "act" {
		key, name = a.ActKey, "act.html"
	}
	url, err := s.store.PresignGet(ctx, key, name, s.opts.URLTTL)
	if err != nil {
		return Link{}, err
	}
	return Link{URL: url, ExpiresAt: s.now().Add(s.opts.URLTTL)}, nil
}

// ArchivePending puts waiting archives into storage, one at a time, until none is due.
// It stops at the first failure (storage is likely down) and returns it; the failed
// archive is tried again after a backoff. Replicas running it at once share the work.
func (s *Service) ArchivePending(ctx context.Context) (int, error) {
	n := 0
	for {
		done, err := s.archiveOne(ctx)
		if err != nil || !done {
			return n, err
		}
		n++
	}
}

// maxBackoff caps the wait between tries of one archive.
const maxBackoff = time.Hour

// lease is how long a claimed archive is left to its server before another may try it
// (the server died, say): longer than two storage calls can take.
const lease = 10 * time.Minute

// archiveOne stores the archive due first. It is claimed with a lease in one statement
// and stored outside any transaction: one waiting on storage would hold back every
// device's sync. Replicas running it at once take different archives.
func (s *Service) archiveOne(ctx context.Context) (bool, error) {
	now := s.now()
	var id, ticketID uuid.UUID
	var jsonKey, actKey string
	var jsonDoc, actDoc, jsum, asum []byte
	var attempts int
	err := s.pool.QueryRow(ctx, `
		UPDATE checklist_archives a SET next_try_at = $2, attempts = a.attempts + 1
		WHERE a.id = (SELECT id FROM checklist_archives WHERE archived_at IS NULL AND next_try_at <= $1
			ORDER BY next_try_at LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING a.id, a.ticket_id, a.json_key, a.json_doc, a.json_sha256, a.act_key, a.act_doc, a.act_sha256, a.attempts`,
		now, now.Add(lease)).Scan(&id, &ticketID, &jsonKey, &jsonDoc, &jsum, &actKey, &actDoc, &asum, &attempts)
	if postgres.ErrNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checklist: archive: %w", err)
	}
	putErr := s.store.Put(ctx, jsonKey, "application/json", jsonDoc)
	if putErr == nil {
		putErr = s.store.Put(ctx, actKey, "text/html; charset=utf-8", actDoc)
	}
	if putErr != nil {
		wait := min(time.Minute<<min(attempts-1, 10), maxBackoff)
		if _, err := s.pool.Exec(ctx, `UPDATE checklist_archives SET last_error = $2, next_try_at = $3 WHERE id = $1`,
			id, putErr.Error(), s.now().Add(wait)); err != nil {
			return false, fmt.Errorf("checklist: archive: %w", err)
		}
		return false, fmt.Errorf("checklist: archive: %w", putErr)
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE checklist_archives SET archived_at = $2, json_doc = NULL, act_doc = NULL,
			last_error = NULL WHERE id = $1`, id, s.now()); err != nil {
			return err
		}
		return s.tickets.AddSystemEvent(postgres.InTx(ctx, tx), ticketID, "checklist_archived", map[string]any{
			"archive_id": id, "json_key": jsonKey, "json_sha256": hex.EncodeToString(jsum),
			"act_key": actKey, "act_sha256": hex.EncodeToString(asum)})
	})
	if err != nil {
		return false, fmt.Errorf("checklist: archive: %w", err)
	}
	return true, nil
}
