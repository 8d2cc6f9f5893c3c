package bench_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
)

// rateItems rows migrated under max_write_rate: maxRate; at that rate the
// run takes rateItems/maxRate seconds.
const (
	rateItems = 8_000
	maxRate   = 1_000
)

// BenchmarkWriteRate measures (e): the achieved rate of a migrate step on
// SQLite whose environment sets max_write_rate: 1000 (SQLite writes far
// faster, so the limiter alone sets the pace).
func BenchmarkWriteRate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		path := copyFile(b, sqliteTemplate(b, rateItems), filepath.Join(b.TempDir(), "data.db"))
		b.StartTimer()
		m := runMigrate(b, b.TempDir(), runbookYAML(sqliteStore(path), maxRate))
		if m.migrated != rateItems {
			b.Fatalf("migrated %d rows, want %d", m.migrated, rateItems)
		}
		got := m.itemsPerSec()
		dev := (got - maxRate) / maxRate * 100
		b.ReportMetric(got, "items/s")
		b.ReportMetric(dev, "deviation-%")
		record(row{id: "(e)", what: fmt.Sprintf("SQLite, max_write_rate: %d: achieved rate over %d rows (%.1f s)", maxRate, m.migrated, m.elapsed.Seconds()),
			figure: fmt.Sprintf("%.0f items/s, %+.1f%% (step's own figure %.0f items/s)", got, dev, m.stepRate), target: "within ±5%",
			verdict: check(math.Abs(dev) <= 5)})
	}
}
