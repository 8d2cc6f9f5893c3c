package protocols_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/protocols"
	"github.com/lockstep-run/lockstep/runbook"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		src  string
		want protocols.Explanation
	}{
		{"# Just about.\nlockstep: 1\n", protocols.Explanation{About: "Just about."}},
		{"# Title line.\n# When: now. Strategy: expand,\n# then contract. Risks: many.\n# Adapt: names.\nname: x\n",
			protocols.Explanation{About: "Title line.", When: "now.", Strategy: "expand, then contract.", Risks: "many.", Adapt: "names."}},
		{"# When: only.\n", protocols.Explanation{When: "only."}},
		{"lockstep: 1\n", protocols.Explanation{}},
	}
	for _, tt := range tests {
		if got := protocols.Explain([]byte(tt.src)); got != tt.want {
			t.Errorf("Explain(%q) = %+v, want %+v", tt.src, got, tt.want)
		}
	}
}

// TestCatalogExplained: every catalog protocol says when to choose it and
// its risks, and its strategy in its own part or in the text before.
func TestCatalogExplained(t *testing.T) {
	for _, name := range protocols.Names() {
		if name == "demo" {
			continue
		}
		src, _ := protocols.Source(name)
		ex := protocols.Explain(src)
		if ex.About == "" || ex.When == "" || ex.Risks == "" {
			t.Errorf("%s: explanation %+v lacks About, When or Risks", name, ex)
		}
	}
}

func TestRender(t *testing.T) {
	var buf bytes.Buffer
	if err := protocols.Render(&buf, "sqlite-big-bang"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"sqlite-big-bang — Rename the plan codes",
		"version 2, big-bang",
		"When:", "Strategy:", "Risks:",
		"Environment:  production (sqlite, protected)",
		"Reads:        LOCKSTEP_DB, LOCKSTEP_PROD_DB, LOCKSTEP_TABLE",
		"  lock ", "  recode ", "migrate",
		"lockstep protocols show sqlite-big-bang --source",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Render(sqlite-big-bang) lacks %q\n%s", want, out)
		}
	}
	if err := protocols.Render(&buf, "nope"); !errors.Is(err, protocols.ErrUnknown) {
		t.Errorf("Render(nope) = %v, want ErrUnknown", err)
	}
}

func TestSkeletonFrom(t *testing.T) {
	tests := []struct {
		name, from, store    string
		wantOrigin, wantKind string
		wantErr              error
	}{
		{"orders-status", "add-attribute", "", "add-attribute", "sqlite", nil},
		{"orders-status", "add-attribute", "dynamodb", "dynamodb-add-attribute", "dynamodb", nil},
		{"Orders Status", "dynamodb-rename-attribute", "sqlite", "rename-attribute", "sqlite", nil},
		{"x", "dynamodb-change-type", "dynamodb", "dynamodb-change-type", "dynamodb", nil},
		{"x", "dynamodb-change-type", "sqlite", "", "", protocols.ErrStore},
		{"x", "add-attribute", "mongo", "", "", protocols.ErrStore},
		{"x", "nope", "", "", "", protocols.ErrUnknown},
		{"x", "", "dynamodb", "", "dynamodb", nil},
		{"x", "", "sqlite", "", "sqlite", nil},
		{"x", "", "postgres", "", "postgres", nil},
		{"users-plan", "postgres-add-not-null-column", "postgres", "postgres-add-not-null-column", "postgres", nil},
		{"x", "postgres-create-index-concurrently", "", "postgres-create-index-concurrently", "postgres", nil},
		{"x", "add-attribute", "postgres", "", "", protocols.ErrStore},
		{"x", "postgres-change-column-type", "dynamodb", "", "", protocols.ErrStore},
	}
	for _, tt := range tests {
		t.Run(tt.from+"/"+tt.store, func(t *testing.T) {
			src, err := protocols.SkeletonFrom(tt.name, tt.from, tt.store)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("SkeletonFrom() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rb, err := runbook.Parse("new.yaml", src)
			if err != nil {
				t.Fatalf("does not parse: %v\n%s", err, src)
			}
			if want := strings.ToLower(strings.ReplaceAll(tt.name, " ", "-")); rb.Name != want {
				t.Errorf("name = %q, want %q", rb.Name, want)
			}
			if got := protocols.Origin(src); got != tt.wantOrigin {
				t.Errorf("Origin() = %q, want %q", got, tt.wantOrigin)
			}
			if got := rb.Environments[0].Store.Kind; got != tt.wantKind {
				t.Errorf("store kind = %q, want %q", got, tt.wantKind)
			}
			for _, w := range lint(rb) {
				t.Errorf("Lint: %v", w)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct{ src, want string }{
		{"# lockstep-protocol: add-attribute\n# x\nname: a\n", "add-attribute"},
		{"# other\n# lockstep-protocol: split-attribute \nname: a\n", "split-attribute"},
		{"name: a\n# lockstep-protocol: add-attribute\n", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := protocols.Origin([]byte(tt.src)); got != tt.want {
			t.Errorf("Origin(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
}
