package engine_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestRollbackRestoresOriginalVersions: a migration to version 3 that
// found items at version 1, at 2 and without a version puts each back
// where it was when it is rolled back — not at 2 for all of them.
func TestRollbackRestoresOriginalVersions(t *testing.T) {
	t.Parallel()
	var before map[int]any
	_, db := rollBackSplit(t, 3, 300, func(db *sql.DB) {
		if _, err := db.Exec(`UPDATE users SET v = CASE id % 3 WHEN 0 THEN 1 WHEN 1 THEN 2 ELSE NULL END`); err != nil {
			t.Fatal(err)
		}
		before = versions(t, db)
	})
	var street int
	if err := db.QueryRow(`SELECT count(street_name) FROM users`).Scan(&street); err != nil {
		t.Fatal(err)
	}
	if street != 0 {
		t.Errorf("%d rows keep street_name after the rollback, want 0", street)
	}
	after := versions(t, db)
	wrong := 0
	for id, v := range before {
		if after[id] != v {
			if wrong++; wrong <= 3 {
				t.Errorf("row %d: version %v after the rollback, want %v as before the migration", id, after[id], v)
			}
		}
	}
	if wrong > 3 {
		t.Errorf("... %d rows in all at the wrong version", wrong)
	}
}

// rollBackSplit migrates a SQLite table of n rows to version with the
// split steps and rolls it back when the step after them fails: prepare
// sees the table before the session starts. It returns the session,
// rolled back, and the table's database.
func rollBackSplit(t *testing.T, version, n int, prepare func(*sql.DB)) (*engine.Session, *sql.DB) {
	t.Helper()
	rb := rig.DataRunbook(t, version, "    max_write_rate: 0", rig.SplitSteps+`      - {id: boom, kind: shell, with: {run: "exit 1"}}
`)
	r := rig.NewSQLite(t, rb, n)
	db := r.SQLDB(t)
	prepare(db)
	cfg := rig.SQLiteSessionConfig(t, rb, filepath.Join(r.Dir, "data.db"))
	cfg.Prompter = rig.OnFailure{Action: engine.ActionRollback, Reason: "plan B"}
	s, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if out, err := s.Run(context.Background()); err != nil || out != engine.OutcomeRolledBack {
		t.Fatalf("Run() = %s, %v; want rolled-back", out, err)
	}
	return s, db
}

// versions returns each row's v (nil: NULL) by id.
func versions(t *testing.T, db *sql.DB) map[int]any {
	t.Helper()
	rows, err := db.Query(`SELECT id, v FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]any{}
	for rows.Next() {
		var id int
		var v sql.NullInt64
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		out[id] = nil
		if v.Valid {
			out[id] = v.Int64
		}
	}
	return out
}
