package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/internal/sqlitetest"
)

func TestOpenSQL(t *testing.T) {
	ctx := context.Background()
	create := []string{"CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT)", "INSERT INTO audit (note) VALUES ('x')", "SELECT count(*) FROM audit"}
	existing := func(t *testing.T, path string) {
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec("CREATE TABLE keep (x)"); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		file       string // relative to the temp dir
		prepare    func(t *testing.T, path string)
		statements []string
		commit     bool
		wantTables string // after Close; "-": no file
		wantErr    string // from OpenSQL or ExecSQL
	}{
		{name: "new file, commit creates the table", file: "new.db", statements: create, commit: true, wantTables: "audit"},
		{name: "new file, dry run leaves no file", file: "new.db", statements: create, wantTables: "-"},
		{name: "new file, failed statement leaves no file", file: "new.db", statements: []string{create[0], "INSERT INTO nope VALUES (1)"},
			commit: true, wantTables: "-", wantErr: "exec sql statement 2 (INSERT INTO nope VALUES (1)): no such table: nope"},
		{name: "existing file, commit adds the table", file: "old.db", prepare: existing, statements: create, commit: true, wantTables: "audit,keep"},
		{name: "existing file, dry run leaves it as it was", file: "old.db", prepare: existing, statements: create, wantTables: "keep"},
		{name: "missing directory", file: "nodir/new.db", wantTables: "-",
			wantErr: "open sqlite database $DIR/nodir/new.db: directory $DIR/nodir does not exist (create it first)"},
		{name: "a directory", file: "sub", prepare: func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		},
			wantErr: "open sqlite database $DIR/sub: is a directory"},
		{name: "URI parameters", file: "new.db?mode=memory", wantTables: "-",
			wantErr: "open sqlite database $DIR/new.db?mode=memory: path must not contain '?' or '#'"},
		{name: "not a database", file: "notes.txt",
			prepare: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte(strings.Repeat("plain text\n", 200)), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "open sqlite database $DIR/notes.txt: file is not a database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tt.file)
			if tt.prepare != nil {
				tt.prepare(t, path)
			}
			wantErr := strings.ReplaceAll(tt.wantErr, "$DIR", dir)
			db, err := sqlite.OpenSQL(path)
			if err == nil {
				rs, e := db.ExecSQL(ctx, tt.statements, tt.commit)
				err = e
				if e == nil && len(rs) == 3 && (len(rs[2].Rows) != 1 || rs[2].Rows[0][0] != "1") {
					t.Errorf("ExecSQL() count rows = %v, want [[1]]", rs[2].Rows)
				}
				if e := db.Close(); e != nil {
					t.Errorf("Close() = %v", e)
				}
				if e := db.Close(); e != nil {
					t.Errorf("second Close() = %v, want nil", e)
				}
			}
			if (err != nil) != (wantErr != "") || (err != nil && !strings.HasPrefix(err.Error(), wantErr)) {
				t.Fatalf("error = %v, want %q", err, wantErr)
			}
			if tt.wantTables != "" {
				if got := sqlitetest.Tables(t, path); got != tt.wantTables {
					t.Errorf("tables after = %q, want %q", got, tt.wantTables)
				}
			}
		})
	}
}

func TestOpenSQLMissingDirIsNotExist(t *testing.T) {
	_, err := sqlite.OpenSQL(filepath.Join(t.TempDir(), "nodir", "x.db"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenSQL() = %v, want an fs.ErrNotExist", err)
	}
}

func TestDatabaseHasNoTable(t *testing.T) {
	db, err := sqlite.OpenSQL(filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Describe(context.Background())
	if !errors.Is(err, sqlite.ErrNoTable) || !strings.Contains(err.Error(), "x.db is opened for sql steps only") {
		t.Errorf("Describe() = %v, want ErrNoTable naming the file", err)
	}
	if err := db.Put(context.Background(), nil); !errors.Is(err, sqlite.ErrNoTable) {
		t.Errorf("Put() = %v, want ErrNoTable", err)
	}
}
