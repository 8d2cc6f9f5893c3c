package sqlite_test

import (
	"context"
	"syscall"
	"testing"
	"time"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCPURatio compares the CPU time (less sensitive to a loaded
// machine than wall time) of a hand-written batched row-by-row update
// loop with the store's scan + guarded UpdateBatch path over the same
// rows, and reports hand/store as "ratio" (the migrate target is ≥ 0.80
// for the whole engine path).
func BenchmarkCPURatio(b *testing.B) {
	st := benchTable(b)
	ctx := context.Background()
	reset := func() { st.ExecSQL(ctx, []string{"UPDATE items SET v = NULL, city = NULL"}, true) }
	hand := func() { handLoop(b, st.Path(), false) }
	store := func() { storeLoop(b, st) }
	var h, s time.Duration
	for b.Loop() {
		reset()
		c := cpuNow()
		hand()
		h += cpuNow() - c
		reset()
		c = cpuNow()
		store()
		s += cpuNow() - c
	}
	b.ReportMetric(float64(h)/float64(s), "ratio")
	b.ReportMetric(float64(s.Microseconds())/float64(b.N*benchRows), "store-cpu-µs/row")
}
