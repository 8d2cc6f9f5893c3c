package integration_test

import (
	"context"
	"errors"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

var errCheckpointRefused = errors.New("save checkpoint: commit: database or disk is full")

// TestCopyDynamoStopsWhenACheckpointIsRefused: a copy into another table
// writes a page only while the checkpoints of the pages before it are
// durable. Once the journal refuses one, no segment starts another page:
// the target holds at most the pages the durable checkpoints cover plus
// the page in flight per segment, and the step stops resumably.
func TestCopyDynamoStopsWhenACheckpointIsRefused(t *testing.T) {
	t.Parallel()
	const n, batch, segments, ok = 300, 10, 2, 4
	r := newCopyRig(t, n, intoSteps)
	sc := r.StepContext("copy")
	j := &rig.RefuseCheckpoints{Journal: r.J, Step: "copy", OK: ok, Err: errCheckpointRefused}
	sc.Journal = j
	_, err := rig.ExecutorFor(sc.Step.Kind).Execute(context.Background(), sc)
	if !errors.Is(err, errCheckpointRefused) || !errors.Is(err, engine.ErrPaused) {
		t.Errorf("copy error = %v, want a resumable stop on the journal's error", err)
	}
	if j.Saved.Load() <= ok {
		t.Fatalf("%d checkpoints attempted, want more than %d", j.Saved.Load(), ok)
	}
	if got, most := len(r.copied()), ok*batch+segments*batch; got > most {
		t.Errorf("target holds %d items after checkpoint %d was refused, want at most %d (the durable pages and one in flight per segment)",
			got, ok+1, most)
	}
}
