package journal_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// foreignDB writes another program's SQLite database at path.
func foreignDB(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenReadOnlyRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string) // nil: no file at all
		want  error
	}{
		{"missing file", nil, journal.ErrNoJournal},
		{"text file", func(t *testing.T, path string) { os.WriteFile(path, []byte("notes\n"), 0o644) }, journal.ErrNotJournal},
		{"empty file", func(t *testing.T, path string) { os.WriteFile(path, nil, 0o644) }, journal.ErrNotJournal},
		{"directory", func(t *testing.T, path string) { os.Mkdir(path, 0o755) }, journal.ErrNotJournal},
		{"another program's database", foreignDB, journal.ErrNotJournal},
		{"newer schema", func(t *testing.T, path string) {
			j, err := journal.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			j.Close()
			db := rawDB(t, path)
			if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}, journal.ErrSchemaTooNew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "typo", "dir")
			path := filepath.Join(dir, "jornal.db")
			if tt.setup != nil {
				os.MkdirAll(dir, 0o755)
				tt.setup(t, path)
			}
			before := snapshot(t, path)
			j, err := journal.OpenReadOnly(path)
			if err == nil {
				j.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("OpenReadOnly() error = %v, want %v", err, tt.want)
			}
			if tt.setup == nil {
				if _, err := os.Stat(filepath.Dir(dir)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("OpenReadOnly created %s (stat error %v)", filepath.Dir(dir), err)
				}
			}
			if after := snapshot(t, path); after != before {
				t.Errorf("OpenReadOnly changed the file: %s, was %s", after, before)
			}
		})
	}
}

// snapshot describes a path's mode and content, "" when it is missing.
func snapshot(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	if fi.IsDir() {
		return fi.Mode().String()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s %d bytes sha256 %x", fi.Mode(), len(b), sha256.Sum256(b))
}

func TestOpenRefusesAFileThatIsNotAJournal(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{"text file", func(t *testing.T, path string) { os.WriteFile(path, []byte("notes\n"), 0o644) }},
		{"another program's database", foreignDB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pm.md")
			tt.setup(t, path)
			os.Chmod(path, 0o644)
			before := snapshot(t, path)
			j, err := journal.Open(path)
			if err == nil {
				j.Close()
			}
			if !errors.Is(err, journal.ErrNotJournal) {
				t.Fatalf("Open() error = %v, want ErrNotJournal", err)
			}
			if after := snapshot(t, path); after != before {
				t.Errorf("Open changed a file that is not a journal: %q, was %q", after, before)
			}
		})
	}
}

func TestOpenReadOnlyReadsWithoutWriting(t *testing.T) {
	ctx := context.Background()
	j, path := openTemp(t)
	s := createSession(t, j, sessionInfo("production", "r", engine.ModeLive, time.Time{}))
	appendEvents(t, j, s.ID, 3)
	j.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}

	ro, err := journal.OpenReadOnly(path)
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	defer ro.Close()
	if got, err := ro.Session(ctx, s.ID); err != nil || got.Events != 3 {
		t.Errorf("Session = %+v, %v; want 3 events", got, err)
	}
	if res, err := ro.Verify(ctx, s.ID); err != nil || !res.OK {
		t.Errorf("Verify = %+v, %v; want OK", res, err)
	}
	ev := eventtest.Raw(engine.EvNote, "", map[string]any{"text": "x"})
	ev.SessionID, ev.Operator = s.ID, "alice"
	if _, err := ro.Append(ctx, ev); err == nil {
		t.Error("Append through a read-only journal succeeded")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644 untouched", fi.Mode().Perm())
	}
}

// TestOpenReadOnlyWithoutWALIndex: a journal closed cleanly (no -wal, no
// -shm) in a directory the reader may not write, where SQLite cannot
// create the -shm file, is still readable.
func TestOpenReadOnlyWithoutWALIndex(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere; test/e2e covers this case by running the binary as nobody")
	}
	j, path := openTemp(t)
	s := createSession(t, j, sessionInfo("production", "r", engine.ModeLive, time.Time{}))
	j.Close()
	dir := filepath.Dir(path)
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	ro, err := journal.OpenReadOnly(path)
	if err != nil {
		t.Fatalf("OpenReadOnly in a read-only directory: %v", err)
	}
	defer ro.Close()
	if _, err := ro.Session(context.Background(), s.ID); err != nil {
		t.Errorf("Session: %v", err)
	}
}
