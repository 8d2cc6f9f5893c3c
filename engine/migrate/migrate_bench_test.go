package migrate_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// BenchmarkMigrateSQLite migrates a SQLite table of 10k and 100k rows
// (b.N runs of the whole step) and reports items/s and the peak heap.
func BenchmarkMigrateSQLite(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			steps := `      - id: bump
        kind: migrate
        with: {set: {count: "item.count + 1"}}
`
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r := rig.NewSQLite(b, rig.DataRunbook(b, i+2, "", steps), n)
				runtime.GC()
				b.StartTimer()
				stop := make(chan uint64)
				go peakHeap(stop)
				res, err := r.Run(r.StepContext("bump"))
				stop <- 0
				peak := <-stop
				if err != nil {
					b.Fatal(err)
				}
				got := res.(migrate.Result)
				if got.Migrated != int64(n) {
					b.Fatalf("migrated %d of %d", got.Migrated, n)
				}
				b.ReportMetric(got.ItemsPerSec, "items/s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			}
		})
	}
}

// peakHeap samples the heap until told to stop, then sends the peak.
func peakHeap(stop chan uint64) {
	var peak uint64
	var ms runtime.MemStats
	for {
		select {
		case <-stop:
			stop <- peak
			return
		default:
		}
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		time.Sleep(5 * time.Millisecond)
	}
}
