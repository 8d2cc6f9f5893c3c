package tmux_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

// operator is LOCKSTEP_OPERATOR in the terminal.
const operator = "tmux-tester"

// TestDemoInTmux runs `lockstep demo` in a 100×30 terminal and walks it
// from start to finish with the keys the footer shows: it skips the first
// skippable step with a reason, answers the checklist, decision and
// approval prompts, checks the screen at 80×24, pauses and continues
// while a backup runs, pauses the migrate and quits (q), then runs
// `lockstep resume ID --journal PATH` in the same pane to completion (exit
// 0), whose outcome line stays in the terminal after the UI is gone. The
// journal must show what was typed, and verify.
func TestDemoInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds lockstep and walks the whole demo in tmux")
	}
	testbin.LookPath(t, "tmux") // skips without tmux, fails under CI=true
	bin := binary.Path(t)
	root := t.TempDir()
	demoDir := filepath.Join(root, "demo")
	journal := filepath.Join(demoDir, "journal.db")
	env := []string{
		"TERM=xterm-256color", "LANG=C.UTF-8", "LOCKSTEP_OPERATOR=" + operator,
		"HOME=" + root, "XDG_STATE_HOME=" + filepath.Join(root, "state"),
	}
	tm := newTerm(t, 100, 30, env)

	// The demo, until the test quits it during the migrate.
	d := &driver{tm: tm, run: "demo"}
	d.shell(fmt.Sprintf("%s demo --dir %s", testbin.ShellQuote(bin), testbin.ShellQuote(demoDir)))
	if s := d.drive(func() bool { return d.quitStep != "" }); d.quitStep == "" {
		tm.fatalf("the demo ended without a migrate step to pause and quit in (outcome: %q)", outcomeLine(s))
	}
	id, _ := sessionID(tm.last)
	if id == "" {
		tm.fatalf("no session id on the screen after quitting")
	}
	if !d.resumeHint {
		t.Logf("usability: after q the terminal shows no `lockstep resume %s` hint", id)
	}

	// Resume in the same pane, to the end.
	d.run = "resume"
	d.shell(fmt.Sprintf("%s resume %s --journal %s", testbin.ShellQuote(bin), id, testbin.ShellQuote(journal)))
	s := d.drive(func() bool { return false })
	if line := outcomeLine(s); !strings.Contains(line, "Session completed") {
		tm.fatalf("the resumed session ended with %q, want Session completed", line)
	}
	if d.skippedStep != "" && !s.contains("1 skipped") {
		tm.fatalf("the summary does not count the skipped step")
	}
	tm.press("Enter", "any key")
	code, after := d.waitExit()
	if code != 0 {
		tm.fatalf("lockstep resume exited %d after the session completed, want 0", code)
	}
	// The full-screen UI is gone, yet its last screen and the outcome line
	// stay in the terminal, above the shell's prompt.
	if want := "✓ Session " + id + " completed in"; !after.contains(want) {
		tm.fatalf("after exit the terminal lacks the outcome line %q", want)
	}
	if after.contains("Press any key") {
		tm.fatalf("after exit the terminal still asks for a key")
	}

	d.checkJournal(t, bin, env, id, journal)
	if out, code := lockstep(t, bin, env, "journal", "verify", "--journal", journal); code != 0 {
		t.Fatalf("lockstep journal verify exited %d, want 0\n%s", code, out)
	}
}

// shell types command in the pane's shell, followed by an exit marker.
func (d *driver) shell(command string) {
	d.tm.typeText(fmt.Sprintf("%s; echo \"%s EXIT=$?\"", command, d.run))
	d.tm.tmux("send-keys", "-t", d.tm.target, "Enter")
}

