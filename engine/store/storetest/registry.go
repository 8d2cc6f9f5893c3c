package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// Registry checks a store's engine.Registrar: a start is recorded once
// (again it only marks the session running), an end updates the record
// (the same end again is a no-op, a stale one is ignored, the same events
// count with another head fails with engine.ErrAnchorConflict), an end
// without a recorded start creates the record, and Registry lists one
// environment's records newest first with every field. read returns the
// Registrar to read back with: r (or the store reopened, to check the
// records outlive the connection).
func Registry(t *testing.T, r engine.Registrar, read func() engine.Registrar) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	start := engine.RegistryRecord{Runbook: "rb", Version: 3, SHA256: "abcd", Env: "prod", Mode: engine.ModeLive,
		Outcome: engine.OutcomeRunning, SessionID: "s1", Operator: "alice", Host: "db-admin", Started: at, Journal: "db-admin:/var/lib/lockstep/journal.db"}
	end := func(outcome engine.Outcome, head string, events int64) engine.RegistryRecord {
		e := start
		e.Outcome, e.Ended, e.Head, e.Events, e.Migrated = outcome, at.Add(time.Minute), head, events, 40
		e.ItemsPerSec, e.AvgItemB = 120.5, 300
		return e
	}
	other := engine.RegistryRecord{Runbook: "rb", Version: 2, SHA256: "ef01", Env: "staging", Mode: engine.ModeRehearsal,
		Outcome: engine.OutcomeCompleted, SessionID: "s2", Operator: "ci", Host: "runner", Started: at.Add(-time.Hour),
		Ended: at.Add(-time.Hour + time.Minute), Head: "dddd", Events: 9}
	older := other
	older.Env, older.SessionID, older.Started = "prod", "s0", at.Add(-2*time.Hour)
	steps := []struct {
		name    string
		do      func() error
		wantErr error
	}{
		{"start", func() error { return r.RecordStart(ctx, start) }, nil},
		{"start again", func() error { return r.RecordStart(ctx, start) }, nil},
		{"stopped", func() error { return r.RecordEnd(ctx, end(engine.OutcomeStopped, "aaaa", 12)) }, nil},
		{"resumed", func() error { return r.RecordStart(ctx, start) }, nil},
		{"completed", func() error { return r.RecordEnd(ctx, end(engine.OutcomeCompleted, "cccc", 20)) }, nil},
		{"completed again", func() error { return r.RecordEnd(ctx, end(engine.OutcomeCompleted, "cccc", 20)) }, nil},
		{"stale end", func() error { return r.RecordEnd(ctx, end(engine.OutcomeStopped, "aaaa", 12)) }, nil},
		{"another head", func() error { return r.RecordEnd(ctx, end(engine.OutcomeCompleted, "bbbb", 20)) }, engine.ErrAnchorConflict},
		{"end without start", func() error { return r.RecordEnd(ctx, other) }, nil},
		{"an older session", func() error { return r.RecordEnd(ctx, older) }, nil},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Errorf("%s: %v, want %v", s.name, err, s.wantErr)
		}
	}
	rd := read()
	got, err := rd.Registry(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.RegistryRecord{end(engine.OutcomeCompleted, "cccc", 20), older}
	if len(got) != len(want) {
		t.Fatalf("Registry(prod) = %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].Started.Equal(want[i].Started) || !got[i].Ended.Equal(want[i].Ended) {
			t.Errorf("Registry(prod)[%d] times = %v..%v, want %v..%v", i, got[i].Started, got[i].Ended, want[i].Started, want[i].Ended)
		}
		got[i].Started, got[i].Ended = want[i].Started, want[i].Ended
		if got[i] != want[i] {
			t.Errorf("Registry(prod)[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if st, err := rd.Registry(ctx, "staging"); err != nil || len(st) != 1 || st[0].SessionID != "s2" {
		t.Errorf("Registry(staging) = %+v, %v; want s2 alone", st, err)
	}
	if none, err := rd.Registry(ctx, "dev"); err != nil || len(none) != 0 {
		t.Errorf("Registry(dev) = %v, %v; want none", none, err)
	}
}

// RegistryRunning checks that a resumed session shows as running: the
// record keeps its last head until the next end.
func RegistryRunning(t *testing.T, r engine.Registrar) {
	t.Helper()
	ctx := context.Background()
	rec := engine.RegistryRecord{Runbook: "rb", Version: 1, SHA256: "ab", Env: "e", Mode: engine.ModeLive,
		SessionID: "run", Operator: "o", Host: "h", Started: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)}
	if err := r.RecordStart(ctx, rec); err != nil {
		t.Fatal(err)
	}
	ended := rec
	ended.Outcome, ended.Head, ended.Events, ended.Ended = engine.OutcomeStopped, "hh", 5, rec.Started.Add(time.Second)
	if err := r.RecordEnd(ctx, ended); err != nil {
		t.Fatal(err)
	}
	if err := r.RecordStart(ctx, rec); err != nil {
		t.Fatal(err)
	}
	got, err := r.Registry(ctx, "e")
	if err != nil || len(got) != 1 {
		t.Fatalf("Registry(e) = %+v, %v", got, err)
	}
	if got[0].Outcome != engine.OutcomeRunning || got[0].Head != "hh" || got[0].Events != 5 {
		t.Errorf("after a resume: outcome %s head %s events %d, want running hh 5", got[0].Outcome, got[0].Head, got[0].Events)
	}
}
