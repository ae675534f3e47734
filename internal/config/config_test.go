package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func validEnv() map[string]string {
	return map[string]string{
		"DATABASE_URL":  "postgres://fieldsvc:topsecretpw@127.0.0.1:55432/fieldsvc?password=querysecret",
		"S3_ENDPOINT":   "127.0.0.1:59000",
		"S3_ACCESS_KEY": "fieldsvc",
		"S3_SECRET_KEY": "minio-secret-value",
		"JWT_SECRET":    strings.Repeat("k", 32),
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(validEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.S3Bucket != "fieldsvc" || c.AccessTokenTTL != 15*time.Minute || c.BodyLimit != 1<<20 {
		t.Fatalf("defaults not applied: %+v", c)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	m := validEnv()
	delete(m, "DATABASE_URL")
	m["JWT_SECRET"] = "short"
	m["REQUEST_TIMEOUT"] = "soon"
	m["TRUSTED_PROXIES"] = "10.0.0.0/8, proxy.local"
	_, err := Load(env(m))
	if err == nil {
		t.Fatal("expected an error")
	}
	for _, want := range []string{"DATABASE_URL", "JWT_SECRET", "REQUEST_TIMEOUT", `TRUSTED_PROXIES lists "proxy.local"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestStringMasksSecrets(t *testing.T) {
	c, err := Load(env(validEnv()))
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	for _, secret := range []string{"topsecretpw", "querysecret", "minio-secret-value", strings.Repeat("k", 32)} {
		if strings.Contains(s, secret) {
			t.Errorf("String() leaks %q: %s", secret, s)
		}
	}
	if !strings.Contains(s, "127.0.0.1:55432") {
		t.Errorf("String() hides the database host: %s", s)
	}
}

func TestTrustedProxiesAreAList(t *testing.T) {
	m := validEnv()
	m["TRUSTED_PROXIES"] = " 10.0.0.0/8 ,, 192.168.1.10"
	c, err := Load(env(m))
	if err != nil || strings.Join(c.TrustedProxies, "|") != "10.0.0.0/8|192.168.1.10" {
		t.Fatalf("trusted proxies %q (%v)", c.TrustedProxies, err)
	}
}

func TestPushSettings(t *testing.T) {
	c, err := Load(env(validEnv()))
	if err != nil || c.FCMCredentials != "" || c.PushAttempts != 12 || c.PushRetention != 7*24*time.Hour {
		t.Fatalf("push defaults: %q %d %s (%v)", c.FCMCredentials, c.PushAttempts, c.PushRetention, err)
	}
	m := validEnv()
	m["FCM_CREDENTIALS_FILE"] = t.TempDir() // a directory, not a key
	m["PUSH_MAX_ATTEMPTS"] = "0"
	_, err = Load(env(m))
	for _, want := range []string{"FCM_CREDENTIALS_FILE", "PUSH_MAX_ATTEMPTS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
	key := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(key, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	m = validEnv()
	m["FCM_CREDENTIALS_FILE"], m["PUSH_RETENTION"] = key, "72h"
	if c, err := Load(env(m)); err != nil || c.FCMCredentials != key || c.PushRetention != 72*time.Hour ||
		!strings.Contains(c.String(), "fcm_credentials_file="+key) {
		t.Fatalf("with a key: %+v (%v)", c, err)
	}
}
