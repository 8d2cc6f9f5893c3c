package postgres_test

import (
	"errors"
	"os"
	osexec "os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/internal/pgtest"
)

// TestDumpRestoresWithPgRestore: the pg_dump a backup writes next to its
// logical export holds the table, and pg_restore puts it back in another
// database with every row.
func TestDumpRestoresWithPgRestore(t *testing.T) {
	t.Parallel()
	if _, err := osexec.LookPath("pg_restore"); err != nil {
		t.Skip("pg_restore is not installed")
	}
	st := newTable(t, `CREATE TABLE items (id bigint PRIMARY KEY, name text, v integer)`, nil, "id")
	var seed []engine.Item
	for i := range 50 {
		seed = append(seed, engine.Item{"id": int64(i), "name": "n"})
	}
	if err := st.Put(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	info, err := st.Dump(t.Context(), dir)
	if errors.Is(err, engine.ErrNoDumpTool) {
		t.Skip("pg_dump is not installed")
	}
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	if fi, err := os.Stat(info.File); err != nil || fi.Size() != info.Bytes || len(info.SHA256) != 64 {
		t.Fatalf("dump %+v: stat %v, %v", info, fi, err)
	}
	if !strings.Contains(info.Tool, "pg_dump") || !strings.Contains(info.Restore, "pg_restore") {
		t.Errorf("dump info = %+v, want the tool and a pg_restore command", info)
	}
	other := pgtest.DB(t)
	if out, err := osexec.Command("pg_restore", "--no-owner", "--dbname="+other, info.File).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	if got := count(t, other, "SELECT count(*) FROM items"); got != "50" {
		t.Errorf("restored rows = %s, want 50", got)
	}
}

// TestDumpWithoutTool: no pg_dump on PATH is ErrNoDumpTool, not a failure.
func TestDumpWithoutTool(t *testing.T) {
	st := newTable(t, `CREATE TABLE items (id bigint PRIMARY KEY, v integer)`, nil, "id")
	t.Setenv("PATH", t.TempDir())
	if _, err := st.Dump(t.Context(), t.TempDir()); !errors.Is(err, engine.ErrNoDumpTool) {
		t.Fatalf("Dump without pg_dump = %v, want ErrNoDumpTool", err)
	}
}

// count runs a one-value query on dsn and returns its text.
func count(t *testing.T, dsn, query string) string {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	var n int64
	if err := c.QueryRow(t.Context(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return strconv.FormatInt(n, 10)
}
