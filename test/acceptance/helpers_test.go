// Package acceptance holds the black-box acceptance tests of the data
// steps: the real lockstep binary (built once by TestMain) migrates real
// tables — dynalite for DynamoDB, SQLite files — and is killed with
// SIGKILL and resumed; the tests read the data back and the journal
// (read-only) to check that every item was migrated exactly once.
//
// Fakes appear only to inject faults (the faultproxy in front of
// dynalite). It may import anything: it is a test package.
package acceptance

import (
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver: seeding, reading back, the journal

	"github.com/lockstep-run/lockstep/internal/pgtest"
	"github.com/lockstep-run/lockstep/internal/testbin"
)

// binary is the lockstep binary under test, built by TestMain.
var binary = testbin.New("acceptance")

// TestMain builds the binary; the PostgreSQL tests' server (started on
// first use) stops when they are over.
func TestMain(m *testing.M) { os.Exit(pgtest.Wrap(func() int { return binary.Main(m) })) }

// Process-level helpers: a test's directory and journal, lockstep runs in
// the foreground and in the background, SIGKILL.

// harness is one test's world: a directory, a journal, an operator.
type harness struct {
	t       *testing.T
	dir     string
	journal string
	vars    []string

	mu sync.Mutex
	db *sql.DB // the journal, read-only, opened on first use
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, journal: filepath.Join(dir, "journal.db"),
		vars: []string{"ACC_DIR=" + dir, "LOCKSTEP_OPERATOR=acc-op", "NO_COLOR=1"}}
	t.Cleanup(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.db != nil {
			h.db.Close()
		}
	})
	return h
}

// writeFile writes name in the test directory and returns its path.
func (h *harness) writeFile(name, content string) string {
	h.t.Helper()
	return testbin.WriteFile(h.t, h.dir, name, content)
}

// proc is a lockstep process running in the background, in a process
// group of its own so that kill9 (and the end of the test) also reaches
// the shell steps it started.
type proc struct {
	*testbin.Proc
	t *testing.T
}

// start runs lockstep args in the background with the test's journal.
func (h *harness) start(args ...string) *proc {
	h.t.Helper()
	return h.startWith(h.journal, nil, args...)
}

// startWith runs lockstep args in the background with the given journal
// and extra environment variables.
func (h *harness) startWith(journal string, env []string, args ...string) *proc {
	h.t.Helper()
	cmd := exec.Command(binary.Path(h.t), append(args, "--journal", journal)...)
	cmd.Env = append(append(os.Environ(), h.vars...), env...)
	cmd.Dir = h.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return &proc{Proc: testbin.Start(h.t, cmd), t: h.t}
}

// kill9 sends SIGKILL to lockstep — no chance to checkpoint, release a
// lease or end the session — then to what is left of its process group
// (shell steps), and waits for it.
func (p *proc) kill9() testbin.Result {
	p.t.Helper()
	if p.Exited() {
		p.t.Fatalf("kill -9: %s already exited\n%s", p.Name(), p.Output())
	}
	r := p.Stop(syscall.SIGKILL)
	p.Kill()
	if r.Code != -int(syscall.SIGKILL) {
		p.t.Fatalf("kill -9: lockstep exited with %d before the signal landed\n%s", r.Code, r)
	}
	return r
}

// run runs lockstep to completion with the test's journal.
func (h *harness) run(timeout time.Duration, args ...string) testbin.Result {
	h.t.Helper()
	return h.start(args...).Wait(timeout)
}

// mustRun runs lockstep and fails the test unless it exits with want.
func (h *harness) mustRun(want int, timeout time.Duration, args ...string) testbin.Result {
	h.t.Helper()
	r := h.run(timeout, args...)
	if r.Code != want {
		h.t.Fatalf("lockstep %s: exit %d, want %d\n%s", strings.Join(args, " "), r.Code, want, r)
	}
	return r
}

// waitFile waits until the file name exists in the test directory; it
// fails the test if p exits first or after timeout.
func (h *harness) waitFile(p *proc, name string, timeout time.Duration) {
	h.t.Helper()
	exists := func() bool {
		_, err := os.Stat(filepath.Join(h.dir, name))
		return err == nil
	}
	if err := p.Until(timeout, 10*time.Millisecond, exists); err != nil {
		h.t.Fatalf("%s did not appear: %v\n%s", name, err, p.Output())
	}
}

// Journal helpers: the journal is read with database/sql, read-only, while
// lockstep writes it (WAL).

// journalDB opens the test journal read-only (once it exists).
func (h *harness) journalDB() *sql.DB {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.db != nil {
		return h.db
	}
	return openJournalRO(h.t, h.journal, &h.db)
}

func openJournalRO(t *testing.T, path string, keep **sql.DB) *sql.DB {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatalf("open journal %s read-only: %v", path, err)
	}
	db.SetMaxOpenConns(1)
	*keep = db
	return db
}

// readJournal opens the journal at path read-only for the rest of the test.
func readJournal(t *testing.T, path string) *sql.DB {
	t.Helper()
	var db *sql.DB
	if openJournalRO(t, path, &db) == nil {
		t.Fatalf("no journal at %s", path)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// checkpoints counts the checkpoint events of step in the journal, over
// every session and run (0 while the journal does not exist yet).
func (h *harness) checkpoints(step string) int {
	h.t.Helper()
	db := h.journalDB()
	if db == nil {
		return 0
	}
	var n int
	err := db.QueryRow(`SELECT count(*) FROM events WHERE kind = 'checkpoint' AND step = ?`, step).Scan(&n)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return 0 // the binary is still creating the schema
		}
		h.t.Fatalf("count checkpoints: %v", err)
	}
	return n
}