// outcomeLine is the runner's "✓ Session completed"-like line.
func outcomeLine(s screen) string {
	for _, l := range s.rightPane() {
		if strings.Contains(l, "Session ") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// timeline is the part of `lockstep journal show --format json` checked.
type timeline struct {
	Session struct {
		ID       string `json:"id"`
		Operator string `json:"operator"`
	} `json:"session"`
	Outcome  string `json:"outcome"`
	Pauses   int    `json:"pauses"`
	Resumes  int    `json:"resumes"`
	PausedMS int64  `json:"paused_ms"`
	Phases   []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"phases"`
	Steps []timelineStep `json:"steps"`
}

type timelineStep struct {
	ID        string             `json:"id"`
	Status    string             `json:"status"`
	Reason    string             `json:"reason"`
	Attempts  int                `json:"attempts"`
	Decisions []timelineDecision `json:"decisions"`
	Checks    []struct {
		Item     string `json:"item"`
		Operator string `json:"operator"`
	} `json:"checks"`
}

type timelineDecision struct {
	Kind     string `json:"kind"`
	Choice   string `json:"choice"`
	Reason   string `json:"reason"`
	Operator string `json:"operator"`
}

// checkJournal checks that the session's timeline holds what the operator
// did in the terminal.
func (d *driver) checkJournal(t *testing.T, bin string, env []string, id, journal string) {
	t.Helper()
	out, code := lockstep(t, bin, env, "journal", "show", id, "--format", "json", "--journal", journal)
	if code != 0 {
		t.Fatalf("lockstep journal show exited %d\n%s", code, out)
	}
	var tl timeline
	if err := json.Unmarshal([]byte(out), &tl); err != nil {
		t.Fatalf("journal show --format json: %v\n%s", err, out)
	}
	if tl.Outcome != "completed" || tl.Session.Operator != operator {
		t.Errorf("timeline outcome %q operator %q, want completed by %s", tl.Outcome, tl.Session.Operator, operator)
	}
	if tl.Pauses < d.pauses || tl.PausedMS <= 0 || tl.Resumes < 1 {
		t.Errorf("timeline pauses=%d paused_ms=%d resumes=%d, want ≥%d pauses, some paused time, ≥1 resume",
			tl.Pauses, tl.PausedMS, tl.Resumes, d.pauses)
	}
	listed, completed := map[string]int{}, map[string]bool{}
	for _, p := range tl.Phases {
		listed[p.Name]++
		completed[p.Name] = completed[p.Name] || p.Status == "completed"
	}
	for name, n := range listed {
		if !completed[name] {
			t.Errorf("phase %s never completed in the timeline", name)
		}
		if n > 1 {
			t.Logf("timeline: phase %s is listed %d× (once per run that entered it)", name, n)
		}
	}
	if len(tl.Steps) == 0 {
		t.Fatalf("timeline without steps\n%s", out)
	}
	for _, st := range tl.Steps {
		if st.Status != "done" && st.Status != "skipped" {
			t.Errorf("step %s is %s at the end, want done or skipped", st.ID, st.Status)
		}
		switch st.ID {
		case d.skippedStep:
			if st.Status != "skipped" || st.Reason != skipReason {
				t.Errorf("step %s: status %q reason %q, want skipped with %q", st.ID, st.Status, st.Reason, skipReason)
			}
			if !slices.ContainsFunc(st.Decisions, func(dc timelineDecision) bool {
				return dc.Kind == "skip" && dc.Reason == skipReason && dc.Operator == operator
			}) {
				t.Errorf("step %s: no skip by %s with %q among its decisions: %+v", st.ID, operator, skipReason, st.Decisions)
			}
		case d.quitStep:
			if st.Status != "done" || st.Attempts < 2 {
				t.Errorf("step %s (quit while paused): status %q after %d attempts, want done after ≥2", st.ID, st.Status, st.Attempts)
			}
		}
		var checked []string
		for _, c := range st.Checks {
			if c.Operator == operator {
				checked = append(checked, c.Item)
			}
		}
		for _, item := range d.ticked[st.ID] {
			switch {
			case slices.Contains(checked, item):
			case st.ID == d.skippedStep:
				// Ticks reach the engine only with enter: a skip drops them.
				t.Logf("usability: %s was skipped after ticking %q, and the tick is not in the journal", st.ID, item)
			default:
				t.Errorf("step %s: the tick of %q is not journaled (checks: %v)", st.ID, item, checked)
			}
		}
		want := map[string][2]string{d.decision.step: {d.decision.choice, rationale}, d.approval.step: {d.approval.approver, approvalReason}}
		if w, ok := want[st.ID]; ok && st.ID != "" {
			found := slices.ContainsFunc(st.Decisions, func(dc timelineDecision) bool {
				return dc.Choice == w[0] && dc.Reason == w[1] && dc.Operator == operator
			})
			if !found {
				t.Errorf("step %s: no decision %q with reason %q in the timeline: %+v", st.ID, w[0], w[1], st.Decisions)
			}
		}
	}
	for what, step := range map[string]string{"skip": d.skippedStep, "decision": d.decision.step, "approval": d.approval.step} {
		if step == "" {
			t.Errorf("the demo offered no %s prompt", what)
		}
	}
}

// lockstep runs the binary outside the terminal and returns its combined
// output and exit code.
func lockstep(t *testing.T, bin string, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code, ok := testbin.ExitCode(err)
	if !ok {
		t.Fatalf("lockstep %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), code
}
