package enginetest

import (
	"fmt"
	"os"
	"testing"
)

// memFS is where Linux keeps a memory file system for everyone.
const memFS = "/dev/shm"

// Main runs a test binary's tests with their temporary files (t.TempDir:
// journals, SQLite stores, exports) on a memory file system, when the
// machine has one and TMPDIR does not already name a place; call it from
// TestMain: os.Exit(enginetest.Main(m)).
//
// The journal syncs every append (synchronous=FULL). On a disk shared
// with other work each sync can take tens of milliseconds, more than the
// rest of an engine test; the engine's tests are about sessions, not
// about the disk, and the journal's own tests check its durability
// settings on the real TMPDIR.
func Main(m *testing.M) int {
	if os.Getenv("TMPDIR") != "" {
		return m.Run()
	}
	if fi, err := os.Stat(memFS); err != nil || !fi.IsDir() {
		return m.Run()
	}
	dir, err := os.MkdirTemp(memFS, "lockstep-test-")
	if err != nil {
		return m.Run()
	}
	defer os.RemoveAll(dir)
	if err := os.Setenv("TMPDIR", dir); err != nil {
		fmt.Fprintf(os.Stderr, "enginetest: set TMPDIR: %v\n", err)
		return 1
	}
	return m.Run()
}
