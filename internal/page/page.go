// Package page is keyset pagination: a list is ordered by id, a page ends at its last
// id, and the next page starts after it. Ids the server assigns are UUIDv7, so records
// created through the API list in creation order; a page never skips or repeats a row.
package page

import "github.com/google/uuid"

// Request is where a list starts and how long it may be.
type Request struct {
	After *uuid.UUID
	Limit int
}

// Page is one page of a list. NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// DefaultLimit is the page length when a request names none.
const DefaultLimit = 50

// Size is the page length asked for, or DefaultLimit.
func (r Request) Size() int {
	if r.Limit < 1 {
		return DefaultLimit
	}
	return r.Limit
}

// New trims rows fetched with Size()+1 into a page, setting the cursor when more follow.
func New[T any](rows []T, req Request, id func(T) uuid.UUID) Page[T] {
	req.Limit = req.Size()
	p := Page[T]{Items: rows}
	if len(rows) > req.Limit {
		p.Items = rows[:req.Limit]
		p.NextCursor = id(p.Items[req.Limit-1]).String()
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}
