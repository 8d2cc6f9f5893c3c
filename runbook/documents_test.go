package runbook_test

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

// TestParseDocuments checks that only one YAML document is accepted: a
// second one after `---` would otherwise be ignored without a word.
func TestParseDocuments(t *testing.T) {
	const one = "lockstep: 1\nname: docs\ntitle: Docs\nversion: 1\n" +
		"environments: {dev: {store: {kind: sqlite, path: t.db, table: t, key: [id]}}}\n" +
		"phases: [{name: p, steps: [{id: a, kind: manual, text: hi}]}]\n"
	tests := []struct {
		name    string
		src     string
		wantErr string // "" : parses
	}{
		{"one document", one, ""},
		{"leading marker", "---\n" + one, ""},
		{"end marker", one + "...\n", ""},
		{"empty trailing document", one + "---\n# nothing here\n", ""},
		{"second document", one + "---\nphases: []\n", "rb.yaml:7:1: a second YAML document starts here"},
		{"second document on the marker line", one + "--- {name: other}\n", "rb.yaml:7:1: a second YAML document"},
		{"third document after an empty one", one + "---\n---\nname: x\n", "rb.yaml:8:1: a second YAML document"},
		{"syntax error in the second document", one + "---\n[bad\n", "yaml: did not find expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runbook.Parse("rb.yaml", []byte(tt.src))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Parse() error = %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Parse() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
