package e2e

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// newAccountsDB creates the SQLite store release.yaml runs against and
// points E2E_DB at it.
func (e *env) newAccountsDB() string {
	e.t.Helper()
	path := filepath.Join(e.dir, "accounts.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE accounts (id INTEGER PRIMARY KEY, tier TEXT)`,
		`INSERT INTO accounts (id, tier) VALUES (1, 'gold'), (2, 'silver'), (3, 'gold')`,
	} {
		if _, err := db.Exec(q); err != nil {
			e.t.Fatal(err)
		}
	}
	e.vars = append(e.vars, "E2E_DB="+path)
	return path
}

// timeline is the part of the Timeline JSON the tests read.
type timeline struct {
	Session struct {
		ID       string `json:"id"`
		Operator string `json:"operator"`
	} `json:"session"`
	Outcome string `json:"outcome"`
	Steps   []struct {
		ID        string    `json:"id"`
		Kind      string    `json:"kind"`
		Status    string    `json:"status"`
		Started   time.Time `json:"started"`
		Ended     time.Time `json:"ended"`
		Decisions []struct {
			Kind     string `json:"kind"`
			Choice   string `json:"choice"`
			Reason   string `json:"reason"`
			Operator string `json:"operator"`
		} `json:"decisions"`
	} `json:"steps"`
}

func TestRunFreshRunbookCompletes(t *testing.T) {
	e := newEnv(t)
	db := e.newAccountsDB()
	r := e.mustRun(0, "run", testdata(t, "release.yaml"), "--env", "scratch", "--plain",
		"--answers", testdata(t, "release-answers.yaml"))
	for _, want := range []string{"== prepare ==", "▶ smoke (shell)", "smoke ok", "✓ smoke", "✓ completed"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q\n%s", want, r)
		}
	}
	// The sql step really changed the store, and the notify step wrote its file.
	conn, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var premium int
	if err := conn.QueryRow(`SELECT count(*) FROM accounts WHERE tier = 'premium'`).Scan(&premium); err != nil {
		t.Fatal(err)
	}
	if premium != 2 {
		t.Errorf("accounts with tier premium = %d, want 2", premium)
	}
	notes, err := os.ReadFile(filepath.Join(e.dir, "release-notes.txt"))
	if err != nil || !strings.Contains(string(notes), "done by e2e-op") {
		t.Errorf("release-notes.txt = %q, %v; want the rendered template", notes, err)
	}

	s := e.latest()
	if s.Outcome != "completed" || s.Runbook != "e2e-release" {
		t.Fatalf("latest session = %+v, want e2e-release completed", s)
	}
	show := e.mustRun(0, "journal", "show", s.ID, "--format", "json")
	var tl timeline
	if err := json.Unmarshal([]byte(show.Stdout), &tl); err != nil {
		t.Fatalf("journal show --format json: %v\n%s", err, show.Stdout)
	}
	if tl.Session.ID != s.ID || tl.Outcome != "completed" {
		t.Errorf("timeline session %q outcome %q, want %q completed", tl.Session.ID, tl.Outcome, s.ID)
	}
	wantSteps := []string{"preflight", "timing", "sign-off", "count-before", "rename-tier", "tell", "smoke"}
	if len(tl.Steps) != len(wantSteps) {
		t.Fatalf("timeline has %d steps, want %d: %+v", len(tl.Steps), len(wantSteps), tl.Steps)
	}
	decisions := map[string]string{} // kind → "choice|reason|operator"
	for i, st := range tl.Steps {
		if st.ID != wantSteps[i] {
			t.Errorf("step %d = %q, want %q", i, st.ID, wantSteps[i])
		}
		if st.Status != "done" || st.Started.IsZero() || st.Ended.IsZero() || st.Ended.Before(st.Started) {
			t.Errorf("step %s: status %q started %v ended %v; want done with a start and an end", st.ID, st.Status, st.Started, st.Ended)
		}
		for _, d := range st.Decisions {
			decisions[st.ID+"/"+d.Kind] = d.Choice + "|" + d.Reason + "|" + d.Operator
		}
	}
	for key, want := range map[string]string{
		"timing/decision":   "now|billing run finished at 02:00|e2e-op",
		"sign-off/approval": "grace|change reviewed in the release meeting|e2e-op",
	} {
		if got := decisions[key]; got != want {
			t.Errorf("timeline decision %s = %q, want %q", key, got, want)
		}
	}
}

func TestMissingAnswerExits2NamingTheKey(t *testing.T) {
	e := newEnv(t)
	e.newAccountsDB()
	answers := e.writeFile("partial.yaml", "preflight: {check: all}\ntiming: {choice: now, reason: \"ok\"}\n")
	r := e.mustRun(2, "run", testdata(t, "release.yaml"), "--env", "scratch", "--plain", "--answers", answers)
	if !strings.Contains(r.Stderr, `"sign-off.approve"`) {
		t.Errorf("stderr does not name the missing key sign-off.approve\n%s", r)
	}
}

