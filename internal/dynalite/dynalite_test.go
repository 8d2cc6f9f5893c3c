package dynalite_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/internal/dynalite"
)

func TestStart(t *testing.T) {
	endpoint := dynalite.Start(t)
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Errorf("endpoint=%q, want http://127.0.0.1:PORT", endpoint)
	}
	req, _ := http.NewRequest("POST", endpoint, strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST ListTables: %v", err)
	}
	resp.Body.Close()
	// Unsigned: dynalite answers with a DynamoDB error, proving it is one.
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status=%d, want 400 for an unsigned request", resp.StatusCode)
	}
}

func TestSharedIsShared(t *testing.T) {
	if a, b := dynalite.Shared(t), dynalite.Shared(t); a != b {
		t.Errorf("Shared()=%q then %q, want the same server", a, b)
	}
}

func TestStopEndsServer(t *testing.T) {
	s, err := dynalite.StartServer()
	if errors.Is(err, dynalite.ErrNotInstalled) && !dynalite.MustInstall() {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if _, err := http.Post(s.Endpoint, "application/json", strings.NewReader("{}")); err == nil {
		t.Error("server still answers after Stop")
	}
}
