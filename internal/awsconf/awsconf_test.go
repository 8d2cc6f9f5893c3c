package awsconf

import (
	"context"
	"path/filepath"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	for endpoint, want := range map[string]bool{
		"http://127.0.0.1:8000": true, "http://localhost:4566": true, "http://[::1]:9000": true,
		"http://127.9.9.9": true, "https://dynamodb.eu-west-1.amazonaws.com": false,
		"http://10.0.0.7:8000": false, "": false, "::not a url": false,
	} {
		if got := IsLoopback(endpoint); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", endpoint, got, want)
		}
	}
}

// TestLoadLocal: a local endpoint needs no AWS set-up at all (dummy
// credentials, a default region); a remote one gets none of that.
func TestLoadLocal(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_CONFIG_FILE": filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"), "AWS_PROFILE": "",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg, err := Load(ctx, Options{Endpoint: "http://127.0.0.1:8000"})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil || creds.AccessKeyID != "lockstep" || cfg.Region != localRegion {
		t.Errorf("local: credentials %q (%v), region %q; want dummy credentials and %s", creds.AccessKeyID, err, cfg.Region, localRegion)
	}
	cfg, err = Load(ctx, Options{Endpoint: "https://sns.eu-west-1.amazonaws.com", Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("remote: region %q, want eu-west-1", cfg.Region)
	}
	if creds, err := cfg.Credentials.Retrieve(ctx); err == nil && creds.AccessKeyID == "lockstep" {
		t.Error("remote endpoint got the dummy credentials")
	}
}
