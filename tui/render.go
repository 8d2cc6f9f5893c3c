package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// RenderTimeline renders a session timeline's Markdown (timeline.Timeline's
// WriteMarkdown) for a terminal width cells wide, as `journal show` and
// the journal browser show it: step results as aligned tables with human
// figures, colour unless NO_COLOR asks for none. Each line fits width.
func RenderTimeline(md string, width int) string {
	st := newStyles(true, noColorEnv())
	lines := newMarkdown(0).Render("timeline", humaniseTimeline(md), max(width, 20), &st)
	for i, l := range lines {
		if ansi.StringWidth(l) > width {
			lines[i] = ansi.Truncate(l, width, "…")
		}
	}
	return strings.Join(lines, "\n") + "\n"
}
