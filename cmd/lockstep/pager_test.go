package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

const showMD = "# Session s1\n\n| | |\n|---|---|\n| Runbook | demo |\n\n## Steps\n\n### copy (migrate) — done\n\n" +
	"- Result: `{\"migrated\":16587500,\"bytes\":16587500}`\n"

func TestShowMarkdown(t *testing.T) {
	pagerOut := filepath.Join(t.TempDir(), "paged")
	tests := []struct {
		name       string
		s          screen
		wantStdout []string // substrings of stdout
		rawOut     bool     // stdout is the Markdown itself
		paged      bool
	}{
		{name: "not a terminal: the Markdown as is", s: screen{pager: "cat > " + pagerOut}, rawOut: true},
		{name: "terminal, fits: rendered, not paged", s: screen{tty: true, width: 80, height: 100, pager: "cat > " + pagerOut},
			wantStdout: []string{"Session s1", "migrated  16,587,500", "bytes     15.8 MiB"}},
		{name: "terminal, taller than it: paged", s: screen{tty: true, width: 80, height: 5, pager: "cat > " + pagerOut}, paged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(pagerOut)
			var out bytes.Buffer
			tt.s.stdout = &out
			if err := showMarkdown(tt.s, []byte(showMD)); err != nil {
				t.Fatal(err)
			}
			got := ansi.Strip(out.String())
			if tt.rawOut && got != showMD {
				t.Errorf("stdout = %q, want the Markdown unchanged", got)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(got, w) {
					t.Errorf("stdout lacks %q:\n%s", w, got)
				}
			}
			if !tt.rawOut && strings.Contains(got, "|---|") {
				t.Errorf("stdout shows unrendered Markdown:\n%s", got)
			}
			paged, err := os.ReadFile(pagerOut)
			if tt.paged != (err == nil) {
				t.Fatalf("pager ran: %v, want %v", err == nil, tt.paged)
			}
			if tt.paged {
				if out.Len() != 0 || !strings.Contains(ansi.Strip(string(paged)), "migrated  16,587,500") {
					t.Errorf("paged %q, stdout %q: want the rendered text through the pager only", paged, out.String())
				}
			}
		})
	}
}

func TestStdoutScreenPager(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if s := stdoutScreen(&bytes.Buffer{}, getenv); s.tty || s.pager != "less -R" {
		t.Errorf("buffer: tty %v pager %q, want not a terminal, less -R", s.tty, s.pager)
	}
	env["PAGER"] = "more"
	if s := stdoutScreen(&bytes.Buffer{}, getenv); s.pager != "more" {
		t.Errorf("pager %q, want $PAGER", s.pager)
	}
}
