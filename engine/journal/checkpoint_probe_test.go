package journal_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// TestProbeCheckpointKeepsNothing checks that a probed checkpoint leaves
// the checkpoints and the events as they were, and that the next event
// still chains to the last real one.
func TestProbeCheckpointKeepsNothing(t *testing.T) {
	ctx := context.Background()
	j, _ := openTemp(t)
	s := createSession(t, j, sessionInfo("staging", "r", engine.ModeLive, time.Time{}))
	if err := j.SaveCheckpoint(ctx, s.ID, "backfill", 0, []byte("a1"), nil); err != nil {
		t.Fatal(err)
	}
	before, err := j.Events(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	for seg, cur := range []string{"a2", "b1"} {
		if err := j.ProbeCheckpoint(ctx, s.ID, "backfill", seg, []byte(cur), map[string]int{"migrated": 100}); err != nil {
			t.Fatalf("ProbeCheckpoint(%d): %v", seg, err)
		}
	}
	after, err := j.Events(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("events after the probe: %d, before: %d", len(after), len(before))
	}
	cps, err := j.Checkpoints(ctx, s.ID, "backfill")
	if err != nil || len(cps) != 1 || string(cps[0]) != "a1" {
		t.Errorf("Checkpoints() = %v, %v; want only segment 0 at a1", cps, err)
	}
	next, err := j.Append(ctx, engine.Event{SessionID: s.ID, Kind: engine.EvSessionResume, Operator: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	last := before[len(before)-1]
	if next.Seq != last.Seq+1 || next.PrevHash != last.Hash {
		t.Errorf("next event seq %d prev %s, want %d after %s", next.Seq, next.PrevHash, last.Seq+1, last.Hash)
	}
}
