package e2e

import (
	"strings"
	"testing"
)

// TestPlainResumeShowsJournaledTicks: a checklist item ticked and
// journaled before a resume is shown ticked in plain mode, as in the TUI,
// and is not journaled again. The first run ticks two items of three: an
// answer that leaves the checklist incomplete is bad input, so the session
// stops resumably (exit 2) with the two ticks journaled; the resume runs
// the checklist again with {check: all}.
func TestPlainResumeShowsJournaledTicks(t *testing.T) {
	e := newEnv(t)
	e.newAccountsDB()
	rb := testdata(t, "release.yaml")
	partial := e.writeFile("partial.yaml", "preflight: {check: [1, \"Support warned\"]}\n")
	r := e.mustRun(2, "run", rb, "--env", "scratch", "--plain", "--answers", partial)
	if !strings.Contains(r.Stderr, "partial.yaml:1:20: preflight.check: 2 of 3 items ticked") {
		t.Errorf("stderr does not point at the incomplete answer\n%s", r)
	}
	s := e.latest()
	if s.Outcome != "stopped" {
		t.Fatalf("outcome %q after a partial checklist, want stopped (resumable)", s.Outcome)
	}

	answers := e.writeFile("resume.yaml", `preflight: {retry: true, check: all}
timing: {choice: now, reason: "ok"}
sign-off: {approve: grace, reason: "ok"}
`)
	r = e.mustRun(0, "resume", s.ID, "--plain", "--answers", answers)
	_, resumed, ok := strings.Cut(r.Stdout, "▶ preflight (manual) attempt 2\n")
	if !ok {
		t.Fatalf("the resume did not run preflight again\n%s", r)
	}
	for _, want := range []string{
		"    1. [x] Dashboards green\n",
		"    2. [x] Support warned\n",
		"    3. [ ] Rollback script at hand\n",
		"    ☑ Rollback script at hand\n",
		"✓ preflight",
	} {
		if !strings.Contains(resumed, want) {
			t.Errorf("the resumed checklist lacks %q\n%s", want, r)
		}
	}
	for _, item := range []string{"Dashboards green", "Support warned"} {
		if strings.Contains(resumed, "☑ "+item) {
			t.Errorf("%q was ticked again on resume\n%s", item, r)
		}
	}
	if got := e.latest(); got.ID != s.ID || got.Outcome != "completed" {
		t.Errorf("session %s outcome %q, want %s completed", got.ID, got.Outcome, s.ID)
	}
}
