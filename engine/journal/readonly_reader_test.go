package journal_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
)

// TestHelperReadOnlyReader is not a test: TestReadOnlyLocations runs the
// test binary as a user who cannot write the journal's directory; it
// lists, reads and verifies every session and prints what it saw.
func TestHelperReadOnlyReader(t *testing.T) {
	path := os.Getenv("JOURNAL_READER_PATH")
	if path == "" {
		t.Skip("helper process only")
	}
	ctx := context.Background()
	j, err := journal.OpenReadOnly(path)
	if err != nil {
		fmt.Println("OPEN-ERROR", err)
		return
	}
	defer j.Close()
	list, err := j.ListSessions(ctx, engine.SessionFilter{})
	if err != nil {
		fmt.Println("LIST-ERROR", err)
		return
	}
	var events int64
	for _, s := range list {
		evs, err := j.Events(ctx, s.ID)
		if err != nil {
			fmt.Println("SHOW-ERROR", err)
			return
		}
		res, err := j.Verify(ctx, s.ID)
		if err != nil || !res.OK {
			fmt.Println("VERIFY-ERROR", res, err)
			return
		}
		events += int64(len(evs))
	}
	fmt.Printf("READ %d sessions %d events\n", len(list), events)
}

// TestReadOnlyLocations: a reader who may not write the journal's
// directory (a shared or read-only location) can list, show and verify
// it, whether the journal was closed cleanly (no -wal, no -shm), is being
// written (-wal and -shm present), or was left with a -wal and no -shm
// (copied, or its writer killed and the -shm removed) — SQLite cannot
// create the -shm it needs to read the -wal there.
//
// Tests run as root, who writes anywhere: chmod proves nothing. So the
// reader is the test binary re-executed as nobody (uid 65534), from a copy
// nobody may execute; non-root runs use themselves with the directory
// chmodded 0555.
func TestReadOnlyLocations(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, j *journal.Journal, path string) // j is open; setup may close it
	}{
		{"closed cleanly", func(t *testing.T, j *journal.Journal, path string) { j.Close() }},
		{"being written", func(t *testing.T, j *journal.Journal, path string) {}},
		{"a -wal without its -shm", func(t *testing.T, j *journal.Journal, path string) {
			// Copy the files as they are while the writer holds them:
			// the copy's -wal holds the newest events.
			for _, ext := range []string{"", "-wal"} {
				copyTo(t, path+ext, path+".copy"+ext)
			}
			j.Close()
			for _, ext := range []string{"", "-wal"} {
				if err := os.Rename(path+".copy"+ext, path+ext); err != nil {
					t.Fatal(err)
				}
			}
			if exists(path + "-shm") {
				t.Fatal("-shm left behind")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(publicDir(t), "shared")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "journal.db")
			j, err := journal.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			var ids []string
			for range 2 {
				s := createSession(t, j, sessionInfo("production", "r", engine.ModeLive, time.Time{}))
				appendEvents(t, j, s.ID, 5)
				ids = append(ids, s.ID)
			}
			db := journal.DB(j)
			db.SetMaxIdleConns(1) // keep one connection: the -wal is not checkpointed away
			tt.setup(t, j, path)
			for _, ext := range []string{"", "-wal", "-shm"} {
				os.Chmod(path+ext, 0o644)
			}
			out := runReader(t, dir, path)
			if want := "READ 2 sessions 10 events"; !strings.Contains(out, want) {
				t.Errorf("reader in a read-only directory: %q, want %q", out, want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 3 {
				t.Errorf("the reader left files: %v", entries)
			}
		})
	}
}

// runReader runs TestHelperReadOnlyReader as a user who cannot write dir.
func runReader(t *testing.T, dir, path string) string {
	t.Helper()
	bin := os.Args[0]
	cmd := exec.Command(bin, "-test.run=^TestHelperReadOnlyReader$", "-test.count=1")
	cmd.Env = append(os.Environ(), "JOURNAL_READER_PATH="+path)
	if os.Geteuid() == 0 {
		pub := publicDir(t)
		copyTo(t, bin, filepath.Join(pub, "journal.test"))
		os.Chmod(filepath.Join(pub, "journal.test"), 0o755)
		cmd.Path, cmd.Args[0] = filepath.Join(pub, "journal.test"), filepath.Join(pub, "journal.test")
		cmd.Env = []string{"HOME=/nonexistent", "PATH=/usr/bin:/bin", "JOURNAL_READER_PATH=" + path}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	} else {
		os.Chmod(dir, 0o555)
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("reader: %v\n%s", err, out)
	}
	return string(out)
}

// publicDir is a temporary directory every user may enter and read (its
// parents opened to others as needed).
func publicDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for p := d; p != "/" && p != "."; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o005 != 0o005 {
			os.Chmod(p, fi.Mode().Perm()|0o005)
		}
	}
	return d
}

func copyTo(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
