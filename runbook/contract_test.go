package runbook_test

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

// TestContractSteps: every migrate step after the runbook's first is a
// contract step (it works on items already at the version), and must be
// safe to apply twice: no external transform, no set from what it reads.
func TestContractSteps(t *testing.T) {
	const head = `lockstep: 1
name: c
title: c
version: 3
roles: {responsible: [a]}
environments: {test: {store: {kind: sqlite, path: /tmp/x.db, table: t, key: [id]}}}
phases:
  - name: run
    steps:
      - {id: backfill, kind: migrate, with: {set: {street: 'item.address'}}}
      - {id: check, kind: shell, with: {run: "true"}}
`
	tests := []struct {
		name, step, wantErr string
	}{
		{"remove", `      - {id: drop, kind: migrate, with: {remove: [address]}}`, ""},
		{"rename", `      - {id: drop, kind: migrate, with: {rename: {street: street_name}}}`, ""},
		{"set from other attributes", `      - {id: drop, kind: migrate, with: {set: {city: 'upper(item.street)'}}}`, ""},
		{"set from itself", `      - {id: drop, kind: migrate, with: {set: {count: 'item.count + 1'}}}`,
			"test.yaml:12:55: migrate drop runs after backfill on items already at version 3, so applying it twice must change nothing; it sets count from what it reads"},
		{"whole item", `      - {id: drop, kind: migrate, with: {set: {n: 'len(item)'}}}`, "it sets n from what it reads"},
		{"transform", `      - {id: drop, kind: migrate, with: {transform: [./fix.py]}}`, "an external transform cannot promise that (do it in backfill, or in a runbook of its own with version 4)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb, err := runbook.Parse("test.yaml", []byte(head+tt.step+"\n"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := rb.Step("backfill").Migrate.After; got != "" {
				t.Errorf("backfill After = %q, want none (it is the first)", got)
			}
			if got := rb.Step("drop").Migrate; !got.Contract() || got.After != "backfill" {
				t.Errorf("drop After = %q, want backfill", got.After)
			}
		})
	}
}
