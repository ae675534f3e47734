// Package objstore is the service's one bucket in MinIO (or any S3): photos and
// checklist documents. Bytes go to and from devices through presigned URLs; the server
// only manages the bucket, checks objects and stores the documents it writes itself.
package objstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"fieldsvc/internal/apperr"
)

// Options say where the bucket lives.
type Options struct {
	Endpoint  string // host:port, as the server reaches it
	AccessKey string
	SecretKey string
	Bucket    string
	UseSSL    bool
	// PublicURL is the storage's address as devices reach it (scheme://host:port), when it
	// differs from Endpoint; presigned URLs are signed for it.
	PublicURL string
	// Region of the bucket; "us-east-1" (MinIO's default) when empty. Knowing it keeps
	// presigning off the network.
	Region string
}

// Store is the bucket.
type Store struct {
	client  *minio.Client
	signer  *minio.Client // for presigned URLs: the public address
	bucket  string
	timeout time.Duration
}

// ErrNotFound says an object is not there.
var ErrNotFound = errors.New("objstore: no such object")

// errDown is what callers see when storage does not answer: 503, try again later.
var errDown = apperr.New(apperr.Unavailable, "file storage is unavailable; try again later")

// New returns a Store. It does not touch the network: a MinIO that is down at start
// must not keep the rest of the service from starting.
func New(o Options) (*Store, error) {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	creds := credentials.NewStaticV4(o.AccessKey, o.SecretKey, "")
	// Two tries: a request waiting on storage that is down should fail in a second,
	// not after the client's default ten.
	client, err := minio.New(o.Endpoint, &minio.Options{Creds: creds, Secure: o.UseSSL, Region: o.Region, MaxRetries: 2})
	if err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	s := &Store{client: client, signer: client, bucket: o.Bucket, timeout: 10 * time.Second}
	if o.PublicURL != "" {
		u, err := url.Parse(o.PublicURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("objstore: public URL %q is not an http(s) address", o.PublicURL)
		}
		s.signer, err = minio.New(u.Host, &minio.Options{Creds: creds, Secure: u.Scheme == "https", Region: o.Region})
		if err != nil {
			return nil, fmt.Errorf("objstore: %w", err)
		}
	}
	return s, nil
}

// down marks err, from a call that could not reach storage, as a 503 for the caller.
func down(op string, err error) error {
	return fmt.Errorf("objstore: %s: %w: %w", op, errDown, err)
}

// call bounds one storage call, so an unreachable MinIO fails fast instead of holding a
// request for the client's whole retry schedule.
func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// Ready reports whether storage answers and the bucket is there; it changes nothing.
func (s *Store) Ready(ctx context.Context) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return down("bucket "+s.bucket, err)
	}
	if !exists {
		return fmt.Errorf("objstore: bucket %s: %w", s.bucket, errDown)
	}
	return nil
}

// EnsureBucket creates the bucket when it is missing.
func (s *Store) EnsureBucket(ctx context.Context) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return down("bucket "+s.bucket, err)
	}
	if exists {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{})
	if err != nil {
		// Another replica may have created it in the meantime.
		if exists, err2 := s.client.BucketExists(ctx, s.bucket); err2 == nil && exists {
			return nil
		}
		return down("create bucket "+s.bucket, err)
	}
	return nil
}

// Upload is a presigned request a device makes to put bytes into storage: the method,
// the URL and the headers it must send exactly as given (they are signed).
type Upload struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
}

// PresignPut returns the PUT of a whole object. The content type and the SHA-256 are
// signed: storage refuses any other type, and bytes that do not hash to sum.
func (s *Store) PresignPut(ctx context.Context, key, contentType string, sum []byte, expires time.Duration) (Upload, error) {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("X-Amz-Checksum-Sha256", base64.StdEncoding.EncodeToString(sum))
	u, err := s.signer.PresignHeader(ctx, http.MethodPut, s.bucket, key, expires, nil, h)
	if err != nil {
		return Upload{}, fmt.Errorf("objstore: presign put: %w", err)
	}
	headers := map[string]string{}
	for k := range h {
		headers[k] = h.Get(k)
	}
	return Upload{Method: http.MethodPut, URL: u.String(), Headers: headers}, nil
}

// StartMultipart opens a multipart upload of key and returns its id.
func (s *Store) StartMultipart(ctx context.Context, key, contentType string) (string, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	id, err := (&minio.Core{Client: s.client}).NewMultipartUpload(ctx, s.bucket, key, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return "", down("start multipart upload", err)
	}
	return id, nil
}

