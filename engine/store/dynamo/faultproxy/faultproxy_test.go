package faultproxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lockstep-run/lockstep/engine/store/dynamo/faultproxy"
)

func post(t *testing.T, url, op string) (int, string, error) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestFaults(t *testing.T) {
	var hits atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	p := faultproxy.Start(t, backend.URL, faultproxy.Faults{ThrottlePercent: 100, Operations: []string{"UpdateItem"}})

	code, body, err := post(t, p.URL, "UpdateItem")
	if err != nil || code != 400 || !strings.Contains(body, "#ProvisionedThroughputExceededException") {
		t.Errorf("throttled UpdateItem=%d %q %v", code, body, err)
	}
	if code, body, err := post(t, p.URL, "Scan"); err != nil || code != 200 || body != "ok" {
		t.Errorf("Scan (not targeted)=%d %q %v", code, body, err)
	}
	p.SetFaults(faultproxy.Faults{ServerErrorPercent: 100})
	if code, body, _ := post(t, p.URL, "Scan"); code != 500 || !strings.Contains(body, "InternalServerError") {
		t.Errorf("500 fault=%d %q", code, body)
	}
	p.SetFaults(faultproxy.Faults{DropPercent: 100})
	if _, _, err := post(t, p.URL, "Scan"); err == nil {
		t.Error("dropped request got an answer")
	}
	p.SetFaults(faultproxy.Faults{DropPercent: 100, DropAfterForward: true})
	if _, _, err := post(t, p.URL, "Scan"); err == nil {
		t.Error("dropped-after request got an answer")
	}
	p.SetFaults(faultproxy.Faults{ThrottlePercent: 30, Seed: 9})
	for range 200 {
		post(t, p.URL, "GetItem")
	}
	c := p.Counts()
	if c.Throttled < 1+40 || c.Throttled > 1+80 {
		t.Errorf("30%% of 200 throttled: %d (plus 1 earlier)", c.Throttled-1)
	}
	if c.ServerErrors != 1 || c.Dropped != 2 || c.Requests != 205 {
		t.Errorf("Counts()=%+v, want 1 server error, 2 drops, 205 requests", c)
	}
	if hits.Load() != c.Forwarded {
		t.Errorf("backend saw %d requests, proxy forwarded %d", hits.Load(), c.Forwarded)
	}
}
