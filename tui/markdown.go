package tui

import (
	"fmt"
	"strings"

	"charm.land/glamour/v2"
	gstyles "charm.land/glamour/v2/styles"
)

// markdown renders step texts with glamour, caching one render per step,
// width and background.
type markdown struct {
	cache map[string][]string
}

func newMarkdown() *markdown { return &markdown{cache: map[string][]string{}} }

// Render returns the text of step id rendered at width, as lines.
func (md *markdown) Render(id, text string, width int, st *styles) []string {
	if strings.TrimSpace(text) == "" || width < 10 {
		return nil
	}
	k := fmt.Sprintf("%s\x00%d\x00%t\x00%t", id, width, st.isDark, st.noColor)
	if lines, ok := md.cache[k]; ok {
		return lines
	}
	style := gstyles.LightStyle
	switch {
	case st.noColor:
		style = gstyles.NoTTYStyle
	case st.isDark:
		style = gstyles.DarkStyle
	}
	var out string
	r, err := glamour.NewTermRenderer(glamour.WithStandardStyle(style), glamour.WithWordWrap(width))
	if err == nil {
		out, err = r.Render(text)
	}
	if err != nil {
		out = text
	}
	lines := strings.Split(strings.Trim(out, "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	md.cache[k] = lines
	return lines
}
