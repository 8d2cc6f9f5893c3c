package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine/fleet"
)

// TestFleetWorkerIndexVariables runs `lockstep worker` as AWS Batch and
// Kubernetes start it, with their index variable set: its first claim is
// that segment, it runs every segment, writes no journal and exits 0. The
// second fleet finds every item migrated and increments none again.
func TestFleetWorkerIndexVariables(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dynalite")
	}
	const items = 400
	r := newFleetRig(t, items)
	src, err := os.ReadFile(testdata(t, "fleet.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct{ variable, index string }{
		{"AWS_BATCH_JOB_ARRAY_INDEX", "5"},
		{"JOB_COMPLETION_INDEX", "3"},
	} {
		id := "idx-" + tc.index
		rec := fleet.Record{ID: id, Runbook: src, SHA256: fleet.SHA256(src), Path: testdata(t, "fleet.yaml"), Step: "bump",
			Env: "local", Session: "e2e", Mode: "live", Segments: 8, Workers: 1, Lease: 6 * time.Second, Created: time.Now()}
		if err := r.ctl.Create(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		cmd := r.e.command(context.Background(), "worker", "--fleet", id, "--env", "local", "--region", "us-east-1", "--endpoint", r.endpoint)
		cmd.Env = append(cmd.Env, tc.variable+"="+tc.index)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s=%s lockstep worker: %v\n%s", tc.variable, tc.index, err, out.String())
		}
		first, _, _ := strings.Cut(out.String(), "\n")
		if !strings.Contains(first, "claimed segment "+tc.index+" ") {
			t.Errorf("%s=%s: first line %q, want a first claim of segment %s", tc.variable, tc.index, first, tc.index)
		}
		for _, s := range r.segments(id) {
			if s.State != fleet.StateDone {
				t.Errorf("fleet %s segment %d is %s, want done", id, s.N, s.State)
			}
		}
		for _, line := range strings.Split(out.String(), "\n") {
			if i == 1 && strings.Contains(line, " migrated") && !strings.HasSuffix(line, ", 0 migrated") {
				t.Errorf("the second fleet migrated items again: %s", line)
			}
		}
		if _, err := os.Stat(r.e.journal); err == nil {
			t.Errorf("a worker wrote a journal at %s", r.e.journal)
		}
	}
	r.checkCounters(items)
}
