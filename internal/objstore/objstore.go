// Package objstore is the service's one bucket in MinIO (or any S3): photos and
// checklist documents. Bytes go to and from devices through presigned URLs; the server
// only manages the bucket and checks objects.
package objstore

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Options say where the bucket lives.
type Options struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Bucket    string
	UseSSL    bool
}

// Store is the bucket.
type Store struct {
	client *minio.Client
	bucket string
}

// New returns a Store. It does not touch the network: a MinIO that is down at start
// must not keep the rest of the service from starting.
func New(o Options) (*Store, error) {
	client, err := minio.New(o.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure: o.UseSSL,
	})
	if err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	return &Store{client: client, bucket: o.Bucket}, nil
}

// Ready reports whether storage answers and the bucket is there; it changes nothing.
func (s *Store) Ready(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("objstore: bucket %s: %w", s.bucket, err)
	}
	if !exists {
		return fmt.Errorf("objstore: bucket %s does not exist", s.bucket)
	}
	return nil
}

// EnsureBucket creates the bucket when it is missing.
func (s *Store) EnsureBucket(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("objstore: bucket %s: %w", s.bucket, err)
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
		return fmt.Errorf("objstore: create bucket %s: %w", s.bucket, err)
	}
	return nil
}
