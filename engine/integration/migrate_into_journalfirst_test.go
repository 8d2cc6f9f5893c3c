package integration_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

var errCheckpointRefused = errors.New("save checkpoint: commit: database or disk is full")

// copyCheckpointRefuser is the journal of a copy whose checkpoints of
// one step fail from the okth on, as a full disk's would.
type copyCheckpointRefuser struct {
	engine.Journal
	step  string
	ok    int64
	saved atomic.Int64
}

func (j *copyCheckpointRefuser) SaveCheckpoint(ctx context.Context, s, step string, seg int, cur []byte, data any) error {
	if step == j.step && j.saved.Add(1) > j.ok {
		return errCheckpointRefused
	}
	return j.Journal.SaveCheckpoint(ctx, s, step, seg, cur, data)
}

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
	j := &copyCheckpointRefuser{Journal: r.J, step: "copy", ok: ok}
	sc.Journal = j
	_, err := rig.ExecutorFor(sc.Step.Kind).Execute(context.Background(), sc)
	if !errors.Is(err, errCheckpointRefused) || !errors.Is(err, engine.ErrPaused) {
		t.Errorf("copy error = %v, want a resumable stop on the journal's error", err)
	}
	if j.saved.Load() <= ok {
		t.Fatalf("%d checkpoints attempted, want more than %d", j.saved.Load(), ok)
	}
	if got, most := len(r.copied()), ok*batch+segments*batch; got > most {
		t.Errorf("target holds %d items after checkpoint %d was refused, want at most %d (the durable pages and one in flight per segment)",
			got, ok+1, most)
	}
}
