package sqlite_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestOpenDoesNotCreate: an environment's store never gets a new empty
// database file: a missing one is an error that names it and says what to
// do, and nothing is left behind. OpenOrCreate creates it.
func TestOpenDoesNotCreate(t *testing.T) {
	pos := runbook.Pos{File: "shop.yaml", Line: 8, Col: 12}
	tests := []struct {
		name    string
		open    func(*runbook.StoreSpec) (*sqlite.Store, error)
		file    string // "" : the database file does not exist
		wantErr string // "": opens
	}{
		{"missing file", sqlite.Open, "", "sqlite store: %s does not exist; create it or fix `path:` at shop.yaml:8:12"},
		{"existing file", sqlite.Open, "CREATE TABLE items (id TEXT PRIMARY KEY)", ""},
		{"existing empty file", sqlite.Open, "-", ""},
		{"create when missing", sqlite.OpenOrCreate, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shop.db")
			switch tt.file {
			case "":
			case "-":
				if err := os.WriteFile(path, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			default:
				mustExec(t, path, tt.file)
			}
			st, err := tt.open(&runbook.StoreSpec{Kind: "sqlite", Pos: pos, Path: path, Table: "items", Key: []string{"id"}})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("open()=%v, want no error", err)
				}
				st.Close()
				if _, err := os.Stat(path); err != nil {
					t.Errorf("Stat(%s) after open = %v", path, err)
				}
				return
			}
			if st != nil {
				st.Close()
			}
			want := strings.ReplaceAll(tt.wantErr, "%s", path)
			if err == nil || err.Error() != want {
				t.Fatalf("open()=%v, want %q", err, want)
			}
			if !errors.Is(err, sqlite.ErrNoDatabase) || !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(%v, ErrNoDatabase / fs.ErrNotExist) = false", err)
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Stat(%s) = %v, want the file still missing", path, err)
			}
		})
	}
}
