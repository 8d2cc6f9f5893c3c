package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/internal/sqlitetest"
	_ "github.com/mattn/go-sqlite3"
)

// TestRunSQLStepOnPath runs a sql step whose `path:` names a SQLite file
// in an environment without a store, through the real CLI wiring.
func TestRunSQLStepOnPath(t *testing.T) {
	tests := []struct {
		name       string
		mode       string
		path       string // relative to the temp dir
		wantCode   int
		wantTables string // "-": no file
		wantErr    string
	}{
		{"live creates the table", "live", "side.db", exitOK, "audit", ""},
		{"dry-run leaves nothing", "dry-run", "side.db", exitOK, "-", ""},
		{"missing directory", "live", "nodir/side.db", exitFailed, "-",
			"rb.yaml:10:9: open sqlite store: open sqlite database $DIR/nodir/side.db: directory $DIR/nodir does not exist (create it first)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, tt.path)
			step := `{id: mk, kind: sql, with: {path: "${SIDE_DB}", statements: ["CREATE TABLE audit (id INTEGER PRIMARY KEY)"]}}`
			_, out, errOut, err := runOneStep(t, dir, "T", step, map[string]string{"SIDE_DB": db}, "--mode", tt.mode)
			if got := exitCode(err); got != tt.wantCode {
				t.Errorf("exit %d (%v), want %d\n%s%s", got, err, tt.wantCode, out, errOut)
			}
			if want := strings.ReplaceAll(tt.wantErr, "$DIR", dir); !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
			if got := sqlitetest.Tables(t, db); got != tt.wantTables {
				t.Errorf("tables of %s = %q, want %q", tt.path, got, tt.wantTables)
			}
		})
	}
}
