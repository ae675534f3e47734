package mobileapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/google/uuid"
)

// cursor is where a device stands in the stream of changes. It travels opaque and
// signed; the server trusts nothing in it that the signature does not cover.
type cursor struct {
	Epoch    uint32    // the data epoch it was issued in
	Engineer uuid.UUID // whose scope
	Device   uuid.UUID // which device
	Low      uint64    // the window [Low, High) of transaction ids being served
	High     uint64
	Table    uint8     // while a window is served page by page: the table reached…
	After    uuid.UUID // …and the last row id sent in it
	Issued   int64     // unix seconds, to refuse cursors too old to serve
}

const cursorSize = 4 + 16 + 16 + 8 + 8 + 1 + 16 + 8

var errBadCursor = errors.New("the cursor is not one this server issued")

func (c cursor) encode(secret []byte) string {
	b := make([]byte, 0, cursorSize+sha256.Size)
	b = binary.BigEndian.AppendUint32(b, c.Epoch)
	b = append(b, c.Engineer[:]...)
	b = append(b, c.Device[:]...)
	b = binary.BigEndian.AppendUint64(b, c.Low)
	b = binary.BigEndian.AppendUint64(b, c.High)
	b = append(b, c.Table)
	b = append(b, c.After[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Issued))
	b = append(b, sign(secret, b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, secret []byte) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != cursorSize+16 {
		return cursor{}, errBadCursor
	}
	body, mac := b[:cursorSize], b[cursorSize:]
	if !hmac.Equal(mac, sign(secret, body)) {
		return cursor{}, errBadCursor
	}
	var c cursor
	c.Epoch = binary.BigEndian.Uint32(body)
	copy(c.Engineer[:], body[4:20])
	copy(c.Device[:], body[20:36])
	c.Low = binary.BigEndian.Uint64(body[36:])
	c.High = binary.BigEndian.Uint64(body[44:])
	c.Table = body[52]
	copy(c.After[:], body[53:69])
	c.Issued = int64(binary.BigEndian.Uint64(body[69:]))
	return c, nil
}

// sign is a truncated HMAC-SHA256: 128 bits are plenty against forgery.
func sign(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("fieldsvc sync cursor v1"))
	m.Write(body)
	return m.Sum(nil)[:16]
}

func (c cursor) issuedAt() time.Time { return time.Unix(c.Issued, 0) }
