package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// confirmAll acknowledges manual steps.
type confirmAll struct{}

func (confirmAll) Ask(context.Context, engine.Prompt) (engine.Answer, error) {
	return engine.Answer{Confirm: true}, nil
}

// TestLockSessionStopKeepsMaintenanceOn: a session that stops resumably
// in the middle of a locked migration gives its lease back but keeps the
// application in maintenance; resumed, it sets the flag again and its
// unlock clears it.
func TestLockSessionStopKeepsMaintenanceOn(t *testing.T) {
	t.Parallel()
	steps := `      - id: take
        kind: lock
        with: {ttl: 1m, maintenance: {table: settings, key: {name: maintenance}, attribute: enabled}}
      - {id: deploy, kind: manual, text: Deploy the new code.}
      - {id: give, kind: unlock}
`
	rb := rig.DataRunbook(t, 2, "", steps)
	r := rig.NewSQLite(t, rb, 10)
	addSettings(t, r)
	dbPath := filepath.Join(r.Dir, "data.db")
	cfg := rig.SQLiteSessionConfig(t, rb, dbPath)
	j := cfg.Journal
	ctx := context.Background()
	s, err := engine.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if out, _ := s.Run(ctx); out != engine.OutcomeStopped {
		t.Fatalf("Run()=%q, want stopped at the manual step", out)
	}
	if !maintenanceOn(t, r) {
		t.Error("maintenance flag cleared by a resumable stop")
	}
	if got := leaseRow(t, r); !strings.Contains(got, "no rows") {
		t.Errorf("lease after the stop = %s, want released", got)
	}
	evs, _ := j.Events(ctx, s.ID())
	said := false
	for _, ev := range evs {
		said = said || (ev.Kind == engine.EvNote && strings.Contains(string(ev.Data), "maintenance flag left on: the migration is incomplete"))
	}
	if !said {
		t.Error("the stop did not tell the operator the maintenance flag was left on")
	}

	cfg.Prompter = confirmAll{}
	s, err = engine.Resume(ctx, cfg, s.ID())
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if out, err := s.Run(ctx); out != engine.OutcomeCompleted {
		t.Fatalf("resumed Run()=%q, %v; want completed", out, err)
	}
	if maintenanceOn(t, r) {
		t.Error("maintenance flag still on after the resumed session unlocked")
	}
}

// failAsks answers every prompt with an error that is not a missing
// answer: a failed step then fails the session (plain mode without a
// retry or skip answer).
type failAsks struct{}

func (failAsks) Ask(context.Context, engine.Prompt) (engine.Answer, error) {
	return engine.Answer{}, errors.New("no retry or skip answer")
}

// TestLockSessionFailureKeepsMaintenanceOn: a failed session can be
// resumed, so like a stop it keeps the application in maintenance; only
// the unlock of the resumed session clears the flag.
func TestLockSessionFailureKeepsMaintenanceOn(t *testing.T) {
	t.Parallel()
	steps := `      - id: take
        kind: lock
        with: {ttl: 1m, maintenance: {table: settings, key: {name: maintenance}, attribute: enabled}}
      - {id: deploy, kind: shell, with: {run: "exit 1"}}
      - {id: give, kind: unlock}
`
	rb := rig.DataRunbook(t, 2, "", steps)
	r := rig.NewSQLite(t, rb, 10)
	addSettings(t, r)
	cfg := rig.SQLiteSessionConfig(t, rb, filepath.Join(r.Dir, "data.db"))
	cfg.Prompter = failAsks{}
	s, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := s.Run(context.Background()); out != engine.OutcomeFailed {
		t.Fatalf("Run()=%q, want failed", out)
	}
	if !maintenanceOn(t, r) {
		t.Error("maintenance flag cleared by a failed (resumable) session")
	}
}
