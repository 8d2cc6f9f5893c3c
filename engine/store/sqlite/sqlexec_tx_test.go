package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/lockstep-run/lockstep/engine/store/sqlite"
)

// TestExecSQLRefusesTransactionControl: a COMMIT (or ROLLBACK, BEGIN,
// SAVEPOINT, RELEASE) among a sql step's statements would commit what came
// before it even in a dry run; it is refused before it runs, and nothing
// the step did is kept. A trigger, whose body holds BEGIN … END, is fine.
func TestExecSQLRefusesTransactionControl(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		statements []string
		commit     bool
		wantErr    bool
		wantRows   int // rows left in flags (2 before)
	}{
		{"dry run with COMMIT", []string{"DELETE FROM flags WHERE name = 'a'", "COMMIT", "DELETE FROM flags WHERE name = 'b'"}, false, true, 2},
		{"live with COMMIT", []string{"DELETE FROM flags WHERE name = 'a'", "COMMIT", "DELETE FROM flags WHERE name = 'b'"}, true, true, 2},
		{"COMMIT inside one string", []string{"DELETE FROM flags WHERE name = 'a';\nCOMMIT;\nDELETE FROM flags WHERE name = 'b';"}, false, true, 2},
		{"END", []string{"DELETE FROM flags", "END"}, true, true, 2},
		{"ROLLBACK", []string{"DELETE FROM flags", "ROLLBACK", "DELETE FROM flags WHERE name = 'a'"}, true, true, 2},
		{"BEGIN", []string{"BEGIN", "DELETE FROM flags"}, true, true, 2},
		{"SAVEPOINT", []string{"SAVEPOINT s", "DELETE FROM flags", "RELEASE s"}, true, true, 2},
		{"a trigger is not transaction control", []string{"CREATE TRIGGER t AFTER DELETE ON flags BEGIN INSERT INTO gone VALUES (old.name); END", "DELETE FROM flags WHERE name = 'a'"}, true, false, 1},
		{"dry run of plain statements", []string{"DELETE FROM flags"}, false, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.db")
			raw, err := sql.Open("sqlite3", path)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Exec(`CREATE TABLE flags (name TEXT PRIMARY KEY); CREATE TABLE gone (name TEXT); INSERT INTO flags VALUES ('a'), ('b')`); err != nil {
				t.Fatal(err)
			}
			db, err := sqlite.OpenSQL(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.ExecSQL(ctx, tt.statements, tt.commit)
			if tt.wantErr != errors.Is(err, sqlite.ErrTransactionControl) {
				t.Errorf("ExecSQL() error = %v, want ErrTransactionControl: %v", err, tt.wantErr)
			}
			// The connection is usable afterwards: no authorizer left behind.
			if _, err := db.ExecSQL(ctx, []string{"SELECT 1"}, true); err != nil {
				t.Errorf("next ExecSQL: %v", err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := raw.QueryRow(`SELECT count(*) FROM flags`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tt.wantRows {
				t.Errorf("%d rows left, want %d", n, tt.wantRows)
			}
		})
	}
}
