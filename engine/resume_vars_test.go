package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// tenantSecret is the value of $TENANT_KEY, a declared secret.
const tenantSecret = "tk-5ecr3t-value"

// secretVarsRig: a session on SQLite whose var tenant holds the secret
// $TENANT_KEY and whose var url holds a credential in a URL: both are
// journaled redacted. It stops at the checklist (no answer); the migrate
// that writes the vars into every row runs after the resume.
func secretVarsRig(t *testing.T) (engine.Config, string, string) {
	t.Helper()
	steps := `      - {id: gate, kind: manual, checklist: [ready]}
      - {id: mig, kind: migrate, with: {set: {city: 'vars.tenant', postcode: 'vars.url', street_name: 'vars.region'}}}
`
	rb := rig.DataRunbook(t, 2, "vars: {tenant: none, url: none, region: eu}\nsecrets: [TENANT_KEY]", steps)
	r := rig.NewSQLite(t, rb, 3)
	dbPath := filepath.Join(r.Dir, "data.db")
	cfg := rig.SQLiteSessionConfig(t, rb, dbPath)
	cfg.Getenv = func(k string) string {
		if k == "TENANT_KEY" {
			return tenantSecret
		}
		return ""
	}
	cfg.Vars = map[string]string{"tenant": tenantSecret, "url": "https://svc:hunter22@db.example/x", "region": "eu-west"}
	s, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if out, err := s.Run(context.Background()); out != engine.OutcomeStopped || !errors.Is(err, engine.ErrNoAnswer) {
		t.Fatalf("Run() = %q, %v; want stopped at the checklist", out, err)
	}
	return cfg, s.ID(), dbPath
}

func checklistAnswered() engine.Prompter {
	return rig.Answers(map[string][]rig.Reply{"gate:checklist": {{Ans: engine.Answer{Checked: []int{0}}}}})
}

// TestResumeNeverFeedsRedactedVarsBack: session.start journals the vars
// redacted; a resume must not run with "[REDACTED]" as their value. The
// redacted ones must be given again; the others must not change.
func TestResumeNeverFeedsRedactedVarsBack(t *testing.T) {
	t.Parallel()
	allGiven := map[string]string{"tenant": tenantSecret, "url": "https://svc:hunter22@db.example/x"}
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr []string // in the error (ErrConfig); nil: the resume runs
		notIn   []string // never in the error
	}{
		{"none given", nil, []string{"tenant, url", "--var tenant=", "--var url="}, []string{tenantSecret, "hunter22"}},
		{"one missing", map[string]string{"tenant": tenantSecret}, []string{"url", "--var url="}, []string{tenantSecret}},
		{"all redacted given", allGiven, nil, nil},
		{"same plain value", map[string]string{"tenant": tenantSecret, "url": "https://svc:hunter22@db.example/x", "region": "eu-west"}, nil, nil},
		{"changed plain value", map[string]string{"tenant": tenantSecret, "url": "https://svc:hunter22@db.example/x", "region": "us-" + tenantSecret},
			[]string{"--var region", `"eu-west"`}, []string{tenantSecret, "hunter22", "us-"}},
		{"redacted value of another shape", map[string]string{"tenant": tenantSecret, "url": "https://other.example/hunter22"},
			[]string{"--var url", "[REDACTED]"}, []string{tenantSecret, "hunter22", "other.example"}},
		{"undeclared", map[string]string{"tenant": tenantSecret, "url": "x://a:b@c", "tenantt": "x"}, []string{`unknown var "tenantt"`}, []string{tenantSecret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, id, dbPath := secretVarsRig(t)
			cfg.Runbook, cfg.Vars, cfg.Operator, cfg.Prompter = nil, tt.vars, "bob", checklistAnswered()
			s, err := engine.Resume(context.Background(), cfg, id)
			if tt.wantErr != nil {
				if !errors.Is(err, engine.ErrConfig) {
					t.Fatalf("Resume() = %v, want ErrConfig", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("Resume() error %q does not hold %q", err, w)
					}
				}
				for _, w := range tt.notIn {
					if strings.Contains(err.Error(), w) {
						t.Errorf("Resume() error %q leaks %q", err, w)
					}
				}
				// Refused before anything was journaled: a later resume can still run.
				evs, _ := cfg.Journal.Events(context.Background(), id)
				if k := evs[len(evs)-1].Kind; k != engine.EvSessionEnd {
					t.Errorf("last event %s, want session.end (nothing journaled by the refused resume)", k)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resume() = %v", err)
			}
			if out, err := s.Run(context.Background()); out != engine.OutcomeCompleted || err != nil {
				t.Fatalf("Run() = %q, %v; want completed", out, err)
			}
			got := queryAll(t, dbPath, "SELECT DISTINCT city || '|' || postcode || '|' || street_name FROM users")
			if want := tenantSecret + "|https://svc:hunter22@db.example/x|eu-west"; got != want {
				t.Errorf("rows hold %q, want %q: the resumed session must write the real values", got, want)
			}
		})
	}
}

