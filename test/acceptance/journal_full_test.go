//go:build linux

package acceptance

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSQLiteMigrateJournalDiskFull runs the counter migration with its
// journal on a full filesystem — a 256 KiB tmpfs, as root — so that the
// journal fills up mid-migration: lockstep stops resumably (exit 3)
// naming the journal, the cause and the resume command, having written at
// most one page per segment beyond the journal's last durable checkpoints.
// Once space is freed (the tmpfs grown), the resume finishes and every
// counter is incremented exactly once.
func TestSQLiteMigrateJournalDiskFull(t *testing.T) {
	t.Parallel()
	const rows, batch, segments = 20_000, 100, 4
	h := newHarness(t)
	jdir := mountTmpfs(t, filepath.Join(h.dir, "jfs"), "256k")
	journal := filepath.Join(jdir, "journal.db")
	data := filepath.Join(h.dir, "data.db")
	seeded := seedSQLite(t, data, "counters", rows)
	rb := h.writeFile("counter.yaml", counterRunbook("acc-full", sqliteStore(data, "counters"), 0, batch, segments))

	r := h.startWith(journal, nil, "run", rb, "--env", "test", "--plain").Wait(3 * time.Minute)
	written := countAt(readSQLite(t, data, "counters"), targetVersion)
	if r.Code != 3 {
		t.Fatalf("run with a full journal: exit %d, want 3 (stopped resumably); %d rows written\n%s", r.Code, written, r)
	}
	t.Logf("stderr of the stopped run:\n%s", r.Stderr)
	for _, want := range []string{"journal " + journal + ": ", "database or disk is full", "free space and run `lockstep resume "} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr does not say %q\n%s", want, r)
		}
	}

	remountTmpfs(t, jdir, "64m") // space freed
	db := readJournal(t, journal)
	list := sessionsOf(t, db)
	if len(list) != 1 {
		t.Fatalf("journal has %d sessions, want 1", len(list))
	}
	id := list[0].ID
	durable := durableMigrated(t, db, id)
	t.Logf("journal full after %d rows written, %d of them under durable checkpoints", written, durable)
	if written == 0 || written == rows {
		t.Fatalf("%d of %d rows written when the journal filled up: the test did not fill it mid-migration", written, rows)
	}
	if beyond := int64(written) - durable; beyond > batch*segments {
		t.Errorf("%d rows written beyond the journal's last durable checkpoints, want at most one page per segment (%d)", beyond, batch*segments)
	}

	if r := h.startWith(journal, nil, "resume", id, "--plain").Wait(3 * time.Minute); r.Code != 0 {
		t.Fatalf("resume after freeing space: exit %d, want 0\n%s", r.Code, r)
	}
	checkMigratedOnce(t, seeded, readSQLite(t, data, "counters"), nil)
}

// mountTmpfs mounts a tmpfs of size at dir for the test. Mounting needs
// root: elsewhere the test skips, except under CI=true where it fails.
func mountTmpfs(t *testing.T, dir, size string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a %s tmpfs at %s (CI runs as root): %v", size, dir, err)
		}
		t.Skipf("cannot mount a tmpfs to fill up (needs root): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// remountTmpfs resizes the tmpfs at dir.
func remountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, "size="+size+",mode=0700"); err != nil {
		t.Fatalf("grow the tmpfs at %s to %s: %v", dir, size, err)
	}
}
