package demo_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/lockstep-run/lockstep/internal/demo"
)

// The sample database has the data version column from the start, NULL for
// every user: the demo's estimate probes the write path with a guarded
// update on v before the expand phase adds the new columns.
func TestCreateDBHasUnsetVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.db")
	if err := demo.CreateDB(context.Background(), path, 1000); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, unset int
	if err := db.QueryRow(`SELECT count(*), sum(v IS NULL) FROM users`).Scan(&n, &unset); err != nil {
		t.Fatalf("read v: %v", err)
	}
	if n != 1000 || unset != n {
		t.Errorf("%d users, %d with v NULL; want every one of 1000 unversioned", n, unset)
	}
}
