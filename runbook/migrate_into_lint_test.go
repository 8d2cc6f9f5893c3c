package runbook_test

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

// copyRunbook is a multi-step runbook whose expand phase copies into a new
// table; verify is the verify phase's step.
func copyRunbook(verify string) string {
	return `lockstep: 1
name: copy-lint
title: Copy lint
version: 2
strategy: multi-step
roles: {responsible: [alice], accountable: [bob], informed: [ops]}
environments:
  staging:
    store: {kind: dynamodb, table: orders, region: eu-west-1}
phases:
  - name: expand
    steps:
      - id: copy
        kind: migrate
        with:
          remove: [legacy]
          into: {table: orders-by-customer, key: {pk: 'item.customer', sk: 'item.id'}}
  - name: verify
    requires: [expand]
    steps:
      - ` + verify + `
`
}

// TestLintCopy: a copy is verified only by a verify step checking that
// copy (LS502), and its remove, which drops attributes from the new
// table's items only, is no contract outside cleanup (LS503).
func TestLintCopy(t *testing.T) {
	tests := []struct {
		name, verify string
		want         []string // codes among LS502, LS503
	}{
		{"verified by copy", "{id: copied, kind: verify, with: {copy: copy}}", nil},
		{"verify of something else", `{id: none-left, kind: verify, with: {expect_none: "item.customer == nil"}}`, []string{"LS502"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb, err := runbook.Parse("copy.yaml", []byte(copyRunbook(tt.verify)))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got []string
			for _, f := range runbook.DefaultRules().Check(rb).Findings {
				if f.Code == "LS502" || f.Code == "LS503" {
					got = append(got, f.Code)
					if f.Code == "LS502" && !strings.Contains(f.Msg, "copy: copy") {
						t.Errorf("LS502 message %q does not say which verify is missing", f.Msg)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("findings %v, want %v", got, tt.want)
			}
		})
	}
}