// TestResumeWithoutSecretVarsUnchanged: vars that were not redacted come
// back from the journal, with or without --var; nothing new is asked.
func TestResumeWithoutSecretVarsUnchanged(t *testing.T) {
	t.Parallel()
	steps := `      - {id: gate, kind: manual, checklist: [ready]}
      - {id: mig, kind: migrate, with: {set: {city: 'vars.region'}}}
`
	rb := rig.DataRunbook(t, 2, "vars: {region: eu}", steps)
	r := rig.NewSQLite(t, rb, 2)
	dbPath := filepath.Join(r.Dir, "data.db")
	cfg := rig.SQLiteSessionConfig(t, rb, dbPath)
	cfg.Vars = map[string]string{"region": "us-east"}
	s, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := s.Run(context.Background()); out != engine.OutcomeStopped {
		t.Fatalf("Run() = %q, want stopped", out)
	}
	cfg.Vars, cfg.Prompter = nil, checklistAnswered()
	s, err = engine.Resume(context.Background(), cfg, s.ID())
	if err != nil {
		t.Fatalf("Resume() = %v", err)
	}
	if out, err := s.Run(context.Background()); out != engine.OutcomeCompleted || err != nil {
		t.Fatalf("Run() = %q, %v", out, err)
	}
	if got := queryAll(t, dbPath, "SELECT DISTINCT city FROM users"); got != "us-east" {
		t.Errorf("city = %q, want us-east (the value the session started with)", got)
	}
}

// queryAll returns the rows of a one-column query joined by ",".
func queryAll(t *testing.T, path, q string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s.String)
	}
	return strings.Join(out, ",")
}

// TestResumeUnreadableStartVars: when the redactor had to replace the
// whole session.start (its vars cannot be read back), every declared var
// must be given again.
func TestResumeUnreadableStartVars(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
vars: {region: eu, tenant: none}
phases:
  - name: p
    steps: [{id: say, kind: notify, with: {channel: stdout, template: "{{.Vars.region}}/{{.Vars.tenant}}"}}]
`, nil)
	ctx := context.Background()
	rb := h.Cfg.Runbook
	info, err := h.J.CreateSession(ctx, engine.SessionInfo{ID: "20260101-000000-0000beef", Runbook: rb.Name, RunbookPath: rb.Path,
		RunbookSHA256: rb.SHA256, RunbookSource: rb.Source, Title: rb.Title, Env: "test", Mode: engine.ModeLive, Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	ev := eventtest.Raw(engine.EvSessionStart, "", map[string]any{"redacted": "{\"vars\":{...[REDACTED]..."})
	ev.SessionID, ev.Operator = info.ID, "alice"
	if _, err := h.J.Append(ctx, ev); err != nil {
		t.Fatal(err)
	}
	_, err = engine.Resume(ctx, h.Cfg, info.ID)
	if !errors.Is(err, engine.ErrConfig) || !strings.Contains(err.Error(), "--var region=VALUE --var tenant=VALUE") {
		t.Fatalf("Resume() = %v, want ErrConfig asking for every var", err)
	}
	h.Cfg.Vars = map[string]string{"region": "us", "tenant": "acme"}
	if h.S, err = engine.Resume(ctx, h.Cfg, info.ID); err != nil {
		t.Fatalf("Resume() = %v", err)
	}
	if out, err := h.S.Run(ctx); out != engine.OutcomeCompleted || err != nil {
		t.Fatalf("Run() = %q, %v", out, err)
	}
	if got := h.Stdout.String(); got != "us/acme\n" {
		t.Errorf("stdout = %q, want us/acme", got)
	}
}
