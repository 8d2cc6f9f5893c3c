package fleet

import (
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine/enginetest"
)

// TestChooseTakesAClaimOnlyAfterALeaseUnchanged: a claimed segment is
// taken over once this worker saw its row unchanged for a whole lease by
// its own clock (KCL's rule: no clocks compared), never earlier, and a
// row that moved restarts the wait.
func TestChooseTakesAClaimOnlyAfterALeaseUnchanged(t *testing.T) {
	clock := enginetest.NewFakeClock(time.Unix(1000, 0))
	w := &Worker{ID: "w", Clock: clock}
	rec := Record{Lease: 10 * time.Second}
	segs := []Segment{{N: 0, State: StateDone}, {N: 1, State: StateClaimed, Claim: 3, Beat: 7}, {N: 2, State: StateFailed}}
	seen := map[int]observation{}
	steps := []struct {
		advance  time.Duration
		beat     int64
		wantPick int
	}{
		{0, 7, -1},               // first seen
		{9 * time.Second, 7, -1}, // unchanged for 9s < lease
		{time.Second, 8, -1},     // it moved: the owner lives
		{9 * time.Second, 8, -1}, // 9s since it moved
		{2 * time.Second, 8, 1},  // 11s unchanged: take it
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		segs[1].Beat = s.beat
		pick, left := w.choose(rec, segs, seen, -1)
		if pick != s.wantPick || left != 1 {
			t.Errorf("step %d: choose() = %d, %d left; want %d, 1 left", i, pick, left, s.wantPick)
		}
	}
}

func TestChoosePrefersStaleThenHintedOpen(t *testing.T) {
	clock := enginetest.NewFakeClock(time.Unix(1000, 0))
	w := &Worker{ID: "w", Clock: clock}
	rec := Record{Lease: time.Second}
	segs := []Segment{{N: 0, State: StateOpen}, {N: 1, State: StateOpen}, {N: 2, State: StateOpen}, {N: 3, State: StateClaimed, Claim: 1}}
	seen := map[int]observation{}
	if pick, left := w.choose(rec, segs, seen, 2); pick != 2 || left != 4 {
		t.Errorf("choose(hint 2) = %d, %d; want 2, 4", pick, left)
	}
	clock.Advance(time.Second)
	if pick, _ := w.choose(rec, segs, seen, 2); pick != 3 {
		t.Errorf("choose() with a stale claim = %d, want 3 (work begun comes first)", pick)
	}
	for i := range segs {
		segs[i].State = StateDone
	}
	if pick, left := w.choose(rec, segs, seen, -1); pick != -1 || left != 0 {
		t.Errorf("choose() with all done = %d, %d; want -1, 0", pick, left)
	}
}

func TestShare(t *testing.T) {
	for _, tt := range []struct{ rate, workers, want int }{
		{0, 8, 0}, {1000, 8, 125}, {5, 8, 1}, {100, 0, 100},
	} {
		if got := Share(tt.rate, tt.workers); got != tt.want {
			t.Errorf("Share(%d, %d) = %d, want %d", tt.rate, tt.workers, got, tt.want)
		}
	}
}
