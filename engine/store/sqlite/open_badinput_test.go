package sqlite_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestOpenKeyMismatch: a store whose key names a column the table lacks
// fails to open naming the table, the column and the runbook's line to fix.
func TestOpenKeyMismatch(t *testing.T) {
	pos := runbook.Pos{File: "shop.yaml", Line: 8, Col: 12}
	tests := []struct {
		name string
		key  []string
		want string
	}{
		{"one column", []string{"uid"}, "table \"items\": key column \"uid\": no such column; fix `key:` at shop.yaml:8:12, or add the column"},
		{"second column", []string{"id", "sk"}, "table \"items\": key column \"sk\": no such column; fix `key:` at shop.yaml:8:12, or add the column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shop.db")
			mustExec(t, path, "CREATE TABLE items (id TEXT PRIMARY KEY, name TEXT)")
			st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Pos: pos, Path: path, Table: "items", Key: tt.key})
			if err == nil {
				st.Close()
				t.Fatal("Open succeeded with a key column the table lacks")
			}
			if !strings.Contains(err.Error(), tt.want) || !errors.Is(err, sqlite.ErrNoColumn) {
				t.Errorf("Open() = %v, want it to contain %q and be ErrNoColumn", err, tt.want)
			}
		})
	}
}
