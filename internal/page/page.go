// Package page is keyset pagination: a list is ordered by id (UUIDv7, so by creation
// time), a page ends at its last id, and the next page starts after it.
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

// New trims rows fetched with Limit+1 into a page, setting the cursor when more follow.
func New[T any](rows []T, req Request, id func(T) uuid.UUID) Page[T] {
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
