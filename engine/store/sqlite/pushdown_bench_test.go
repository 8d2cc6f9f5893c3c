package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// pushdownBenchRows is how many rows BenchmarkMigratePushdown migrates
// per iteration: enough for pages to grow as they do on bench/'s (c′).
const pushdownBenchRows = 200_000

// setBasedSplit is bench/'s floor for (c′): the split in one UPDATE.
const setBasedSplit = `UPDATE users SET
	street_name = trim(CASE WHEN instr(address, ',') > 0 THEN substr(address, 1, instr(address, ',') - 1) ELSE address END),
	city = trim(CASE WHEN instr(substr(address, instr(address, ',') + 1), ',') > 0
		THEN substr(substr(address, instr(address, ',') + 1), 1, instr(substr(address, instr(address, ',') + 1), ',') - 1)
		ELSE substr(address, instr(address, ',') + 1) END),
	postcode = trim(CASE WHEN instr(substr(substr(address, instr(address, ',') + 1), instr(substr(address, instr(address, ',') + 1), ',') + 1), ',') > 0
		THEN substr(substr(substr(address, instr(address, ',') + 1), instr(substr(address, instr(address, ',') + 1), ',') + 1), 1,
			instr(substr(substr(address, instr(address, ',') + 1), instr(substr(address, instr(address, ',') + 1), ',') + 1), ',') - 1)
		ELSE substr(substr(address, instr(address, ',') + 1), instr(substr(address, instr(address, ',') + 1), ',') + 1) END),
	v = 2 WHERE address IS NOT NULL AND (v IS NULL OR v < 2)`

// BenchmarkMigratePushdown runs bench/'s split-address migration pushed
// down, a whole session as bench/ (c′) does, and the same split as one
// set-based UPDATE on a copy of the same table, and reports the CPU
// time per row of each and their ratio (set-based / pushdown: (c′)'s
// CPU figure, which holds on a loaded machine). LOCKSTEP_PUSHDOWN_ONLY=1
// runs the pushdown alone, for a profile.
func BenchmarkMigratePushdown(b *testing.B) {
	only := os.Getenv("LOCKSTEP_PUSHDOWN_ONLY") != ""
	var push, set time.Duration
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		path := usersTable(b, dir, pushdownBenchRows)
		if !only {
			set += setBasedCPU(b, path)
		}
		b.StartTimer()
		c := cpuNow()
		out, lines := runSession(b, dir, path, splitRunbook, openPushdownStore)
		push += cpuNow() - c
		if out != engine.OutcomeCompleted {
			b.Fatalf("outcome %q: %s", out, strings.Join(lines, "\n"))
		}
		if !strings.Contains(strings.Join(lines, "\n"), "path: pushdown") {
			b.Fatalf("the step did not push down:\n%s", strings.Join(lines, "\n"))
		}
	}
	rows := float64(b.N * pushdownBenchRows)
	b.ReportMetric(float64(push.Nanoseconds())/1e3/rows, "cpu-µs/row")
	if !only {
		b.ReportMetric(float64(set.Nanoseconds())/1e3/rows, "set-cpu-µs/row")
		b.ReportMetric(float64(set)/float64(push), "cpu-ratio")
	}
}

// openPushdownStore opens the SQLite store as the CLI does.
func openPushdownStore(_ context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
	return sqlite.Open(spec)
}

// setBasedCPU copies the table at path and times the set-based UPDATE on
// the copy, as bench/ does: open, one statement, close.
func setBasedCPU(b *testing.B, path string) time.Duration {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	cp := path + ".set"
	if err := os.WriteFile(cp, data, 0o600); err != nil {
		b.Fatal(err)
	}
	defer os.Remove(cp)
	c := cpuNow()
	db, err := sql.Open("sqlite3", "file:"+cp+"?_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	res, err := db.Exec(setBasedSplit)
	if err != nil {
		b.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != pushdownBenchRows {
		b.Fatalf("set-based UPDATE wrote %d rows, want %d", n, pushdownBenchRows)
	}
	db.Close()
	return cpuNow() - c
}
