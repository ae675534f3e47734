package dbtest

import (
	"context"
	"os"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"fieldsvc/internal/objstore"
)

// StoreOptions are the MinIO the tests use (S3_* from `scripts/services.sh env`), with a
// fresh bucket name; it fails the test when they are not set.
func StoreOptions(tb testing.TB) objstore.Options {
	tb.Helper()
	o := objstore.Options{Endpoint: os.Getenv("S3_ENDPOINT"), AccessKey: os.Getenv("S3_ACCESS_KEY"),
		SecretKey: os.Getenv("S3_SECRET_KEY"), Bucket: "test-" + randomHex(8)}
	if o.Endpoint == "" || o.AccessKey == "" {
		tb.Fatal("S3_ENDPOINT and S3_ACCESS_KEY are not set: run the tests with `make test`, which starts MinIO " +
			"(or `eval \"$(scripts/services.sh env)\"` after `make services-up`)")
	}
	return o
}

// MustStore returns a Store on a bucket of its own, emptied and removed when tb ends.
func MustStore(tb testing.TB) *objstore.Store {
	tb.Helper()
	o := StoreOptions(tb)
	s, err := objstore.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.EnsureBucket(context.Background()); err != nil {
		tb.Fatalf("dbtest: MinIO at %s: %v", o.Endpoint, err)
	}
	tb.Cleanup(func() { dropBucket(tb, o) })
	return s
}

func dropBucket(tb testing.TB, o objstore.Options) {
	ctx := context.Background()
	c, err := minio.New(o.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(o.AccessKey, o.SecretKey, "")})
	if err != nil {
		tb.Errorf("dbtest: drop bucket: %v", err)
		return
	}
	if err := c.RemoveBucketWithOptions(ctx, o.Bucket, minio.RemoveBucketOptions{ForceDelete: true}); err != nil {
		tb.Logf("dbtest: drop bucket %s: %v", o.Bucket, err)
	}
}
