package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

// gateRunbook has one lint warning in its protected environment: LS401,
// no window. %s is where a lint: key may go.
const gateRunbook = `lockstep: 1
name: e2e-lint-gate
title: Lint gate
version: 1
strategy: multi-step
roles: {responsible: [e2e-op], accountable: [grace]}
environments:
  prod: {protected: true}
phases:
  - name: p
    steps:
      - {id: note, kind: manual, text: hi, checklist: [done]}
%s`

// TestProtectedRunRefusesLintWarnings: a protected live run with an
// unsuppressed warning exits 2 naming its code and creates no session; a
// dry-run still starts; with a reasoned ignore the run starts and the
// reason is journaled in session.start.
func TestProtectedRunRefusesLintWarnings(t *testing.T) {
	e := newEnv(t)
	answers := e.writeFile("answers.yaml", "confirm_env: prod\nunrehearsed: \"lint test\"\nnote: {check: all}\n")
	bad := e.writeFile("gate.yaml", strings.Replace(gateRunbook, "%s", "", 1))

	r := e.mustRun(2, "run", bad, "--env", "prod", "--plain", "--answers", answers)
	if !strings.Contains(r.Stderr, "gate.yaml:8:3: LS401: protected environment \"prod\" has no window") {
		t.Errorf("the refusal does not list LS401 at its position\n%s", r)
	}
	if n := len(e.sessions()); n != 0 {
		t.Fatalf("a refused protected run created %d session(s)", n)
	}
	e.mustRun(2, "run", bad, "--env", "prod", "--mode", "rehearsal", "--plain", "--answers", answers)
	e.mustRun(0, "run", bad, "--env", "prod", "--mode", "dry-run", "--plain", "--answers", answers)
	r = e.mustRun(2, "lint", bad, "--env", "prod")
	if !strings.Contains(r.Stdout, "LS401") {
		t.Errorf("lint --env prod does not show the enforced LS401\n%s", r)
	}
	e.mustRun(0, "lint", bad)

	const reason = "e2e: the test runs at any hour"
	ok := e.writeFile("gate-ok.yaml", strings.Replace(gateRunbook, "%s", "lint: {ignore: {LS401: \""+reason+"\"}}\n", 1))
	e.mustRun(0, "lint", ok, "--env", "prod")
	e.mustRun(0, "run", ok, "--env", "prod", "--plain", "--answers", answers)
	if got := e.latest(); got.Outcome != "completed" {
		t.Errorf("outcome %q, want completed", got.Outcome)
	}

	cli := testbin.LookPath(t, "sqlite3")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, e.journal,
		"SELECT data FROM events WHERE kind = 'session.start' AND data LIKE '%\"mode\":\"live\"%'").Output()
	if err != nil {
		t.Fatalf("sqlite3: %v", err)
	}
	var start struct {
		Ignored []struct {
			Code   string `json:"code"`
			Reason string `json:"reason"`
		} `json:"lint_ignored"`
	}
	if err := json.Unmarshal(out, &start); err != nil {
		t.Fatalf("session.start data: %v\n%s", err, out)
	}
	if len(start.Ignored) != 1 || start.Ignored[0].Code != "LS401" || start.Ignored[0].Reason != reason {
		t.Errorf("session.start lint_ignored = %+v, want LS401 with %q", start.Ignored, reason)
	}
}
