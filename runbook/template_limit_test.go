package runbook_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// TestRenderLimit: a template's output is capped, and execution stops at
// the write that passes the cap instead of running to its end.
func TestRenderLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     string
		limit   int
		want    string // output when it fits
		tooBig  bool
		maxTime time.Duration
	}{
		{"fits", "{{range 3}}ab{{end}}", 6, "ababab", false, time.Second},
		{"one byte over", "{{range 3}}ab{{end}}c", 6, "", true, time.Second},
		// The reported template: 100 writes of ~1 MB; with no cap it ran
		// for minutes. It must stop at the second write.
		{"runaway printf width", `{{range 100}}{{printf "%0999999d" 1}}{{end}}`, runbook.MaxRendered, "", true, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := runbook.CompileTemplate("t", tt.src)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got, err := tmpl.RenderLimit(nil, tt.limit)
			if d := time.Since(start); d > tt.maxTime {
				t.Errorf("RenderLimit took %v, want under %v", d, tt.maxTime)
			}
			if tt.tooBig {
				if !errors.Is(err, runbook.ErrTemplateTooLarge) || got != "" {
					t.Fatalf("RenderLimit() = %d bytes, %v; want ErrTemplateTooLarge", len(got), err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("RenderLimit() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestRenderLimitNamesPosition: the error of a parsed runbook's template
// names where it is written.
func TestRenderLimitNamesPosition(t *testing.T) {
	t.Parallel()
	rb, err := runbook.Parse("rb.yaml", []byte(`lockstep: 1
name: cap
title: Cap
version: 1
environments: {dev: {store: {kind: sqlite, path: t.db, table: t, key: [id]}}}
phases:
  - name: p
    steps:
      - {id: say, kind: notify, with: {channel: stdout, template: '{{range 2}}{{printf "%0999999d" 1}}{{end}}'}}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = rb.Step("say").Notify.Template.Render(nil)
	if !errors.Is(err, runbook.ErrTemplateTooLarge) || !strings.Contains(err.Error(), "rb.yaml:9:") || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("Render() error = %v, want ErrTemplateTooLarge naming rb.yaml:9 and 1 MiB", err)
	}
}
