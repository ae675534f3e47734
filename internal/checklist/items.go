package checklist

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/google/uuid"

	"fieldsvc/internal/valid"
)

// Item types. A photo answer lists confirmed photos of the ticket; a signature answer
// names a confirmed signature image and who signed.
const (
	YesNo       = "yes_no"
	Number      = "number"
	Text        = "text"
	Choice      = "single_choice"
	MultiChoice = "multi_choice"
	Photo       = "photo"
	Signature   = "signature"
)

var itemTypes = []string{YesNo, Number, Text, Choice, MultiChoice, Photo, Signature}

// Item is one question of a checklist. ID is stable across a template's versions, so an
// app and the archive can tell items apart by it.
type Item struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	Label    string   `json:"label"`
	Hint     string   `json:"hint,omitempty"`
	Required bool     `json:"required"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Unit     string   `json:"unit,omitempty"`
	Options  []string `json:"options,omitempty"`
	// MaxLength bounds a text answer (2000 when unset).
	MaxLength int `json:"max_length,omitempty"`
}

const (
	maxItems      = 200
	maxOptions    = 50
	maxPhotos     = 20
	defaultMaxLen = 2000
)

var itemID = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// checkItems validates a template's items, recording problems as items[i].field.
func checkItems(errs *valid.Errors, items []Item) []Item {
	switch {
	case len(items) == 0:
		errs.Add("items", "must hold at least one item")
	case len(items) > maxItems:
		errs.Add("items", fmt.Sprintf("must hold at most %d items", maxItems))
	}
	seen := map[string]bool{}
	out := make([]Item, len(items))
	for i, it := range items {
		f := func(name string) string { return fmt.Sprintf("items[%d].%s", i, name) }
		errs.Check(itemID.MatchString(it.ID), f("id"), "must be 1-64 lowercase letters, digits, '_', '-' or '.'")
		errs.Check(!seen[it.ID], f("id"), "is used by another item")
		seen[it.ID] = true
		it.Type = errs.OneOf(f("type"), it.Type, itemTypes...)
		it.Label = errs.Text(f("label"), it.Label, true, 300)
		it.Hint = errs.Text(f("hint"), it.Hint, false, 1000)
		it.Unit = errs.Text(f("unit"), it.Unit, false, 20)
		if it.Type != Number {
			errs.Check(it.Min == nil && it.Max == nil && it.Unit == "", f("min"), "only number items have bounds and a unit")
		} else if it.Min != nil && it.Max != nil {
			errs.Check(*it.Min <= *it.Max, f("max"), "must not be below min")
		}
		if it.Type == Choice || it.Type == MultiChoice {
			checkOptions(errs, f("options"), it.Options)
		} else {
			errs.Check(len(it.Options) == 0, f("options"), "only choice items have options")
		}
		if it.Type == Text {
			errs.Check(it.MaxLength >= 0 && it.MaxLength <= 20000, f("max_length"), "must be at most 20000")
		} else {
			errs.Check(it.MaxLength == 0, f("max_length"), "only text items have a maximum length")
		}
		out[i] = it
	}
	return out
}

func checkOptions(errs *valid.Errors, field string, opts []string) {
	if len(opts) < 2 || len(opts) > maxOptions {
		errs.Add(field, fmt.Sprintf("must list 2 to %d options", maxOptions))
		return
	}
	for j, o := range opts {
		errs.Text(fmt.Sprintf("%s[%d]", field, j), o, true, 200)
		errs.Check(!slices.Contains(opts[:j], o), fmt.Sprintf("%s[%d]", field, j), "is listed twice")
	}
}

// SignatureValue is what a signature answer holds.
type SignatureValue struct {
	AttachmentID uuid.UUID `json:"attachment_id"`
	SignedBy     string    `json:"signed_by"`
}

// answer is an answer's value checked against its item, with the attachments it names
// (which must be confirmed files of the ticket, of the kind the item takes).
type answer struct {
	value       json.RawMessage // nil clears the answer
	attachments []uuid.UUID
	kind        string // of the attachments: photo or signature
}

// checkAnswer validates raw (JSON) as an answer to it. JSON null clears an answer.
func checkAnswer(it Item, raw json.RawMessage) (answer, error) {
	var errs valid.Errors
	const field = "value"
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return answer{}, nil
	}
	var a answer
	switch it.Type {
	case YesNo:
		var b bool
		errs.Check(json.Unmarshal(raw, &b) == nil, field, "must be true or false")
		a.value = mustJSON(b)
	case Number:
		var n float64
		if json.Unmarshal(raw, &n) != nil {
			errs.Add(field, "must be a number")
		}
		if it.Min != nil && n < *it.Min {
			errs.Add(field, fmt.Sprintf("must be at least %g%s", *it.Min, unit(it)))
		}
		if it.Max != nil && n > *it.Max {
			errs.Add(field, fmt.Sprintf("must be at most %g%s", *it.Max, unit(it)))
		}
		a.value = mustJSON(n)
	case Text:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			errs.Add(field, "must be text")
		}
		limit := it.MaxLength
		if limit == 0 {
			limit = defaultMaxLen
		}
		s = errs.Text(field, s, true, limit)
		a.value = mustJSON(s)
	case Choice:
		var s string
		errs.Check(json.Unmarshal(raw, &s) == nil && slices.Contains(it.Options, s), field, "must be one of the item's options")
		a.value = mustJSON(s)
	case MultiChoice:
		var picked []string
		ok := json.Unmarshal(raw, &picked) == nil && len(picked) > 0
		for i, s := range picked {
			ok = ok && slices.Contains(it.Options, s) && !slices.Contains(picked[:i], s)
		}
		errs.Check(ok, field, "must list one or more of the item's options, each once")
		a.value = mustJSON(picked)
	case Photo:
		var ids []uuid.UUID
		ok := json.Unmarshal(raw, &ids) == nil && len(ids) > 0 && len(ids) <= maxPhotos
		for i, id := range ids {
			ok = ok && !slices.Contains(ids[:i], id)
		}
		errs.Check(ok, field, fmt.Sprintf("must list 1 to %d distinct photo attachment ids", maxPhotos))
		a.value, a.attachments, a.kind = mustJSON(ids), ids, "photo"
	case Signature:
		var sig SignatureValue
		if json.Unmarshal(raw, &sig) != nil || sig.AttachmentID == uuid.Nil {
			errs.Add(field, "must be {attachment_id, signed_by}")
		}
		sig.SignedBy = errs.Text(field+".signed_by", sig.SignedBy, true, 200)
		a.value, a.attachments, a.kind = mustJSON(sig), []uuid.UUID{sig.AttachmentID}, "signature"
	}
	return a, errs.Err()
}

func unit(it Item) string {
	if it.Unit == "" {
		return ""
	}
	return " " + it.Unit
}

// mustJSON encodes values that always encode (checked answers).
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
