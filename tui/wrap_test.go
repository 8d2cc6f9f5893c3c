package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestWrap: lines break at spaces only, ids stay whole, nothing is lost
// and no line is wider than asked.
func TestWrap(t *testing.T) {
	tests := []struct {
		s      string
		w      int
		indent string
		want   []string
	}{
		{"Type drop-address to run it", 16, "", []string{"Type", "drop-address to", "run it"}},
		{"Resume with: lockstep resume 20261124-013202-fc24c2b4", 40, "  ", []string{"Resume with: lockstep resume", "  20261124-013202-fc24c2b4"}},
		{"› [ ] short", 40, "    ", []string{"› [ ] short"}},
		{"abcdefghij", 4, "", []string{"abcd", "efgh", "ij"}},
		{"", 10, "", []string{""}},
	}
	for _, tt := range tests {
		got := wrap(tt.s, tt.w, tt.indent)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.s, tt.w, got, tt.want)
		}
		for _, l := range got {
			if ansi.StringWidth(l) > tt.w {
				t.Errorf("wrap(%q, %d): line %q too wide", tt.s, tt.w, l)
			}
		}
	}
}
