package engine_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestRollbackByRestore: a migrate step whose rollback is a restore of
// the backup puts every row back as it was, versions included (here 1, 2
// or none), and the rows the migration did not select are left alone.
func TestRollbackByRestore(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 3, "    max_write_rate: 0", `      - {id: snapshot, kind: backup, with: {native: false}}
      - id: backfill
        kind: migrate
        with:
          where: "item.address != nil"
          set: {city: 'trim(split(item.address, ",")[1])'}
          batch_size: 40
        rollback: {kind: restore, with: {from: snapshot, batch_size: 30}}
      - {id: boom, kind: shell, with: {run: "exit 1"}}
`)
	r := rig.NewSQLite(t, rb, 200)
	db := r.SQLDB(t)
	if _, err := db.Exec(`UPDATE users SET v = CASE id % 3 WHEN 0 THEN 1 WHEN 1 THEN 2 ELSE NULL END`); err != nil {
		t.Fatal(err)
	}
	before := versions(t, db)
	cfg := rig.SQLiteSessionConfig(t, rb, filepath.Join(r.Dir, "data.db"))
	cfg.Prompter = rig.OnFailure{Action: engine.ActionRollback, Reason: "plan B"}
	s, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if out, err := s.Run(context.Background()); err != nil || out != engine.OutcomeRolledBack {
		t.Fatalf("Run() = %s, %v; want rolled-back", out, err)
	}
	var city int
	if err := db.QueryRow(`SELECT count(city) FROM users`).Scan(&city); err != nil {
		t.Fatal(err)
	}
	if city != 0 {
		t.Errorf("%d rows keep city after the restore, want 0", city)
	}
	after := versions(t, db)
	for id, v := range before {
		if after[id] != v {
			t.Errorf("row %d: version %v after the restore, want %v", id, after[id], v)
		}
	}
	var res struct {
		Restored  int64  `json:"restored"`
		Unchanged int64  `json:"unchanged"`
		Conflicts int64  `json:"conflicts"`
		Guard     string `json:"guard"`
	}
	evs, err := cfg.Journal.Events(context.Background(), s.Info().ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Kind == engine.EvStepEnd && ev.Step == "backfill.rollback" {
			end, _ := engine.DecodeAs[engine.StepEnded](ev)
			_ = json.Unmarshal(end.Result, &res)
		}
	}
	// 200 rows, every fifth without an address (not migrated).
	if res.Restored != 160 || res.Unchanged != 40 || res.Conflicts != 0 || !strings.Contains(res.Guard, "backfill") {
		t.Errorf("backfill.rollback = %+v, want 160 restored, 40 unchanged, guard from backfill", res)
	}
}
