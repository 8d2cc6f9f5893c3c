// Package e2e runs the real lockstep binary, built once by TestMain, the
// way an operator or a CI job would: real journals and SQLite files in
// t.TempDir(), real signals (including SIGKILL), real exit codes.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// bin is the lockstep binary under test.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lockstep-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "lockstep")
	build := exec.Command("go", "build", "-o", bin, "github.com/lockstep-run/lockstep/cmd/lockstep")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build lockstep:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one lockstep invocation did.
type result struct {
	code   int
	stdout string
	stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// env is a test's environment: a journal and a work directory of its own.
type env struct {
	t       *testing.T
	dir     string
	journal string
	vars    []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	return &env{t: t, dir: dir, journal: filepath.Join(dir, "journal.db"),
		vars: []string{"E2E_DIR=" + dir, "LOCKSTEP_OPERATOR=e2e-op", "LOCKSTEP_JOURNAL=" + filepath.Join(dir, "journal.db"), "NO_COLOR=1"}}
}

// command builds a lockstep command with the test's environment and a
// closed stdin (it is /dev/null: nil Stdin).
func (e *env) command(ctx context.Context, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), e.vars...)
	cmd.Dir = e.dir
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// syncBuffer is a bytes.Buffer safe to read while the process writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// run runs lockstep to completion (at most 60 s: nothing may hang).
func (e *env) run(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd, stdout, stderr := e.command(ctx, args...)
	err := cmd.Run()
	if ctx.Err() != nil {
		e.t.Fatalf("lockstep %s: still running after 60s (hang?)\n%s%s", strings.Join(args, " "), stdout, stderr)
	}
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		e.t.Fatalf("lockstep %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// mustRun runs lockstep and fails the test unless it exits with want.
func (e *env) mustRun(want int, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != want {
		e.t.Fatalf("lockstep %s: exit %d, want %d\n%s", strings.Join(args, " "), r.code, want, r)
	}
	return r
}

// testdata returns the absolute path of a file in testdata.
func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeFile writes a file in the test's directory and returns its path.
func (e *env) writeFile(name, content string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// sessionSummary is the part of `journal list --format json` the tests read.
type sessionSummary struct {
	ID      string `json:"id"`
	Runbook string `json:"runbook"`
	Env     string `json:"env"`
	Outcome string `json:"outcome"`
	Events  int64  `json:"events"`
}

// sessions lists the journal's sessions, newest first.
func (e *env) sessions() []sessionSummary {
	e.t.Helper()
	r := e.mustRun(0, "journal", "list", "--format", "json")
	var list []sessionSummary
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		e.t.Fatalf("journal list --format json: %v\n%s", err, r.stdout)
	}
	return list
}

// latest returns the newest session.
func (e *env) latest() sessionSummary {
	e.t.Helper()
	list := e.sessions()
	if len(list) == 0 {
		e.t.Fatal("journal list: no sessions")
	}
	return list[0]
}

// count returns how many lines the marker file name holds (0 if absent).
func (e *env) count(name string) int {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}
