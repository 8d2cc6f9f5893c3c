package integration_test

import (
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// steppingClock advances by step at every read, so a pass over a few
// pages spans more than the progress interval without sleeping.
type steppingClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *steppingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

// After fires at once: nothing these steps wait for is the clock's.
func (c *steppingClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

// progressOf runs step id with a stepping clock and returns the progress
// payloads it reported.
func progressOf(t *testing.T, r *rig.Data, id string) []engine.Progress {
	t.Helper()
	sc := r.StepContext(id)
	sc.Clock = &steppingClock{now: time.Unix(1_800_000_000, 0), step: 100 * time.Millisecond}
	var mu sync.Mutex
	var got []engine.Progress
	sc.Progress = func(ev engine.Event) {
		p, err := engine.DecodePayload(ev)
		if err != nil {
			t.Errorf("decode progress: %v", err)
			return
		}
		mu.Lock()
		got = append(got, p.(engine.Progress))
		mu.Unlock()
	}
	if _, err := r.Run(sc); err != nil {
		t.Fatalf("run %s: %v", id, err)
	}
	return got
}

// checkProgress asserts the reports count up and end at n of n.
func checkProgress(t *testing.T, got []engine.Progress, n int64, passes int) {
	t.Helper()
	if len(got) < 2 {
		t.Fatalf("%d progress events, want a few during the pass and one at its end", len(got))
	}
	ends := 0
	for i, p := range got {
		if i > 0 && p.Done < got[i-1].Done && p.Done != 0 && got[i-1].Done != n {
			t.Errorf("progress %d: done %d after %d, want it not to go back", i, p.Done, got[i-1].Done)
		}
		if p.Done == n && p.Total == n {
			ends++
		}
		if p.Rate <= 0 && p.Done > 0 {
			t.Errorf("progress %d = %+v, want a rate", i, p)
		}
	}
	last := got[len(got)-1]
	if last.Done != n || last.Total != n || last.ETAms != 0 {
		t.Errorf("last progress = %+v, want done %d of %d and no ETA", last, n, n)
	}
	if ends < passes {
		t.Errorf("%d reports of %d/%d, want one per pass (%d)", ends, n, n, passes)
	}
}

func TestDataStepsReportProgress(t *testing.T) {
	const n = 2500
	steps := rig.BackupSteps +
		"      - {id: check, kind: verify, with: {expect_none: \"item.id < 0\"}}\n" +
		"      - {id: size, kind: estimate, with: {exact_count: true}}\n"
	r := rig.NewSQLite(t, rig.DataRunbook(t, 2, "", steps), n)
	for _, tt := range []struct {
		step   string
		passes int // a drill imports, then scans back
	}{
		{"snapshot", 1}, {"drill", 2}, {"check", 1}, {"size", 1},
	} {
		t.Run(tt.step, func(t *testing.T) {
			checkProgress(t, progressOf(t, r, tt.step), n, tt.passes)
		})
	}
}

func TestBackupReportsProgressDynamo(t *testing.T) {
	const n = 1200
	r := newDynamoRig(t, 2, "", rig.BackupSteps, n, nil)
	checkProgress(t, progressOf(t, r, "snapshot"), n, 1)
}
