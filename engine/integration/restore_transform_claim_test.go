package integration_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestRestoreRefusesAfterExternalTransform holds docs/rollback.md: "A
// restore with a migrate step that uses an external transform: refuses
// to start: lockstep cannot know what the program wrote for a past item".
// The migration (the helper in mode upper: ids ending in 0 get an
// upper-case name and lose their address) runs for real; the restore
// step then fails naming the transform, and writes no row back.
func TestRestoreRefusesAfterExternalTransform(t *testing.T) {
	t.Setenv("LOCKSTEP_TEST_TRANSFORM", "upper")
	helper := fmt.Sprintf("[%q, \"-test.run=^TestMigrateHelperTransform$\"]", os.Args[0])
	rb := rig.DataRunbook(t, 2, "    max_write_rate: 0", fmt.Sprintf(`      - {id: snapshot, kind: backup, with: {native: false}}
      - id: ext
        kind: migrate
        with: {transform: %s, batch_size: 20, segments: 1}
      - {id: undo, kind: restore, with: {from: snapshot}}
`, helper))
	r := rig.NewSQLite(t, rb, 60)
	db := r.SQLDB(t)
	cfg := rig.SQLiteSessionConfig(t, rb, filepath.Join(r.Dir, "data.db"))
	cfg.Prompter = rig.OnFailure{Action: engine.ActionAbort, Reason: "no restore possible"}
	ctx := context.Background()
	s, err := engine.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if out, err := s.Run(ctx); out != engine.OutcomeAborted {
		t.Fatalf("Run() = %s, %v; want aborted after the restore failed", out, err)
	}
	evs, err := cfg.Journal.Events(ctx, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	var undoErr string
	for _, ev := range evs {
		if ev.Kind == engine.EvStepEnd && ev.Step == "undo" {
			end, err := engine.DecodeAs[engine.StepEnded](ev)
			if err != nil {
				t.Fatal(err)
			}
			undoErr = end.Error
		}
	}
	if !strings.Contains(undoErr, "external transform") {
		t.Errorf("undo ended with error %q, want it to name the external transform", undoErr)
	}
	// What the migration wrote stays: 6 of 60 ids end in 0.
	if n := count(t, db, `SELECT count(*) FROM users WHERE name = upper(name) AND address IS NULL AND v = 2`); n != 6 {
		t.Errorf("%d rows keep the transform's writes after the refused restore, want 6", n)
	}
	if n := count(t, db, `SELECT count(*) FROM users WHERE v = 2`); n != 60 {
		t.Errorf("%d rows at version 2 after the refused restore, want all 60", n)
	}
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
