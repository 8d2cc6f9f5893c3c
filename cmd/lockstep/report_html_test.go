package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestJournalHTMLFormats: export and diff take --format html, write the
// report with the session's hash chain checked, and export -o refuses an
// existing file as for the other formats.
func TestJournalHTMLFormats(t *testing.T) {
	dir := t.TempDir()
	jpath := filepath.Join(dir, "journal.db")
	type m = map[string]any
	steps := []diffEvent{
		{"", engine.EvPhaseStart, m{"phase": "run"}, ""},
		{"backfill", engine.EvStepStart, m{"kind": "migrate", "attempt": 1, "phase": "run"}, ""},
		{"backfill", engine.EvProgress, m{"migrated": 100, "write_limit": 500}, ""},
		{"backfill", engine.EvProgress, m{"migrated": 300, "write_limit": 500}, ""},
		{"backfill", engine.EvStepEnd, m{"status": "done", "duration_ms": 3000}, ""},
		{"", engine.EvSessionEnd, m{"outcome": "completed"}, ""},
	}
	a := writeDiffSession(t, jpath, "A1", engine.OutcomeCompleted, steps...)
	b := writeDiffSession(t, jpath, "B1", engine.OutcomeCompleted, steps...)

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"export", []string{"journal", "export", a, "--format", "html"},
			[]string{"<!DOCTYPE html>", "default-src 'none'", `aria-label="backfill: throughput"`, `class="badge ok">verified`, "events intact"}},
		{"diff", []string{"journal", "diff", a, b, "--format", "html"},
			[]string{"<!DOCTYPE html>", "default-src 'none'", `aria-label="step durations (s)"`, "A1", "B1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := execCmd(nil, append(tc.args, "--journal", jpath)...)
			if err != nil {
				t.Fatalf("%v: %v", tc.args, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("%v: the page lacks %q", tc.args, w)
				}
			}
		})
	}

	t.Run("export -o refuses an existing file", func(t *testing.T) {
		path := filepath.Join(dir, "report.html")
		if err := os.WriteFile(path, []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := execCmd(nil, "journal", "export", a, "--format", "html", "-o", path, "--journal", jpath); err == nil {
			t.Fatal("export -o over an existing file succeeded without --force")
		}
		if _, _, err := execCmd(nil, "journal", "export", a, "--format", "html", "-o", path, "--force", "--journal", jpath); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); !strings.HasPrefix(string(got), "<!DOCTYPE html>") {
			t.Errorf("report.html holds %.40q, want the HTML report", got)
		}
	})
}
