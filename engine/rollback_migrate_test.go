package engine_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestRollbackDuringMigrate: a rollback requested while a migrate step is
// writing stops it at a batch boundary and runs its rollback, so no row is
// left at the new version and the session is really rolled back.
func TestRollbackDuringMigrate(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 3, "    max_write_rate: 1000", rig.SplitSteps)
	r := rig.NewSQLite(t, rb, 5000)
	dbPath := filepath.Join(r.Dir, "data.db")
	var (
		once    sync.Once
		written = make(chan struct{})
	)
	cfg := rig.SQLiteSessionConfig(t, rb, dbPath)
	cfg.Observer = func(ev engine.Event) {
		if ev.Kind == engine.EvProgress && ev.Step == "backfill" && strings.Contains(string(ev.Data), `"migrated":`) &&
			!strings.Contains(string(ev.Data), `"migrated":0`) {
			once.Do(func() { close(written) })
		}
	}
	s, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	done := make(chan engine.Outcome, 1)
	go func() {
		out, err := s.Run(context.Background())
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		done <- out
	}()
	select {
	case <-written:
	case <-time.After(30 * time.Second):
		t.Fatal("no checkpoint within 30s")
	}
	s.Control(engine.Command{Kind: engine.CmdRollback, Text: "wrong city parsing"})
	if out := <-done; out != engine.OutcomeRolledBack {
		t.Fatalf("outcome %s, want rolled-back", out)
	}
	db, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var withV, withStreet int
	if err := db.QueryRow(`SELECT count(v), count(street_name) FROM users`).Scan(&withV, &withStreet); err != nil {
		t.Fatal(err)
	}
	// The rows had no version before the migration: the rollback takes
	// them back to none, not to v2. (The observer saw rows migrated before
	// the request.)
	if withV != 0 || withStreet != 0 {
		t.Errorf("after the rollback %d rows have a version and %d have street_name, want none", withV, withStreet)
	}
	if st := s.State(); st.StepState("backfill").Status != engine.StepRolledBack {
		got := st.StepState("backfill").Status
		t.Errorf("backfill status %s, want rolled-back", got)
	}
}