// PresignPart returns the PUT of part n (from 1) of a multipart upload.
func (s *Store) PresignPart(ctx context.Context, key, uploadID string, n int, expires time.Duration) (Upload, error) {
	q := url.Values{"partNumber": {fmt.Sprint(n)}, "uploadId": {uploadID}}
	u, err := s.signer.Presign(ctx, http.MethodPut, s.bucket, key, expires, q)
	if err != nil {
		return Upload{}, fmt.Errorf("objstore: presign part: %w", err)
	}
	return Upload{Method: http.MethodPut, URL: u.String()}, nil
}

// ErrIncomplete says a multipart upload's parts do not add up to the expected size yet:
// it is left open for the rest.
var ErrIncomplete = errors.New("objstore: the parts uploaded so far do not make the whole file")

// CompleteMultipart joins the parts of a multipart upload into the object, once they add
// up to size bytes (ErrIncomplete before). It returns ErrNotFound when the upload is
// unknown (never started, completed or aborted) or holds no parts.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, size int64) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	core := &minio.Core{Client: s.client}
	var parts []minio.CompletePart
	var total int64
	for marker := 0; ; {
		res, err := core.ListObjectParts(ctx, s.bucket, key, uploadID, marker, 1000)
		if err != nil {
			return s.fail("list parts", err)
		}
		for _, p := range res.ObjectParts {
			parts = append(parts, minio.CompletePart{PartNumber: p.PartNumber, ETag: p.ETag})
			total += p.Size
		}
		if !res.IsTruncated {
			break
		}
		marker = res.NextPartNumberMarker
	}
	switch {
	case len(parts) == 0:
		return ErrNotFound
	case total != size:
		return fmt.Errorf("%w: %d of %d bytes", ErrIncomplete, total, size)
	}
	if _, err := core.CompleteMultipartUpload(ctx, s.bucket, key, uploadID, parts, minio.PutObjectOptions{}); err != nil {
		return s.fail("complete multipart upload", err)
	}
	return nil
}

// AbortMultipart drops a multipart upload and the parts it holds.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	err := (&minio.Core{Client: s.client}).AbortMultipartUpload(ctx, s.bucket, key, uploadID)
	if err != nil && !errors.Is(s.fail("", err), ErrNotFound) {
		return down("abort multipart upload", err)
	}
	return nil
}

// Object is what storage says about a stored object.
type Object struct {
	Size        int64
	ContentType string
	// SHA256 is the checksum storage verified on upload; nil when it has none (an
	// upload that sent no checksum, or one of several parts).
	SHA256 []byte
}

// Stat describes key, or returns ErrNotFound.
func (s *Store) Stat(ctx context.Context, key string) (Object, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{Checksum: true})
	if err != nil {
		return Object{}, s.fail("stat", err)
	}
	o := Object{Size: info.Size, ContentType: info.ContentType}
	if sum, err := base64.StdEncoding.DecodeString(info.ChecksumSHA256); err == nil && len(sum) == 32 {
		o.SHA256 = sum
	}
	return o, nil
}

// Hash reads key through and returns its SHA-256, for objects storage holds no checksum
// of (those uploaded in parts).
func (s *Store) Hash(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, hashTimeout)
	defer cancel()
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.fail("hash", err)
	}
	defer obj.Close()
	h := sha256.New()
	if _, err := io.Copy(h, obj); err != nil {
		return nil, s.fail("hash", err)
	}
	return h.Sum(nil), nil
}

// hashTimeout bounds reading an object through: large files take longer than one call.
const hashTimeout = 5 * time.Minute

// PresignGet returns a URL that downloads key until it expires, offered as fileName.
func (s *Store) PresignGet(ctx context.Context, key, fileName string, expires time.Duration) (string, error) {
	q := url.Values{}
	if fileName != "" {
		q.Set("response-content-disposition", fmt.Sprintf("inline; filename*=UTF-8''%s", url.PathEscape(fileName)))
	}
	u, err := s.signer.PresignedGetObject(ctx, s.bucket, key, expires, q)
	if err != nil {
		return "", fmt.Errorf("objstore: presign get: %w", err)
	}
	return u.String(), nil
}

// Put stores data under key.
func (s *Store) Put(ctx context.Context, key, contentType string, data []byte) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return down("put "+key, err)
	}
	return nil
}

// Get reads a whole object (the server's own documents, which are small).
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.fail("get", err)
	}
	defer obj.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(obj); err != nil {
		return nil, s.fail("get", err)
	}
	return buf.Bytes(), nil
}

// Remove deletes key; a key that is not there is no error.
func (s *Store) Remove(ctx context.Context, key string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return down("remove "+key, err)
	}
	return nil
}

// fail tells a missing object or upload from storage being out of reach.
func (s *Store) fail(op string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, minio.NoSuchUpload:
		return ErrNotFound
	}
	return down(op, err)
}
