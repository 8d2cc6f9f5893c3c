package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestStartChecksTheEnvironmentFirst: an unset ${VAR} in the environment's
// store, or a --var the runbook does not declare, is bad input found when
// the session starts, before any step (an approval) is asked or journaled.
func TestStartChecksTheEnvironmentFirst(t *testing.T) {
	t.Parallel()
	src := `lockstep: 1
name: t
title: t
version: 2
roles: {responsible: [alice], accountable: bob}
environments:
  test: {store: {kind: sqlite, path: "${SHOP_DB}", table: users, key: [id]}}
vars: {banner: hi}
phases:
  - name: p
    steps:
      - {id: go, kind: approval, with: {role: accountable}}
      - {id: backfill, kind: migrate, with: {set: {name: 'item.name'}}}
`
	rb, err := runbook.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		vars map[string]string
		env  map[string]string
		want string
	}{
		{"unset store variable", nil, nil, "SHOP_DB"},
		{"undeclared --var", map[string]string{"bannr": "x"}, map[string]string{"SHOP_DB": "/tmp/x.db"}, `did you mean banner?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			_, err = engine.Start(context.Background(), engine.Config{Runbook: rb, Env: "test", Operator: "alice",
				Journal: j, Prompter: rig.NoPrompts{}, Vars: tt.vars, Steps: steps.Default(), Getenv: func(k string) string { return tt.env[k] }})
			if !errors.Is(err, engine.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start() error = %v, want ErrConfig naming %q", err, tt.want)
			}
			if s, err := j.LatestSession(context.Background(), engine.SessionFilter{}); err == nil {
				t.Errorf("a session %s was journaled", s.ID)
			}
		})
	}
}
