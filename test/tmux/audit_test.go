package tmux_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

// auditRunbook fills a table, prints output in several chunks, asks a
// decision, a manual acknowledgement and then a destructive DELETE.
const auditRunbook = `lockstep: 1
name: audit
title: Audit of the runner's safety
version: 1
strategy: big-bang
roles:
  responsible: [operator]
  accountable: [owner]
environments:
  local:
    store: {kind: sqlite, path: "%s", table: items, key: [id]}
phases:
  - name: run
    steps:
      - id: fill
        kind: sql
        with: {statements: ["CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')"]}
      - id: ticks
        kind: shell
        with: {run: 'for i in 1 2 3; do echo "tick $i"; sleep 0.4; done; echo about to go; echo err >&2; sleep 2'}
      - id: choose
        kind: decision
        with: {choices: [now, later]}
      - id: ack
        kind: manual
        text: Confirm the app is stopped.
      - id: drop-everything
        kind: sql
        destructive: true
        text: Deletes all rows.
        with: {statements: ["DELETE FROM items"]}
      - id: after
        kind: manual
        text: All done.
      - id: slow
        kind: shell
        with: {run: 'echo started; sleep 60'}
`

// TestAuditSafetyInTmux walks the operator audit's flows in a real
// terminal: output lines stay apart; esc leaves a decision's field so the
// session keys act (a note); a double enter at a manual step does not run
// the destructive step after it, which runs only once its id is typed;
// q while a shell step runs asks before it is killed, and exits 3.
func TestAuditSafetyInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds lockstep and drives it in tmux")
	}
	testbin.LookPath(t, "tmux")
	bin := binary.Path(t)
	root := t.TempDir()
	db := filepath.Join(root, "items.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil { // an empty file is an empty database
		t.Fatal(err)
	}
	rb := testbin.WriteFile(t, root, "audit.yaml", fmt.Sprintf(auditRunbook, db))
	journal := filepath.Join(root, "journal.db")
	env := []string{"TERM=xterm-256color", "LANG=C.UTF-8", "LOCKSTEP_OPERATOR=" + operator, "HOME=" + root}
	tm := newTerm(t, 100, 30, env)
	d := &driver{tm: tm, run: "audit"}
	d.shell(fmt.Sprintf("%s run %s --env local --journal %s", testbin.ShellQuote(bin), testbin.ShellQuote(rb), testbin.ShellQuote(journal)))

	// Output: each chunk the engine sends is whole lines.
	s := tm.waitFor("the output of ticks", stepTimeout, func(s screen) bool {
		_, ok := s.rightLine("about to go")
		return ok || s.contains("goerr")
	})
	s = tm.waitFor("the stderr line", promptTimeout, func(s screen) bool { _, ok := s.rightLine("err"); return ok || s.contains("goerr") })
	for _, line := range []string{"tick 1", "tick 2", "tick 3", "about to go", "err"} {
		if l, ok := s.rightLine(line); !ok || l != line {
			tm.fatalf("the output line %q is not a line of its own", line)
		}
	}
	tm.waitFor("the decision", stepTimeout, func(s screen) bool { return s.promptKind() == kindDecision })

	// Esc leaves the rationale field: n adds a note; tab comes back.
	tm.press("Escape", "esc leave field")
	tm.press("n", "n note")
	tm.waitText("Add a note", promptTimeout)
	tm.typeText("graphs look calm")
	tm.press("Enter", "enter confirm")
	tm.waitText("note recorded", promptTimeout)
	tm.press("Tab", "tab type")
	tm.typeText(rationale)
	d.waitField("rationale:", rationale)
	tm.press("Enter", "enter confirm")

	// A double enter at the manual step: the destructive step does not run.
	tm.waitFor("the manual step", promptTimeout, func(s screen) bool { return s.promptKind() == kindManual })
	tm.waitFor("keys to be taken", promptTimeout, func(s screen) bool { return strings.Contains(s.footer(), "enter confirm") })
	tm.logf("press Enter Enter")
	tm.tmux("send-keys", "-t", tm.target, "Enter", "Enter")
	tm.waitFor("the destructive prompt", promptTimeout, func(s screen) bool { return s.promptKind() == kindDestructive })
	time.Sleep(time.Second)
	s = tm.capture()
	if s.promptKind() != kindDestructive || s.glyph("drop-everything") != "○" {
		tm.fatalf("a stray enter answered the destructive prompt")
	}
	if _, ok := s.rightLine("This step is destructive. Type drop-everything to run it"); !ok {
		tm.fatalf("the destructive prompt does not say what to type")
	}
	if n, ok := rows(t, db); ok && n != 3 {
		tm.fatalf("items has %d rows before the confirmation, want 3", n)
	}
	tm.press("Enter", "enter confirm") // enter alone: not a confirmation
	tm.waitText("exactly to run this destructive step", promptTimeout)
	d.destructive(s)
	tm.waitFor("drop-everything to run", stepTimeout, func(s screen) bool { return s.glyph("drop-everything") == "✓" })
	if n, ok := rows(t, db); ok && n != 0 {
		tm.fatalf("items has %d rows after the confirmed DELETE, want 0", n)
	}

	// q while a shell step runs asks first; enter quits resumably.
	tm.waitFor("the last manual step", promptTimeout, func(s screen) bool { return s.promptKind() == kindManual })
	tm.press("Enter", "enter confirm")
	tm.waitText("started", stepTimeout)
	tm.press("q", "q quit")
	tm.waitText("Quit while slow runs?", promptTimeout)
	if !tm.capture().contains("A running shell step will be killed") {
		tm.fatalf("the quit question does not say the step is killed")
	}
	tm.press("Enter", "enter confirm")
	if code, _ := d.waitExit(); code != 3 {
		tm.fatalf("lockstep run exited %d after quitting, want 3 (stopped resumably)", code)
	}
}

// rows counts the rows of items with the sqlite3 CLI (ok false without it).
func rows(t *testing.T, db string) (int, bool) {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		return 0, false
	}
	out, err := exec.Command("sqlite3", db, "SELECT count(*) FROM items").CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	var n int
	if _, err := fmt.Sscan(string(out), &n); err != nil {
		t.Fatalf("sqlite3 count: %q", out)
	}
	return n, true
}
