package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	e := newEnv(t)
	r := e.mustRun(0, "plan", testdata(t, "release.yaml"), "--env", "vault", "--mode", "dry-run")
	for _, want := range []string{
		"environment vault, mode dry-run",
		`protected: asks to type "vault"`,
		" 1. preflight (manual): shows the text and asks to tick 3 checklist item(s)",
		" 5. rename-tier (sql): runs 1 statement(s) in one transaction, then rolls back",
		" 6. tell (notify): renders the file message, does not send it",
		" 7. smoke (shell): would run",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("plan lacks %q\n%s", want, r)
		}
	}
	if _, err := os.Stat(e.journal); err == nil {
		t.Error("plan touched the journal")
	}
	// A built-in protocol by name.
	r = e.mustRun(0, "plan", "demo", "--env", "demo")
	if !strings.Contains(r.Stdout, "backfill (migrate): migrates: set street_name, city, postcode") {
		t.Errorf("plan demo lacks the backfill\n%s", r)
	}
	e.mustRun(2, "plan", "no-such-protocol", "--env", "demo")
}

func TestProtocols(t *testing.T) {
	e := newEnv(t)
	r := e.mustRun(0, "protocols", "list", "--format", "json")
	var list []struct {
		Name  string `json:"name"`
		Title string `json:"title"`
		Err   string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("protocols list --format json: %v\n%s", err, r)
	}
	found := false
	for _, p := range list {
		if p.Err != "" {
			t.Errorf("built-in protocol %s does not parse: %s", p.Name, p.Err)
		}
		found = found || p.Name == "demo"
	}
	if !found {
		t.Errorf("protocols list lacks demo: %+v", list)
	}
	r = e.mustRun(0, "protocols", "show", "demo")
	if !strings.Contains(r.Stdout, "About:") || !strings.Contains(r.Stdout, "backfill") {
		t.Errorf("protocols show demo does not explain the protocol and list its steps\n%s", r)
	}
	r = e.mustRun(0, "protocols", "show", "demo", "--source")
	if !strings.Contains(r.Stdout, "name: demo") {
		t.Errorf("protocols show demo --source does not print the source\n%s", r)
	}
	out := filepath.Join(e.dir, "mine.yaml")
	e.mustRun(0, "protocols", "new", "demo", "-o", out)
	e.mustRun(0, "lint", out)
	e.mustRun(2, "protocols", "new", "demo", "-o", out) // no overwrite without --force
	e.mustRun(0, "protocols", "new", "demo", "-o", out, "--force")
}

func TestJournalDiffAndMarkdown(t *testing.T) {
	e := newEnv(t)
	e.newAccountsDB()
	answers := testdata(t, "release-answers.yaml")
	e.mustRun(0, "run", testdata(t, "release.yaml"), "--env", "scratch", "--mode", "rehearsal", "--plain", "--answers", answers)
	e.newAccountsDB2()
	e.mustRun(0, "run", testdata(t, "release.yaml"), "--env", "scratch", "--plain", "--answers", answers)
	list := e.sessions()
	r := e.mustRun(0, "journal", "diff", list[1].ID, list[0].ID)
	for _, want := range []string{"rename-tier", "smoke", "TOTAL"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("journal diff lacks %q\n%s", want, r)
		}
	}
	md := filepath.Join(e.dir, "audit.md")
	e.mustRun(0, "journal", "export", list[0].ID, "--format", "md", "-o", md)
	b, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(b), "change reviewed in the release meeting") {
		t.Errorf("markdown export lacks the approval reason: %v\n%s", err, b)
	}
	// journal without a subcommand and without a terminal lists sessions.
	r = e.mustRun(0, "journal")
	if !strings.Contains(r.Stdout, list[0].ID) {
		t.Errorf("journal (no subcommand) does not list sessions\n%s", r)
	}
}

func TestVersion(t *testing.T) {
	r := newEnv(t).mustRun(0, "version")
	if !strings.HasPrefix(r.Stdout, "lockstep ") {
		t.Errorf("version = %q", r.Stdout)
	}
}
