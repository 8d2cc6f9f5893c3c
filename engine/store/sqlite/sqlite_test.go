package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/runbook"
)

// newTable creates table t from ddl in a fresh database file, seeds it
// and opens a store on it.
func newTable(t testing.TB, ddl string, seed []engine.Item, key ...string) *sqlite.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ddl); err != nil {
		t.Fatalf("%s: %v", ddl, err)
	}
	db.Close()
	st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: path, Table: "items", Key: key})
	if err != nil {
		t.Fatalf("Open()=%v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Put(context.Background(), seed); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return st
}

func suiteDDL() string {
	cols := make([]string, len(storetest.Columns))
	for i, c := range storetest.Columns {
		cols[i] = `"` + c.Name + `" ` + c.SQLType
	}
	return "CREATE TABLE items (" + strings.Join(cols, ", ") + ")"
}

func TestConformance(t *testing.T) {
	storetest.Run(t,
		func(t *testing.T, seed []engine.Item) engine.Store { return newTable(t, suiteDDL(), seed) },
		storetest.ScalarsOnly(),
		storetest.WithReopen(func(t *testing.T, s engine.Store) engine.Store {
			st := s.(*sqlite.Store)
			again, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: st.Path(), Table: st.Table()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { again.Close() })
			return again
		}),
	)
}