func TestBadAnswersFileExits2WithPositions(t *testing.T) {
	e := newEnv(t)
	e.newAccountsDB()
	answers := e.writeFile("bad.yaml", "preflight: {chek: all}\ntiming: {choice: now}\nsign-of: {approve: grace, reason: x}\n")
	r := e.mustRun(2, "run", testdata(t, "release.yaml"), "--env", "scratch", "--plain", "--answers", answers)
	for _, want := range []string{"bad.yaml:1:13: unknown key \"chek\"", "bad.yaml:2:18:", "a decision needs a reason"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q\n%s", want, r)
		}
	}
	if len(e.sessions()) != 0 {
		t.Error("a bad answers file started a session")
	}
	// Unknown step ids are reported against the runbook, with a hint.
	answers = e.writeFile("typo.yaml", "preflight: {check: all}\nsign-of: {approve: grace, reason: x}\n")
	r = e.mustRun(2, "run", testdata(t, "release.yaml"), "--env", "scratch", "--plain", "--answers", answers)
	if !strings.Contains(r.Stderr, `typo.yaml:2:1: answers given for unknown step "sign-of" (did you mean sign-off?)`) {
		t.Errorf("unknown step not reported with position and hint\n%s", r)
	}
}

func TestClosedStdinNeverHangs(t *testing.T) {
	// e.run gives every command /dev/null as stdin and fails after 60 s;
	// here nothing answers the checklist, so lockstep must give up at once.
	e := newEnv(t)
	e.newAccountsDB()
	start := time.Now()
	r := e.mustRun(2, "run", testdata(t, "release.yaml"), "--env", "scratch")
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s with a closed stdin", d)
	}
	if !strings.Contains(r.Stderr, `"preflight.check"`) {
		t.Errorf("stderr does not name preflight.check\n%s", r)
	}
}

func TestProtectedEnvironment(t *testing.T) {
	tests := []struct {
		name     string
		answers  string // "" = none
		args     []string
		wantCode int
		wantErr  string
	}{
		{"yes refused", "", []string{"--yes"}, 2, "--yes is refused"},
		{"wrong confirm_env", "confirm_env: scratch\n", nil, 2, `confirm_env is "scratch" but the environment is "vault"`},
		{"no confirm_env", "preflight: {check: all}\n", nil, 2, `"confirm_env"`},
		{"right confirm_env", "confirm_env: vault\n", nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.newAccountsDB()
			args := []string{"run", testdata(t, "release.yaml"), "--env", "vault", "--plain"}
			if tt.answers != "" {
				base, err := os.ReadFile(testdata(t, "release-answers.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				content := tt.answers
				if !strings.Contains(tt.answers, "preflight") {
					content += string(base)
				}
				args = append(args, "--answers", e.writeFile("answers.yaml", content))
			}
			r := e.mustRun(tt.wantCode, append(args, tt.args...)...)
			if tt.wantErr != "" && !strings.Contains(r.Stderr, tt.wantErr) {
				t.Errorf("stderr lacks %q\n%s", tt.wantErr, r)
			}
			if tt.wantCode != 0 && len(e.sessions()) != 0 {
				t.Errorf("a refused protected run created a session")
			}
		})
	}
}

func TestFailedStepExits1(t *testing.T) {
	e := newEnv(t)
	r := e.mustRun(1, "run", testdata(t, "failing.yaml"), "--env", "box", "--plain")
	if !strings.Contains(r.Stdout, "✗ broken") {
		t.Errorf("stdout does not report the failed step\n%s", r)
	}
	if n := e.count("never.count"); n != 0 {
		t.Errorf("the step after the failure ran %d time(s)", n)
	}
	if s := e.latest(); s.Outcome != "failed" && s.Outcome != "aborted" {
		t.Errorf("outcome %q, want failed or aborted", s.Outcome)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{"run"},
		{"run", testdata(t, "failing.yaml")}, // no --env
		{"run", testdata(t, "failing.yaml"), "--env", "nowhere"},            // unknown environment
		{"run", testdata(t, "failing.yaml"), "--env", "box", "--mode", "x"}, // bad mode
		{"frobnicate"},
		{"journal", "show", "no-such-session"},
	} {
		r := e.run(args...)
		if r.Code != 2 {
			t.Errorf("lockstep %s: exit %d, want 2\n%s", strings.Join(args, " "), r.Code, r)
		}
	}
}

// newAccountsDB2 resets the accounts table for a second run.
func (e *env) newAccountsDB2() {
	e.t.Helper()
	path := filepath.Join(e.dir, "accounts.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE accounts SET tier = 'gold' WHERE id IN (1, 3)`); err != nil {
		e.t.Fatal(err)
	}
}
