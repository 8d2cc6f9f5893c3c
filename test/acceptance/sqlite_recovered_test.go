package acceptance

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestSQLiteMigrateKilledCountsWhatItWrote kills the counter migration
// with SIGKILL while rows are written beyond its last checkpoints (a
// rate-limited page commits in chunks), resumes it, and checks the
// figures: the rows the killed attempt wrote after its last checkpoint
// are counted as migrated (and recovered), not as already; migrated
// equals the rows changed and already the rows at the target version
// before the first attempt.
func TestSQLiteMigrateKilledCountsWhatItWrote(t *testing.T) {
	t.Parallel()
	const rows, batch, segments, rate = 8000, 400, 4, 1000
	h := newHarness(t)
	data := filepath.Join(h.dir, "data.db")
	seeded := seedSQLite(t, data, "counters", rows)
	// Every tenth row is at the target version before the first attempt.
	presetBase := presetVersion(t, data, "counters", 10, seeded)
	rb := h.writeFile("counter.yaml", counterRunbook("acc-recovered", sqliteStore(data, "counters"), rate, batch, segments))

	db, err := sql.Open("sqlite3", "file:"+data+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	written := func() int64 {
		var n int64
		if err := db.QueryRow(`SELECT count(*) FROM counters WHERE v = ?`, targetVersion).Scan(&n); err != nil {
			t.Fatalf("count written rows: %v", err)
		}
		return n - int64(len(presetBase))
	}

	p := h.start("run", rb, "--env", "test", "--plain")
	var beyond int64
	mid := func() bool {
		if h.checkpoints("bump") == 0 {
			return false // no session, or no page written yet
		}
		s := h.sessions()
		durable := durableMigrated(t, h.journalDB(), s[0].ID)
		beyond = written() - durable
		return durable > 0 && beyond >= rate/10 // mid-run, mid-page
	}
	if err := p.Until(2*time.Minute, 5*time.Millisecond, mid); err != nil {
		t.Fatalf("never saw rows written beyond the checkpoints: %v\n%s", err, p.Output())
	}
	p.kill9()
	s := h.onlySession()
	beyond = written() - durableMigrated(t, h.journalDB(), s.ID)
	t.Logf("killed with %d rows written, %d beyond the last checkpoints", written(), beyond)

	h.mustRun(0, 3*time.Minute, "resume", s.ID, "--plain")
	checkMigratedOnce(t, seeded, readSQLite(t, data, "counters"), presetBase)
	var res struct {
		migrateResult
		Recovered int64 `json:"recovered"`
	}
	if status := h.stepResult(s.ID, "bump", &res); status != "done" {
		t.Fatalf("bump ended %q, want done", status)
	}
	if changed := int64(rows - len(presetBase)); res.Migrated != changed || res.Already != int64(len(presetBase)) {
		t.Errorf("result migrated %d, already %d; want %d (the rows changed) and %d (at version %d before the first attempt)",
			res.Migrated, res.Already, changed, len(presetBase), targetVersion)
	}
	if res.Recovered != beyond {
		t.Errorf("result recovered %d, want the %d rows the killed attempt wrote beyond its checkpoints", res.Recovered, beyond)
	}
}

// durableMigrated sums the migrated counts of each segment's last
// checkpoint of the session's bump step in the journal.
func durableMigrated(t *testing.T, db *sql.DB, id string) int64 {
	t.Helper()
	last := map[int]int64{}
	for _, e := range eventsOf(t, db, id, "checkpoint") {
		var cp struct {
			Segment  int   `json:"segment"`
			Migrated int64 `json:"migrated"`
		}
		if err := json.Unmarshal(e.Data, &cp); err != nil {
			t.Fatalf("checkpoint %s: %v", e.Data, err)
		}
		last[cp.Segment] = cp.Migrated
	}
	var sum int64
	for _, n := range last {
		sum += n
	}
	return sum
}

// presetVersion puts every nth row of table at the target version, and
// returns the base count checkMigratedOnce must expect of each (its count
// minus one: the migration leaves it unchanged).
func presetVersion(t *testing.T, path, table string, nth int, seeded map[string]int64) map[string]int64 {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE "`+table+`" SET v = ? WHERE id % ? = 0`, targetVersion, nth); err != nil {
		t.Fatalf("preset versions: %v", err)
	}
	out := map[string]int64{}
	for id, c := range seeded {
		if n, _ := strconv.Atoi(id); n%nth == 0 {
			out[id] = c - 1
		}
	}
	return out
}
