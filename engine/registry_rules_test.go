package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestRegistryRules: the environment's registry is applied at start. A
// version that completed there with another SHA-256 is refused; a live
// run of a lower version than the highest completed live one needs a
// reason (version_regression), journaled before the session acts; a
// rehearsal or a completed version's SHA-256 passes; a dry run neither
// reads nor writes it. A started session is recorded as running before
// its first step, and its end (here a failure) with its head.
func TestRegistryRules(t *testing.T) {
	t.Parallel()
	held := func(sha string) engine.RegistryRecord {
		return engine.RegistryRecord{Runbook: "users-migration", Version: 3, SHA256: sha, Env: "test", Mode: engine.ModeLive,
			Outcome: engine.OutcomeCompleted, SessionID: "earlier", Operator: "bob", Host: "h",
			Started: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Ended: time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC), Head: "hh", Events: 9}
	}
	tests := []struct {
		name     string
		version  int
		heldSHA  string // "self": this runbook's
		mode     engine.Mode
		reason   *rig.Reply // version_regression
		wantErr  error
		wantMsg  string
		override bool // version_regression journaled
	}{
		{"same version, same checksum", 3, "self", engine.ModeLive, nil, nil, "", false},
		{"same version, other checksum", 3, "0badc0de", engine.ModeLive, nil, engine.ErrRegistryRefused, "version 3 of users-migration completed in test in session earlier", false},
		{"same version, other checksum, rehearsal", 3, "0badc0de", engine.ModeRehearsal, nil, engine.ErrRegistryRefused, "give the edited runbook a new version", false},
		{"higher version", 4, "0badc0de", engine.ModeLive, nil, nil, "", false},
		{"lower version, no answer", 2, "0badc0de", engine.ModeLive, nil, engine.ErrNoAnswer, "holds version 3 of users-migration completed live in session earlier; this runbook is version 2", false},
		{"lower version, empty reason", 2, "0badc0de", engine.ModeLive, &rig.Reply{Ans: engine.Answer{}}, engine.ErrReasonRequired, "version regression", false},
		{"lower version, reason", 2, "0badc0de", engine.ModeLive, &rig.Reply{Ans: engine.Answer{Reason: "re-apply v2 after restoring its backup"}}, nil, "", true},
		{"lower version, rehearsal", 2, "0badc0de", engine.ModeRehearsal, nil, nil, "", false},
		{"dry run", 3, "0badc0de", engine.ModeDryRun, nil, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rb := rig.DataRunbook(t, tt.version, "", rig.CounterSteps)
			dr := rig.NewSQLite(t, rb, 20)
			dbPath := filepath.Join(dr.Dir, "data.db")
			st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: dbPath, Table: "users", Key: []string{"id"}})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			rec := held(tt.heldSHA)
			if tt.heldSHA == "self" {
				rec.SHA256 = rb.SHA256
			}
			if err := st.RecordEnd(ctx, rec); err != nil {
				t.Fatal(err)
			}
			cfg := rig.SQLiteSessionConfig(t, rb, dbPath)
			cfg.Mode = tt.mode
			p := rig.Answers(map[string][]rig.Reply{})
			if tt.reason != nil {
				p.Replies["reason"] = []rig.Reply{*tt.reason}
			}
			cfg.Prompter = p
			s, err := engine.Start(ctx, cfg)
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.wantMsg)) {
				t.Fatalf("Start() = %v, want %v with %q", err, tt.wantErr, tt.wantMsg)
			}
			if err != nil {
				if recs, _ := st.Registry(ctx, "test"); len(recs) != 1 {
					t.Errorf("a refused start wrote the registry: %+v", recs)
				}
				return
			}
			recs, err := st.Registry(ctx, "test")
			if err != nil {
				t.Fatal(err)
			}
			if tt.mode == engine.ModeDryRun {
				if len(recs) != 1 {
					t.Errorf("a dry run wrote the registry: %+v", recs)
				}
				return
			}
			if len(recs) != 2 || recs[0].SessionID != s.ID() || recs[0].Outcome != engine.OutcomeRunning || recs[0].Mode != tt.mode ||
				recs[0].Version != tt.version || recs[0].SHA256 != rb.SHA256 || recs[0].Operator != "alice" || recs[0].Journal == "" {
				t.Fatalf("after Start, Registry() = %+v, want this session running first", recs)
			}
			evs, err := cfg.Journal.Events(ctx, s.ID())
			if err != nil {
				t.Fatal(err)
			}
			overrides := 0
			for _, ev := range evs {
				if ev.Kind == engine.EvConfirm && strings.Contains(string(ev.Data), `"version_regression"`) {
					overrides++
				}
			}
			if overrides != map[bool]int{true: 1, false: 0}[tt.override] {
				t.Errorf("%d version_regression overrides journaled, want override=%v", overrides, tt.override)
			}
		})
	}
}