// waitCheckpoints polls the journal until step has at least n checkpoint
// events; it fails the test if p exits first or after timeout.
func (h *harness) waitCheckpoints(p *proc, step string, n int, timeout time.Duration) int {
	h.t.Helper()
	var got int
	enough := func() bool {
		got = h.checkpoints(step)
		return got >= n
	}
	if err := p.Until(timeout, 5*time.Millisecond, enough); err != nil {
		h.t.Fatalf("fewer than %d checkpoints of %s: %v (journal has %d)\n%s", n, step, err, h.checkpoints(step), p.Output())
	}
	return got
}

// session is a row of the journal's sessions table.
type session struct {
	ID, Runbook, Env, Operator, Outcome string
}

// sessions lists the journal's sessions, oldest first.
func (h *harness) sessions() []session {
	h.t.Helper()
	return sessionsOf(h.t, h.journalDB())
}

func sessionsOf(t *testing.T, db *sql.DB) []session {
	t.Helper()
	if db == nil {
		t.Fatal("no journal")
	}
	rows, err := db.Query(`SELECT id, runbook, env, operator, outcome FROM sessions ORDER BY started, rowid`)
	if err != nil {
		t.Fatalf("list sessions: %v", err)
	}
	defer rows.Close()
	var out []session
	for rows.Next() {
		var s session
		if err := rows.Scan(&s.ID, &s.Runbook, &s.Env, &s.Operator, &s.Outcome); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// onlySession returns the journal's one session.
func (h *harness) onlySession() session {
	h.t.Helper()
	list := h.sessions()
	if len(list) != 1 {
		h.t.Fatalf("journal has %d sessions, want 1: %+v", len(list), list)
	}
	return list[0]
}

// event is a row of the journal's events table.
type event struct {
	Seq  int64
	Step string
	Kind string
	Data json.RawMessage
}

// events returns the session's events of the given kinds (all when none).
func (h *harness) events(sessionID string, kinds ...string) []event {
	h.t.Helper()
	return eventsOf(h.t, h.journalDB(), sessionID, kinds...)
}

func eventsOf(t *testing.T, db *sql.DB, sessionID string, kinds ...string) []event {
	t.Helper()
	rows, err := db.Query(`SELECT seq, step, kind, coalesce(data, '') FROM events WHERE session = ? ORDER BY seq`, sessionID)
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	defer rows.Close()
	var out []event
	for rows.Next() {
		var e event
		var data string
		if err := rows.Scan(&e.Seq, &e.Step, &e.Kind, &data); err != nil {
			t.Fatal(err)
		}
		e.Data = json.RawMessage(data)
		if len(kinds) == 0 || slices.Contains(kinds, e.Kind) {
			out = append(out, e)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// stepEnd is the data of a step.end event.
type stepEnd struct {
	Status string          `json:"status"`
	Error  string          `json:"error"`
	Result json.RawMessage `json:"result"`
}

// lastStepEnd returns the data of the last step.end event of step (ok is
// false when the step never ended).
func lastStepEnd(t *testing.T, db *sql.DB, sessionID, step string) (stepEnd, bool) {
	t.Helper()
	var end stepEnd
	found := false
	for _, e := range eventsOf(t, db, sessionID, "step.end") {
		if e.Step != step {
			continue
		}
		end = stepEnd{}
		if err := json.Unmarshal(e.Data, &end); err != nil {
			t.Fatalf("step.end of %s: %v: %s", step, err, e.Data)
		}
		found = true
	}
	return end, found
}

// stepResult decodes the result of step's last step.end into v and
// returns its status.
func (h *harness) stepResult(sessionID, step string, v any) string {
	h.t.Helper()
	end, ok := lastStepEnd(h.t, h.journalDB(), sessionID, step)
	if !ok {
		h.t.Fatalf("step %s never ended in session %s", step, sessionID)
	}
	if v != nil && len(end.Result) > 0 {
		if err := json.Unmarshal(end.Result, v); err != nil {
			h.t.Fatalf("result of %s: %v: %s", step, err, end.Result)
		}
	}
	return end.Status
}

// migrateResult is the part of the migrate step's result the tests read
// (migrate.Result, as journaled).
type migrateResult struct {
	Scanned    int64 `json:"scanned"`
	Migrated   int64 `json:"migrated"`
	Already    int64 `json:"already"`
	NotMatched int64 `json:"not_matched"`
	Unchanged  int64 `json:"unchanged"`
	Conflicts  int64 `json:"conflicts"`
	Unresolved int64 `json:"unresolved"`
	Throttles  int64 `json:"throttles"`
	Failures   int64 `json:"failures"`
	Version    int64 `json:"version"`
	Resumed    bool  `json:"resumed"`
	Segments   int   `json:"segments"`
	// Pages by path on a SQL store (issue 17's pushdown).
	PushdownPages int64 `json:"pushdown_pages"`
	PerRowPages   int64 `json:"per_row_pages"`
}
