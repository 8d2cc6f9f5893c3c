package tui

import (
	"fmt"
	"strings"

	"charm.land/glamour/v2"
	"charm.land/glamour/v2/ansi"
	gstyles "charm.land/glamour/v2/styles"
)

// markdown renders step texts with glamour, caching one render per step,
// width and background.
type markdown struct {
	cache  map[string][]string
	margin uint // columns left of the text
}

func newMarkdown(margin uint) *markdown {
	return &markdown{cache: map[string][]string{}, margin: margin}
}

// Render returns the text of step id rendered at width, as lines.
func (md *markdown) Render(id, text string, width int, st *styles) []string {
	if strings.TrimSpace(text) == "" || width < 10 {
		return nil
	}
	k := fmt.Sprintf("%s\x00%d\x00%t\x00%t", id, width, st.isDark, st.noColor)
	if lines, ok := md.cache[k]; ok {
		return lines
	}
	var out string
	r, err := glamour.NewTermRenderer(glamour.WithStyles(markdownStyle(st, md.margin)), glamour.WithWordWrap(width))
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

// markdownStyle is glamour's standard style for the background with the
// given document margin, and inline code without the padding spaces that
// doubled the spaces around it ("split ␣users.address␣ into"). Without
// color, code keeps its backticks.
func markdownStyle(st *styles, margin uint) ansi.StyleConfig {
	c := gstyles.LightStyleConfig()
	switch {
	case st.noColor:
		c = gstyles.NoTTYStyleConfig()
	case st.isDark:
		c = gstyles.DarkStyleConfig()
	}
	c.Document.Margin = &margin
	if !st.noColor {
		c.Code.Prefix, c.Code.Suffix = "", ""
	}
	return c
}
