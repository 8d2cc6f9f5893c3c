package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestCloseRestoresJournalMode: the store runs in WAL, which SQLite keeps
// in the file; closing it gives the application's database back the
// journal mode it had.
func TestCloseRestoresJournalMode(t *testing.T) {
	for _, mode := range []string{"delete", "wal"} { // only WAL is kept in the file
		t.Run(mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.db")
			raw, err := sql.Open("sqlite3", path)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			raw.SetMaxOpenConns(1)
			if _, err := raw.Exec("PRAGMA journal_mode=" + mode + "; CREATE TABLE users (id INTEGER PRIMARY KEY, v INTEGER)"); err != nil {
				t.Fatal(err)
			}
			if err := raw.Close(); err != nil {
				t.Fatal(err)
			}
			st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: path, Table: "users", Key: []string{"id"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			raw, err = sql.Open("sqlite3", path)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var got string
			if err := raw.QueryRow("PRAGMA journal_mode").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != mode {
				t.Errorf("journal mode after the store closed = %s, want %s", got, mode)
			}
		})
	}
}
