package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

func TestJournalVerifyDetectsAnEditedEvent(t *testing.T) {
	cli := testbin.LookPath(t, "sqlite3") // skips without the CLI, fails under CI=true
	e := newEnv(t)
	e.newAccountsDB()
	answers := testdata(t, "release-answers.yaml")
	e.mustRun(0, "run", testdata(t, "release.yaml"), "--env", "scratch", "--plain", "--answers", answers)
	e.newAccountsDB2()
	e.mustRun(0, "run", testdata(t, "release.yaml"), "--env", "scratch", "--plain", "--answers", answers)
	list := e.sessions()
	if len(list) != 2 {
		t.Fatalf("%d sessions, want 2", len(list))
	}
	r := e.mustRun(0, "journal", "verify")
	for _, s := range list {
		if !strings.Contains(r.Stdout, "ok   "+s.ID) {
			t.Errorf("verify does not report %s ok\n%s", s.ID, r)
		}
	}
	e.mustRun(0, "journal", "verify", list[0].ID)

	// Edit one event of the older session as someone covering their tracks would.
	victim := list[1].ID
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := fmt.Sprintf(`UPDATE events SET data = replace(data, 'billing run finished at 02:00', 'nobody asked') WHERE session = '%s' AND kind = 'decision';
SELECT seq FROM events WHERE session = '%s' AND kind = 'decision';`, victim, victim)
	out, err := exec.CommandContext(ctx, cli, e.journal, q).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	seq := strings.TrimSpace(string(out))
	if seq == "" {
		t.Fatal("no decision event to edit")
	}

	r = e.mustRun(1, "journal", "verify")
	want := fmt.Sprintf("session %s: event seq %s", victim, seq)
	if !strings.Contains(r.Stderr, want) {
		t.Errorf("verify does not name the edited event (%q)\n%s", want, r)
	}
	if !strings.Contains(r.Stdout, "ok   "+list[0].ID) {
		t.Errorf("verify no longer reports the untouched session ok\n%s", r)
	}
	e.mustRun(1, "journal", "verify", victim)
	e.mustRun(0, "journal", "verify", list[0].ID)
}

func TestJournalListShowExport(t *testing.T) {
	e := newEnv(t)
	e.newAccountsDB()
	e.mustRun(0, "run", testdata(t, "release.yaml"), "--env", "scratch", "--plain", "--answers", testdata(t, "release-answers.yaml"))
	s := e.latest()
	r := e.mustRun(0, "journal", "list")
	if !strings.Contains(r.Stdout, s.ID) || !strings.Contains(r.Stdout, "completed") {
		t.Errorf("journal list lacks the session\n%s", r)
	}
	// A unique prefix of the id is enough.
	r = e.mustRun(0, "journal", "export", s.ID[:len(s.ID)-3], "--format", "json")
	if !strings.Contains(r.Stdout, `"id": "`+s.ID+`"`) {
		t.Errorf("journal export --format json lacks the session id\n%s", r)
	}
}
