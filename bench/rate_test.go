package bench_test

import (
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

// rateRuns are the max_write_rate settings (e) and (g) run a migrate step
// under on SQLite, with rows enough for 8–10 s at that rate (SQLite
// writes far faster, so the limiter alone sets the pace).
var rateRuns = []struct{ rate, rows int }{
	{1_000, 8_000},
	{200, 2_000},
}

// BenchmarkWriteRate measures (e), the achieved rate of a migrate step
// whose environment sets max_write_rate, and (g), the most rows written
// in any one-second window of that run against the rate: a trigger logs
// the time of every row's UPDATE inside SQLite.
func BenchmarkWriteRate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		for _, rr := range rateRuns {
			b.StopTimer()
			path := copyFile(b, sqliteTemplate(b, rr.rows), filepath.Join(b.TempDir(), "data.db"))
			logWrites(b, path)
			b.StartTimer()
			m := runMigrate(b, b.TempDir(), runbookYAML(sqliteStore(path), rr.rate))
			if m.migrated != int64(rr.rows) {
				b.Fatalf("migrated %d rows, want %d", m.migrated, rr.rows)
			}
			got := m.itemsPerSec()
			dev := (got - float64(rr.rate)) / float64(rr.rate) * 100
			b.ReportMetric(got, fmt.Sprintf("items/s-at-%d", rr.rate))
			b.ReportMetric(dev, fmt.Sprintf("deviation-%%-at-%d", rr.rate))
			record(row{id: "(e)", what: fmt.Sprintf("SQLite, max_write_rate: %d: achieved rate over %d rows (%.1f s)", rr.rate, m.migrated, m.elapsed.Seconds()),
				figure: fmt.Sprintf("%.0f items/s, %+.1f%% (step's own figure %.0f items/s)", got, dev, m.stepRate), target: "within ±5%",
				verdict: check(math.Abs(dev) <= 5)})

			burst, at := largestBurst(b, path)
			ratio := float64(burst) / float64(rr.rate)
			b.ReportMetric(ratio, fmt.Sprintf("burst-ratio-at-%d", rr.rate))
			record(row{id: "(g)", what: fmt.Sprintf("SQLite, max_write_rate: %d: most rows written in one second / rate", rr.rate),
				figure: fmt.Sprintf("%.2f× (%d rows in the second from %.2f s)", ratio, burst, at), target: "≤ 1.5×",
				verdict: check(ratio <= 1.5)})
		}
	}
}

// logWrites adds a trigger to the users table in path that logs the time
// (seconds, sub-millisecond) of every UPDATE of a row's version.
func logWrites(b *testing.B, path string) {
	b.Helper()
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE write_log (t REAL NOT NULL)`,
		`CREATE TRIGGER log_write AFTER UPDATE OF v ON users BEGIN
			INSERT INTO write_log VALUES ((julianday('now') - 2440587.5) * 86400.0);
		END`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("add write log: %v", err)
		}
	}
}

// largestBurst returns the most writes logged in any one-second window
// and when that window starts, in seconds from the first write.
func largestBurst(b *testing.B, path string) (int, float64) {
	b.Helper()
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT t FROM write_log`)
	if err != nil {
		b.Fatalf("read write log: %v", err)
	}
	defer rows.Close()
	var ts []float64
	for rows.Next() {
		var t float64
		if err := rows.Scan(&t); err != nil {
			b.Fatal(err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	if len(ts) == 0 {
		b.Fatal("no write logged")
	}
	slices.Sort(ts)
	best, at, lo := 0, 0.0, 0
	for hi, t := range ts {
		for t-ts[lo] >= 1 {
			lo++
		}
		if n := hi - lo + 1; n > best {
			best, at = n, ts[lo]-ts[0]
		}
	}
	return best, at
}
