// Package e2e runs the real lockstep binary, built once by TestMain, the
// way an operator or a CI job would: real journals and SQLite files in
// t.TempDir(), real signals (including SIGKILL), real exit codes.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

// binary is the lockstep binary under test, built by TestMain.
var binary = testbin.New("e2e")

func TestMain(m *testing.M) { os.Exit(binary.Main(m)) }

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
func (e *env) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binary.Path(e.t), args...)
	cmd.Env = append(os.Environ(), e.vars...)
	cmd.Dir = e.dir
	return cmd
}

// runTimeout bounds one command: nothing may hang, and the demo's
// 100,000 rows take 5 s on a quiet machine but over a minute on a CI
// machine running every package at once.
const runTimeout = 3 * time.Minute

// run runs lockstep to completion (at most runTimeout).
func (e *env) run(args ...string) testbin.Result {
	e.t.Helper()
	return testbin.Start(e.t, e.command(context.Background(), args...)).Wait(runTimeout)
}

// mustRun runs lockstep and fails the test unless it exits with want.
func (e *env) mustRun(want int, args ...string) testbin.Result {
	e.t.Helper()
	r := e.run(args...)
	if r.Code != want {
		e.t.Fatalf("lockstep %s: exit %d, want %d\n%s", strings.Join(args, " "), r.Code, want, r)
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
	return testbin.WriteFile(e.t, e.dir, name, content)
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
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		e.t.Fatalf("journal list --format json: %v\n%s", err, r.Stdout)
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
