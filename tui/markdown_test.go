package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestMarkdownWithoutHighlighter checks the parts of step texts the
// trimmed renderer (third_party/glamour: no chroma, no bluemonday) handles
// itself: code blocks keep their text, inline and block HTML lose their
// tags but keep their text, script content is dropped.
func TestMarkdownWithoutHighlighter(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
		absent     []string
	}{
		{"fenced code", "Run:\n\n```sql\nUPDATE users SET v = 2 WHERE id < 10;\n```\n", []string{"UPDATE users SET v = 2 WHERE id < 10;"}, nil},
		{"inline html", "Press <kbd>y</kbd> &amp; wait.", []string{"Press y & wait."}, []string{"<kbd>"}},
		{"html block", "<div>Check <b>the dashboard</b> first</div>\n\nThen go.", []string{"Check the dashboard first", "Then go."}, []string{"<b>", "<div>"}},
		{"script dropped", "<script>alert(1)</script>\n\nSafe text.", []string{"Safe text."}, []string{"alert"}},
	}
	for _, dark := range []bool{false, true} {
		for _, noColor := range []bool{false, true} {
			st := newStyles(dark, noColor)
			for _, tc := range tests {
				lines := newMarkdown(0).Render("x", tc.text, 80, &st)
				got := ansi.Strip(strings.Join(lines, "\n"))
				for _, w := range tc.want {
					if !strings.Contains(got, w) {
						t.Errorf("%s (dark %t, no color %t): %q missing from\n%s", tc.name, dark, noColor, w, got)
					}
				}
				for _, a := range tc.absent {
					if strings.Contains(got, a) {
						t.Errorf("%s (dark %t, no color %t): %q left in\n%s", tc.name, dark, noColor, a, got)
					}
				}
			}
		}
	}
}
