package bench_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// binaries caches the binaries built for the benchmark process, by
// package, in one directory removed at the end (removeTemplates).
var binaries struct {
	mu    sync.Mutex
	paths map[string]string
}

// buildBinary builds the Go package pkg into a temporary file once per
// benchmark process and returns its path; it skips (recording why under
// ids) when there is no go command.
func buildBinary(b *testing.B, pkg string) string {
	b.Helper()
	binaries.mu.Lock()
	defer binaries.mu.Unlock()
	if p, ok := binaries.paths[pkg]; ok {
		return p
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		b.Skipf("skipping: no go command to build %s: %v", pkg, err)
	}
	dir, err := os.MkdirTemp(tempRoot(b), "bin-")
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	if msg, err := exec.Command(goBin, "build", "-o", out, pkg).CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	if binaries.paths == nil {
		binaries.paths = map[string]string{}
	}
	binaries.paths[pkg] = out
	return out
}
