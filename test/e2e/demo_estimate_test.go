package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// The demo's estimate runs before the expand phase: the sample data must
// let its write probe run, so the rate comes from the measured write path
// (or a limit), never from the sample's read throughput.
func TestDemoEstimateMeasuresTheWritePath(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(e.dir, "demo")
	r := e.mustRun(0, "demo", "--plain", "--dir", dir, "--users", "2000")
	if strings.Contains(r.Stdout, "probe skipped") {
		t.Errorf("the demo's write probe was skipped\n%s", r)
	}
	journal := filepath.Join(dir, "journal.db")
	var sessions []struct {
		ID string `json:"id"`
	}
	list := e.mustRun(0, "journal", "list", "--journal", journal, "--format", "json")
	if err := json.Unmarshal([]byte(list.Stdout), &sessions); err != nil || len(sessions) != 1 {
		t.Fatalf("journal list --format json: %v, %d sessions\n%s", err, len(sessions), list)
	}
	show := e.mustRun(0, "journal", "show", sessions[0].ID, "--journal", journal, "--format", "json")
	var tl struct {
		Steps []struct {
			ID      string            `json:"id"`
			Results []json.RawMessage `json:"results"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(show.Stdout), &tl); err != nil {
		t.Fatalf("journal show --format json: %v\n%s", err, show)
	}
	for _, s := range tl.Steps {
		if s.ID != "size" {
			continue
		}
		if len(s.Results) == 0 {
			t.Fatalf("the estimate journaled no result\n%s", show.Stdout)
		}
		var res struct {
			RateSource string          `json:"rate_source"`
			Probe      json.RawMessage `json:"probe"`
		}
		if err := json.Unmarshal(s.Results[len(s.Results)-1], &res); err != nil {
			t.Fatal(err)
		}
		if res.RateSource != "measured" || len(res.Probe) == 0 {
			t.Errorf("estimate rate_source %q, probe %s; want measured with a probe", res.RateSource, res.Probe)
		}
		return
	}
	t.Fatalf("no size step in the demo's timeline\n%s", show.Stdout)
}
