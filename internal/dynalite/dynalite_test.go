package dynalite_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/dynalite"
)

func TestStart(t *testing.T) {
	endpoint := dynalite.Start(t)
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Errorf("endpoint=%q, want http://127.0.0.1:PORT", endpoint)
	}
	resp, err := listTables(endpoint)
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

// A client that hangs up in the middle of a request (a cancelled context,
// a kill -9 of the process under test) must not take the server down:
// dynalite itself rethrows the request's "aborted" error.
func TestSurvivesClientHangingUpMidRequest(t *testing.T) {
	endpoint := dynalite.Start(t)
	addr := strings.TrimPrefix(endpoint, "http://")
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		// Promise a 1,000-byte body, send 10 bytes, hang up.
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"+
			"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 1000\r\n\r\n{\"Limit\":1", addr)
		time.Sleep(50 * time.Millisecond)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST, like a killed process
		}
		c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	resp, err := listTables(endpoint)
	if err != nil {
		t.Fatalf("server gone after clients hung up mid-request: %v", err)
	}
	resp.Body.Close()
}

// listTables POSTs an unsigned ListTables request to endpoint.
func listTables(endpoint string) (*http.Response, error) {
	req, err := http.NewRequest("POST", endpoint, strings.NewReader("{}"))
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	return http.DefaultClient.Do(req)
}
