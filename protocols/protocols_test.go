package protocols_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/protocols"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/pglint"
)

// lint returns the findings of every rule lockstep lint runs, the
// PostgreSQL rules included.
func lint(rb *runbook.Runbook) []*runbook.Error {
	return runbook.DefaultRules().With(pglint.Rules()...).Check(rb).Findings
}

// TestEveryProtocolParses parses every embedded protocol (demo.yaml too).
func TestEveryProtocolParses(t *testing.T) {
	names := protocols.Names()
	for _, want := range []string{"add-attribute", "rename-attribute", "split-attribute"} {
		if !strings.Contains(strings.Join(names, ","), want) {
			t.Errorf("Names() = %v, missing %s", names, want)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			rb, err := protocols.Get(name)
			if err != nil {
				t.Fatalf("Get(%s): %v", name, err)
			}
			if rb.Name != name {
				t.Errorf("Name = %q, want the file name %q", rb.Name, name)
			}
			if got, want := rb.Path, "<builtin>/"+name+".yaml"; got != want {
				t.Errorf("Path = %q, want %q", got, want)
			}
			if len(rb.EnvRefs()) == 0 {
				t.Errorf("EnvRefs() empty: protocols take their stores from the environment")
			}
		})
	}
}

// TestCatalogLintClean holds every catalog protocol (all but the demo) to
// the method: no lint warnings, a strategy, and a leading comment saying
// when to choose it, its strategy and its risks. The catalog has at least
// ten protocols.
func TestCatalogLintClean(t *testing.T) {
	var catalog []string
	for _, name := range protocols.Names() {
		if name != "demo" {
			catalog = append(catalog, name)
		}
	}
	for _, want := range []string{"postgres-add-not-null-column", "postgres-change-column-type", "postgres-create-index-concurrently"} {
		if !slices.Contains(catalog, want) {
			t.Errorf("catalog %v lacks %s", catalog, want)
		}
	}
	if len(catalog) < 10 {
		t.Errorf("catalog has %d protocols (%v), want at least 10", len(catalog), catalog)
	}
	for _, name := range catalog {
		t.Run(name, func(t *testing.T) {
			rb, err := protocols.Get(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range lint(rb) {
				t.Errorf("Lint(%s): %v", name, w)
			}
			want := "multi-step"
			if strings.Contains(name, "big-bang") {
				want = "big-bang"
			}
			if rb.Strategy != want {
				t.Errorf("%s strategy = %q, want %s", name, rb.Strategy, want)
			}
		})
	}
}

func TestList(t *testing.T) {
	list := protocols.List()
	if len(list) != len(protocols.Names()) {
		t.Fatalf("List() has %d entries, Names() %d", len(list), len(protocols.Names()))
	}
	for _, info := range list {
		if info.Err != "" || info.Title == "" || info.Summary == "" || info.Version < 1 {
			t.Errorf("List() entry %+v: want a title, summary and version, no error", info)
		}
		if strings.Contains(info.Summary, "\n") || strings.HasPrefix(info.Summary, "#") {
			t.Errorf("Summary %q should be one line without comment marks", info.Summary)
		}
	}
}

func TestSourceUnknown(t *testing.T) {
	tests := []struct{ name, wantSub string }{
		{"add-atribute", "did you mean add-attribute?"},
		{"nope", "unknown protocol"},
		{"../go.mod", "unknown protocol"},
		{"add-attribute.yaml", "unknown protocol"},
		{"", "unknown protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := protocols.Source(tt.name)
			if !errors.Is(err, protocols.ErrUnknown) || !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("Source(%q) = %v, want ErrUnknown mentioning %q", tt.name, err, tt.wantSub)
			}
			if _, err := protocols.Get(tt.name); !errors.Is(err, protocols.ErrUnknown) {
				t.Errorf("Get(%q) = %v, want ErrUnknown", tt.name, err)
			}
		})
	}
}

// TestSkeletonParses checks that every starter runbook parses.
func TestSkeletonParses(t *testing.T) {
	tests := []struct{ arg, wantName string }{
		{"add-attribute", "add-attribute"},
		{"split-attribute", "split-attribute"},
		{"my-migration", "my-migration"},
		{"Orders: Add Currency!", "orders-add-currency"},
		{"???", "my-migration"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			src := protocols.Skeleton(tt.arg)
			if !strings.HasPrefix(string(src), "#") {
				t.Errorf("Skeleton(%q) does not start with a comment", tt.arg)
			}
			rb, err := runbook.Parse("new.yaml", src)
			if err != nil {
				t.Fatalf("Skeleton(%q) does not parse: %v", tt.arg, err)
			}
			if rb.Name != tt.wantName {
				t.Errorf("Skeleton(%q) name = %q, want %q", tt.arg, rb.Name, tt.wantName)
			}
		})
	}
}
