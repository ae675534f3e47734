package objstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/objstore"
)

// put sends an Upload the way a device does, and returns the status storage answered.
func put(t *testing.T, up objstore.Upload, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(up.Method, up.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range up.Headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(msg)
}

func TestPresignedPutIsCheckedByStorage(t *testing.T) {
	ctx := context.Background()
	s := dbtest.MustStore(t)
	body := []byte("a photo of a broken chiller")
	sum := sha256.Sum256(body)

	if _, err := s.Stat(ctx, "t/1"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("stat of a missing object: %v, want ErrNotFound", err)
	}
	up, err := s.PresignPut(ctx, "t/1", "image/jpeg", sum[:], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if code, msg := put(t, up, []byte("other bytes, same length!!!")); code < 400 {
		t.Fatalf("bytes that do not match the signed checksum were accepted (%d %s)", code, msg)
	}
	if _, err := s.Stat(ctx, "t/1"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("a refused upload left an object: %v", err)
	}
	if code, msg := put(t, up, body); code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, msg)
	}
	o, err := s.Stat(ctx, "t/1")
	if err != nil {
		t.Fatal(err)
	}
	if o.Size != int64(len(body)) || !bytes.Equal(o.SHA256, sum[:]) || o.ContentType != "image/jpeg" {
		t.Fatalf("stat = %+v, want size %d, the checksum and image/jpeg", o, len(body))
	}

	url, err := s.PresignGet(ctx, "t/1", "chiller.jpg", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, body) ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "chiller.jpg") {
		t.Fatalf("presigned get: %d %q %q", res.StatusCode, got, res.Header.Get("Content-Disposition"))
	}
}

func TestMultipartUpload(t *testing.T) {
	ctx := context.Background()
	s := dbtest.MustStore(t)
	id, err := s.StartMultipart(ctx, "t/big", "video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{make([]byte, 5<<20), []byte("the tail")}
	rand.Read(parts[0])
	size := int64(len(parts[0]) + len(parts[1]))
	if err := s.CompleteMultipart(ctx, "t/big", id, size); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("completing an upload with no parts: %v, want ErrNotFound", err)
	}
	for i, p := range parts {
		if i == 1 {
			if err := s.CompleteMultipart(ctx, "t/big", id, size); !errors.Is(err, objstore.ErrIncomplete) {
				t.Fatalf("completing with a part missing: %v, want ErrIncomplete", err)
			}
		}
		up, err := s.PresignPart(ctx, "t/big", id, i+1, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if code, msg := put(t, up, p); code != http.StatusOK {
			t.Fatalf("part %d: %d %s", i+1, code, msg)
		}
	}
	if err := s.CompleteMultipart(ctx, "t/big", id, size); err != nil {
		t.Fatal(err)
	}
	o, err := s.Stat(ctx, "t/big")
	if err != nil || o.Size != size || o.SHA256 != nil {
		t.Fatalf("stat = %+v, %v; want the size and no checksum", o, err)
	}
	sum, err := s.Hash(ctx, "t/big")
	if want := sha256.Sum256(append(parts[0], parts[1]...)); err != nil || !bytes.Equal(sum, want[:]) {
		t.Fatalf("hash = %x, %v; want %x", sum, err, want)
	}
	if err := s.CompleteMultipart(ctx, "t/big", id, size); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("completing twice: %v, want ErrNotFound", err)
	}

	// An abandoned upload is dropped.
	id2, err := s.StartMultipart(ctx, "t/gone", "video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AbortMultipart(ctx, "t/gone", id2); err != nil {
		t.Fatal(err)
	}
	if err := s.AbortMultipart(ctx, "t/gone", id2); err != nil {
		t.Fatalf("aborting twice: %v", err)
	}
}

func TestUnreachableStorageIsUnavailable(t *testing.T) {
	o := dbtest.StoreOptions(t)
	o.Endpoint = "127.0.0.1:1" // nothing listens there
	s, err := objstore.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, err := range map[string]error{
		"ready":  s.Ready(ctx),
		"stat":   func() error { _, err := s.Stat(ctx, "k"); return err }(),
		"put":    s.Put(ctx, "k", "text/plain", []byte("x")),
		"remove": s.Remove(ctx, "k"),
	} {
		if apperr.CodeOf(err) != apperr.Unavailable {
			t.Errorf("%s with storage down: %v, want an Unavailable error", name, err)
		}
	}
	// Presigning needs no network: it works while storage is down.
	if _, err := s.PresignGet(ctx, "k", "", time.Minute); err != nil {
		t.Errorf("presign with storage down: %v", err)
	}
}