// TestRegistryRecordsAFailedSession: a session whose step fails still
// records its end, with the failure and its final head.
func TestRegistryRecordsAFailedSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rb := rig.DataRunbook(t, 2, "", `      - id: boom
        kind: shell
        with: {run: "exit 3"}
`)
	dr := rig.NewSQLite(t, rb, 5)
	dbPath := filepath.Join(dr.Dir, "data.db")
	cfg := rig.SQLiteSessionConfig(t, rb, dbPath)
	cfg.Prompter = rig.Answers(map[string][]rig.Reply{"boom:failure": {{Ans: engine.Answer{Value: "abort"}}}})
	s, err := engine.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := s.Run(ctx)
	if out == engine.OutcomeCompleted {
		t.Fatalf("Run() = %s, want a failure", out)
	}
	st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: dbPath, Table: "users", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Registry(ctx, "test")
	info, ierr := cfg.Journal.Session(ctx, s.ID())
	if err != nil || ierr != nil || len(recs) != 1 {
		t.Fatalf("Registry() = %+v, %v (%v)", recs, err, ierr)
	}
	if r := recs[0]; r.Outcome != out || r.Head != info.Head || r.Events != info.Events || r.Ended.IsZero() {
		t.Errorf("record = %+v, want outcome %s, head %.12s at %d, ended", r, out, info.Head, info.Events)
	}
}

// TestRegistryFollowsAResume: a stopped session's record says stopped
// with its head; the resume marks it running before its first step, and
// its end completed with the new head.
func TestRegistryFollowsAResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rb := rig.DataRunbook(t, 2, "", `      - id: a
        kind: manual
        checklist: [done]
`+rig.CounterSteps)
	dr := rig.NewSQLite(t, rb, 20)
	dbPath := filepath.Join(dr.Dir, "data.db")
	cfg := rig.SQLiteSessionConfig(t, rb, dbPath)
	cfg.Prompter = rig.Answers(map[string][]rig.Reply{"a:checklist": {{Err: engine.ErrQuit}}})
	s, err := engine.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := s.Run(ctx); out != engine.OutcomeStopped {
		t.Fatalf("Run() = %s, want stopped", out)
	}
	st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: dbPath, Table: "users", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	record := func() engine.RegistryRecord {
		t.Helper()
		recs, err := st.Registry(ctx, "test")
		if err != nil || len(recs) != 1 {
			t.Fatalf("Registry() = %+v, %v; want one record", recs, err)
		}
		return recs[0]
	}
	stopped := record()
	if stopped.Outcome != engine.OutcomeStopped || stopped.Events == 0 {
		t.Fatalf("after the stop: %+v", stopped)
	}
	cfg.Prompter = rig.Answers(map[string][]rig.Reply{"a:checklist": {{Ans: engine.Answer{Checked: []int{0}}}}})
	cfg.Runbook = nil
	r, err := engine.Resume(ctx, cfg, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got := record(); got.Outcome != engine.OutcomeRunning || got.Head != stopped.Head {
		t.Errorf("after Resume: %s head %.12s, want running with the stop's head %.12s", got.Outcome, got.Head, stopped.Head)
	}
	if out, err := r.Run(ctx); out != engine.OutcomeCompleted {
		t.Fatalf("resumed Run() = %s, %v", out, err)
	}
	info, err := cfg.Journal.Session(ctx, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got := record(); got.Outcome != engine.OutcomeCompleted || got.Head != info.Head || got.Events != info.Events || got.Migrated != 20 {
		t.Errorf("after the resumed run: %+v, want completed, 20 migrated, head %.12s at %d", got, info.Head, info.Events)
	}
}
