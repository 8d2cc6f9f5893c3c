package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// learningSession is a session written to a real journal for the
// learnings tests: its runbook, where it was read from, and its notes.
type learningSession struct {
	id, runbook, path, source string
	notes                     []map[string]any // EvNote data
}

func writeLearningJournal(t *testing.T, sessions []learningSession) string {
	t.Helper()
	ctx := context.Background()
	jpath := filepath.Join(t.TempDir(), "journal.db")
	j, err := journal.Open(jpath)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	t0 := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	for i, s := range sessions {
		start := t0.Add(time.Duration(i) * time.Hour)
		info, err := j.CreateSession(ctx, engine.SessionInfo{ID: s.id, Runbook: s.runbook, RunbookPath: s.path,
			RunbookSource: []byte(s.source), Env: "staging", Mode: engine.ModeRehearsal, Operator: "alice", Started: start})
		if err != nil {
			t.Fatal(err)
		}
		for k, data := range s.notes {
			ev := eventtest.Raw(engine.EvNote, "backfill", data)
			ev.SessionID, ev.Operator, ev.Time = info.ID, "alice", start.Add(time.Duration(k+1)*time.Minute)
			if _, err := j.Append(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.EndSession(ctx, info.ID, engine.OutcomeCompleted); err != nil {
			t.Fatal(err)
		}
	}
	return jpath
}

type m = map[string]any

var learningSessions = []learningSession{
	{id: "s1", runbook: "dynamodb-add-attribute", path: "<builtin>/dynamodb-add-attribute.yaml", notes: []m{
		{"text": "learning: dynalite throttles above 200 items/s"},
		{"text": "just a note"},
		{"text": "learning: from the engine", "by": engine.NoteByLockstep},
		{"text": "learning:   "},
	}},
	{id: "s2", runbook: "orders-status", path: "/rb/orders.yaml",
		source: "# lockstep-protocol: dynamodb-add-attribute\nlockstep: 1\n", notes: []m{
			{"text": "  LEARNING: check the GSI is ACTIVE first"},
		}},
	{id: "s3", runbook: "other", path: "/rb/other.yaml", source: "lockstep: 1\n", notes: []m{
		{"text": "Learning:unrelated"},
	}},
}

func TestLearningsFor(t *testing.T) {
	jpath := writeLearningJournal(t, learningSessions)
	j, err := journal.OpenReadOnly(jpath)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	tests := []struct {
		name string
		want []string // "runbook|protocol|text"
	}{
		{"", []string{
			"dynamodb-add-attribute|dynamodb-add-attribute|dynalite throttles above 200 items/s",
			"orders-status|dynamodb-add-attribute|check the GSI is ACTIVE first",
			"other||unrelated"}},
		{"dynamodb-add-attribute", []string{
			"dynamodb-add-attribute|dynamodb-add-attribute|dynalite throttles above 200 items/s",
			"orders-status|dynamodb-add-attribute|check the GSI is ACTIVE first"}},
		{"orders-status", []string{"orders-status|dynamodb-add-attribute|check the GSI is ACTIVE first"}},
		{"other", []string{"other||unrelated"}},
		{"nope", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := learningsFor(context.Background(), j, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range list {
				got = append(got, l.Runbook+"|"+l.Protocol+"|"+l.Text)
				if l.Step != "backfill" || l.Operator != "alice" || l.Env != "staging" || l.Session == "" {
					t.Errorf("learning %+v: want step backfill, operator alice, env staging, a session", l)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("learningsFor(%q) =\n%s\nwant\n%s", tt.name, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLearningsCommand(t *testing.T) {
	jpath := writeLearningJournal(t, learningSessions)
	run := func(args ...string) (string, error) {
		f, out, _ := testFactory(map[string]string{"LOCKSTEP_JOURNAL": jpath}, "u")
		cmd := newRootCmd(f)
		cmd.SetArgs(append([]string{"learnings"}, args...))
		err := cmd.ExecuteContext(context.Background())
		return out.String(), err
	}
	md, err := run("dynamodb-add-attribute")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# Learnings of dynamodb-add-attribute\n",
		"\n## dynamodb-add-attribute\n\n- dynalite throttles above 200 items/s — alice (2026-12-01 22:01 UTC, staging, rehearsal, step backfill; session s1)\n",
		"\n## orders-status (from protocol dynamodb-add-attribute)\n\n- check the GSI is ACTIVE first — alice",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q\n%s", want, md)
		}
	}
	out, err := run("--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 3 {
		t.Fatalf("json: %d learnings, err %v, want 3\n%s", len(list), err, out)
	}
	if list[2]["protocol"] != nil || list[2]["text"] != "unrelated" {
		t.Errorf("json[2] = %v, want no protocol and text unrelated", list[2])
	}
	if out, _ := run("nope"); !strings.Contains(out, "None yet") {
		t.Errorf("no learnings: %q, want a hint", out)
	}
	if _, err := run("--format", "xml"); exitCode(err) != 2 {
		t.Errorf("--format xml: exit %d, want 2", exitCode(err))
	}
}

// TestLintShowsLearnings: lint prints the learnings recorded for the
// runbook it checks as info lines, and nothing for another runbook.
func TestLintShowsLearnings(t *testing.T) {
	jpath := writeLearningJournal(t, []learningSession{
		{id: "S1", runbook: "rename-email", path: "rename.yaml", notes: []map[string]any{
			{"text": "learning: the GSI backfill doubles the WCU — raise it first"},
			{"text": "just a note"},
		}},
		{id: "S2", runbook: "other", path: "other.yaml", notes: []map[string]any{{"text": "learning: not for this runbook"}}},
	})
	dir := t.TempDir()
	rb := filepath.Join(dir, "rename.yaml")
	src := `lockstep: 1
name: rename-email
title: Rename email
version: 1
roles: {responsible: [u], accountable: u}
environments:
  dev: {store: {kind: sqlite, path: x.db, table: t, key: [id]}}
phases:
  - name: p
    steps:
      - {id: s, kind: manual, text: hi}
`
	if err := os.WriteFile(rb, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	f, out, _ := testFactory(nil, "u")
	cmd := newRootCmd(f)
	cmd.SetArgs([]string{"lint", rb, "--journal", jpath})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("lint: %v\n%s", err, out)
	}
	got := out.String()
	if !strings.Contains(got, "info: learning from alice in staging (S1, 2026-12-01): the GSI backfill doubles the WCU — raise it first") {
		t.Errorf("lint output lacks the runbook's learning:\n%s", got)
	}
	if strings.Contains(got, "not for this runbook") || strings.Contains(got, "just a note") {
		t.Errorf("lint shows a learning of another runbook or a plain note:\n%s", got)
	}
}
