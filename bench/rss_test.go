package bench_test

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// rssSizes are the table sizes (d) migrates with the built binary.
var rssSizes = []int{100_000, 1_000_000}

// BenchmarkPeakRSS measures (d): the peak resident set size of the real
// lockstep binary, built into a temporary directory, running `lockstep run
// --plain` on a generated SQLite table of each size.
func BenchmarkPeakRSS(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		bin := buildBinary(b, lockstepPkg)
		var rss []float64
		for _, n := range rssSizes {
			path := copyFile(b, sqliteTemplate(b, n), filepath.Join(b.TempDir(), "data.db"))
			b.StartTimer()
			mib, took := runBinary(b, bin, path, n)
			b.StopTimer()
			rss = append(rss, mib)
			b.ReportMetric(mib, fmt.Sprintf("rss-MiB-%dk", n/1000))
			b.Logf("%d rows: peak RSS %.1f MiB, %.1f s (%.0f rows/s)", n, mib, took.Seconds(), float64(n)/took.Seconds())
		}
		small, large := rss[0], rss[1]
		ratio := large / small
		b.ReportMetric(ratio, "rss-ratio")
		record(row{id: "(d)", what: fmt.Sprintf("peak RSS of `lockstep run --plain`, SQLite, %s vs %s rows", count(rssSizes[1]), count(rssSizes[0])),
			figure: fmt.Sprintf("%.2f× (%.1f vs %.1f MiB)", ratio, large, small), target: "≤ 1.2×", verdict: check(ratio <= 1.2)})
		record(row{id: "(d')", what: fmt.Sprintf("peak RSS at %s rows", count(rssSizes[1])),
			figure: fmt.Sprintf("%.1f MiB", large), target: "< 100 MiB", verdict: check(large < 100)})
	}
}

// runBinary migrates the n-row table in path with the lockstep binary bin
// and returns its peak RSS in MiB and its wall time.
func runBinary(b *testing.B, bin, path string, n int) (float64, time.Duration) {
	b.Helper()
	dir := b.TempDir()
	rb := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(rb, []byte(runbookYAML(sqliteStore(path), 0)), 0o644); err != nil {
		b.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "output.txt"))
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(bin, "run", rb, "--env", "bench", "--plain", "--operator", "bench",
		"--journal", filepath.Join(dir, "journal.db"))
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	if err != nil {
		text, _ := os.ReadFile(out.Name())
		b.Fatalf("lockstep run: %v\n%s", err, text)
	}
	if got := migratedRows(b, path); got != n {
		b.Fatalf("lockstep run migrated %d rows, want %d", got, n)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatal("no rusage for the child process")
	}
	return float64(ru.Maxrss) / 1024, took // Linux reports KiB
}

// migratedRows counts the rows at the target version.
func migratedRows(b *testing.B, path string) int {
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM users WHERE v = ?", targetVersion).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// count renders 100000 as 100k and 1000000 as 1M.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
