package sqlite_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// rowbufRows is bench/ (c)'s rows per round: 199,998 over three rounds.
const rowbufRows = 66_666

// BenchmarkMigrateRound runs one round of bench/'s row (c) on the per-row
// path: the split-address migration of rowbufRows rows, long enough that
// a segment's pages recycle their memory as they do in (c) (the 20,000
// rows of BenchmarkMigratePerRow are five pages a segment, most of them
// the pipeline's first). It reports CPU µs, allocations and bytes per row.
func BenchmarkMigrateRound(b *testing.B) {
	var cpu int64
	var ms0, ms1 runtime.MemStats
	var allocs, bytes uint64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		path := usersTable(b, dir, rowbufRows)
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		c := cpuNow()
		b.StartTimer()
		out, lines := runSession(b, dir, path, splitRunbook, openPerRowStore)
		b.StopTimer()
		cpu += int64(cpuNow() - c)
		runtime.ReadMemStats(&ms1)
		allocs += ms1.Mallocs - ms0.Mallocs
		bytes += ms1.TotalAlloc - ms0.TotalAlloc
		if out != engine.OutcomeCompleted {
			b.Fatalf("outcome %q: %s", out, strings.Join(lines, "\n"))
		}
		b.StartTimer()
	}
	rows := float64(b.N * rowbufRows)
	b.ReportMetric(float64(cpu)/1e3/rows, "cpu-µs/row")
	b.ReportMetric(float64(allocs)/rows, "allocs/row")
	b.ReportMetric(float64(bytes)/rows, "B/row")
}
