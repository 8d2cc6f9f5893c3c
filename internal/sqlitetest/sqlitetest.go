// Package sqlitetest has test helpers for SQLite files.
package sqlitetest

import (
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the driver the helpers open files with
)

// Tables returns the names of the tables in the SQLite file at path,
// sorted and comma-separated ("" for none), or "-" when the file does not
// exist. Reading it creates nothing.
func Tables(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "-"
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var names sql.NullString
	q := "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)"
	if err := db.QueryRow(q).Scan(&names); err != nil {
		t.Fatalf("tables of %s: %v", path, err)
	}
	return names.String
}
