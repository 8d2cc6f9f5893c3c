package journal_test

import (
	"context"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// ranSession stores the session a applied record describes, the way the
// engine runs one (session.start, session.end, EndSession), and returns a
// naming it.
func ranSession(t *testing.T, j *journal.Journal, a engine.Applied) engine.Applied {
	t.Helper()
	ctx := context.Background()
	s := createSession(t, j, engine.SessionInfo{Runbook: a.Name, RunbookPath: "/runbooks/" + a.Name + ".yaml",
		RunbookSHA256: a.RunbookSHA256, Title: a.Name, Env: a.Env, Mode: a.Mode, Operator: "alice"})
	start := eventtest.Raw(engine.EvSessionStart, "", map[string]any{
		"runbook": a.Name, "version": a.Version, "sha256": a.RunbookSHA256, "env": a.Env, "mode": a.Mode,
		"operator": "alice", "path": s.RunbookPath,
	})
	start.SessionID, start.Operator = s.ID, "alice"
	if _, err := j.Append(ctx, start); err != nil {
		t.Fatal(err)
	}
	endSession(t, j, s.ID, engine.Outcome(a.Status))
	a.SessionID = s.ID
	return a
}

func TestAppliedMigrations(t *testing.T) {
	ctx := context.Background()
	j, _ := openTemp(t)
	base := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	records := []engine.Applied{
		{Name: "split-address", Version: 2, Env: "staging", RunbookSHA256: "aa", Mode: engine.ModeRehearsal, Status: "completed", Time: base},
		{Name: "split-address", Version: 3, Env: "staging", RunbookSHA256: "bb", Mode: engine.ModeRehearsal, Status: "completed", Time: base.Add(time.Hour)},
		{Name: "split-address", Version: 3, Env: "production", RunbookSHA256: "bb", Mode: engine.ModeLive, Status: "failed", Time: base.Add(2 * time.Hour)},
		{Name: "rename-sku", Version: 1, Env: "staging", Mode: engine.ModeLive, Status: "completed", Time: base.Add(3 * time.Hour)},
	}
	for i, a := range records {
		records[i] = ranSession(t, j, a)
		if err := j.RecordApplied(ctx, records[i]); err != nil {
			t.Fatalf("RecordApplied(%+v): %v", a, err)
		}
	}
	tests := []struct {
		env, name string
		want      []int // indexes into records, newest first
	}{
		{"staging", "split-address", []int{1, 0}},
		{"production", "split-address", []int{2}},
		{"staging", "", []int{3, 1, 0}},
		{"", "", []int{3, 2, 1, 0}},
		{"dev", "split-address", nil},
	}
	for _, tt := range tests {
		t.Run(tt.env+"/"+tt.name, func(t *testing.T) {
			got, err := j.AppliedMigrations(ctx, tt.env, tt.name)
			if err != nil {
				t.Fatalf("AppliedMigrations: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("AppliedMigrations(%q, %q) returned %d, want %d", tt.env, tt.name, len(got), len(tt.want))
			}
			for i, idx := range tt.want {
				w := records[idx]
				if g := got[i]; g.Name != w.Name || g.Version != w.Version || g.Env != w.Env || g.Status != w.Status ||
					g.SessionID != w.SessionID || g.Mode != w.Mode || g.RunbookSHA256 != w.RunbookSHA256 || !g.Time.Equal(w.Time) {
					t.Errorf("[%d] = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestRecordAppliedRejects(t *testing.T) {
	j, _ := openTemp(t)
	tests := []struct {
		name string
		a    engine.Applied
	}{
		{"no name", engine.Applied{Env: "e", Status: "completed"}},
		{"no env", engine.Applied{Name: "n", Status: "completed"}},
		{"unknown session", engine.Applied{Name: "n", Env: "e", Status: "completed", SessionID: "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := j.RecordApplied(context.Background(), tt.a); err == nil {
				t.Error("RecordApplied() succeeded, want error")
			}
		})
	}
}
