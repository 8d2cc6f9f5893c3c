// Package testbin builds the lockstep binary for the end-to-end test
// packages (test/e2e, test/acceptance, test/tmux) and runs it as an
// operator or a CI job would: in the background or to completion, its
// output kept for the test to read, its exit code (or killing signal)
// reported, and the process killed when the test ends.
//
// It is for tests only and keeps no package-level state: each test
// package owns its Binary. It may import the standard library only.
package testbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// ErrNoModule is returned when no go.mod is found above the working
// directory, so there is no ./cmd/lockstep to build.
var ErrNoModule = errors.New("go.mod not found above the working directory")

// Binary is the lockstep binary of one test binary. It is built once, on
// first use, from the module's ./cmd/lockstep with a plain `go build` in
// the caller's environment (CGO_ENABLED, GOFLAGS: no -race or -cover of
// its own), into a temporary directory of its own: concurrent runs of a
// suite in a shared tree never overwrite each other's binary, nor the
// tree's bin/lockstep.
type Binary struct {
	name string
	once sync.Once
	dir  string
	path string
	err  error
}

// New returns the binary of the test package name ("e2e"); nothing is
// built until Build, Path or Main.
func New(name string) *Binary { return &Binary{name: name} }

// Build builds the binary on its first call and returns its path, or the
// build's error with the compiler's output, on every call.
func (b *Binary) Build() (string, error) {
	b.once.Do(func() { b.path, b.err = b.build() })
	return b.path, b.err
}

func (b *Binary) build() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("build lockstep: %w", err)
	}
	if b.dir, err = os.MkdirTemp("", "lockstep-"+b.name+"-"); err != nil {
		return "", fmt.Errorf("build lockstep: %w", err)
	}
	path := filepath.Join(b.dir, "lockstep")
	cmd := exec.Command("go", "build", "-o", path, "./cmd/lockstep")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build lockstep: go build ./cmd/lockstep: %w\n%s", err, out)
	}
	return path, nil
}

// Path builds the binary on first use and returns its path; a failed
// build fails the test.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	path, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Remove deletes the binary and its directory, if it was built. Call it
// once the tests have run.
func (b *Binary) Remove() {
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// Main is the body of a TestMain that builds the binary before any test
// runs: a failed build prints "NAME: build lockstep: …" and fails the
// run. It runs the tests, removes the binary and returns the exit code
// for os.Exit.
func (b *Binary) Main(m *testing.M) int {
	defer b.Remove()
	if _, err := b.Build(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", b.name, err)
		return 1
	}
	return m.Run()
}

// moduleRoot is the directory holding go.mod, at or above the working
// directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoModule
		}
		dir = parent
	}
}

// LookPath returns the path of the program name (tmux, sqlite3). When it
// is missing it skips the test, or fails it under CI=true, where .ci/run
// installs every program the tests need.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found and CI=true (.ci/run installs it): %v", name, err)
		}
		t.Skipf("%s not found: install it to run this test: %v", name, err)
	}
	return path
}

// WriteFile writes content to the file name in dir and returns its path,
// failing the test on error.
func WriteFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ShellQuote quotes s as one word for sh.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
