// Package svgterm renders a terminal screen, as `tmux capture-pane -e`
// prints it (text with SGR escape sequences), to an SVG image: the README's
// picture of the demo is a real capture, not a drawing. It imports only the
// standard library and charmbracelet/x/ansi (for cell widths).
package svgterm

import (
	"strconv"
	"strings"
)

// Style is the look of a run of cells: colours as #rrggbb ("" = the
// terminal's default), bold, faint and reverse video.
type Style struct {
	FG, BG               string
	Bold, Faint, Reverse bool
}

// Span is a run of text in one style starting at column Col.
type Span struct {
	Col   int
	Text  string
	Style Style
}

// Parse splits a capture into lines of styled spans. It understands SGR
// sequences (ESC [ … m): reset, bold, faint, reverse, the 8/16 colours,
// 256-colour and 24-bit colours, and default colours; other escape
// sequences are dropped. The style carries across lines, as in the
// terminal.
func Parse(capture string) [][]Span {
	var lines [][]Span
	var st Style
	for _, line := range strings.Split(strings.TrimRight(capture, "\n"), "\n") {
		var spans []Span
		var text strings.Builder
		col := 0
		flush := func() {
			if text.Len() == 0 {
				return
			}
			s := text.String()
			spans = append(spans, Span{Col: col, Text: s, Style: st})
			col += width(s)
			text.Reset()
		}
		for i := 0; i < len(line); i++ {
			if line[i] != 0x1b {
				text.WriteByte(line[i])
				continue
			}
			end, params, final := escape(line, i)
			if final == 'm' {
				flush()
				st = apply(st, params)
			}
			i = end
		}
		flush()
		lines = append(lines, spans)
	}
	return lines
}

// escape reads the escape sequence starting at line[i] and returns the
// index of its last byte, its parameters and its final byte (0 when it is
// not a CSI sequence).
func escape(line string, i int) (end int, params string, final byte) {
	if i+1 >= len(line) || line[i+1] != '[' {
		return min(i+1, len(line)-1), "", 0
	}
	for j := i + 2; j < len(line); j++ {
		if c := line[j]; c >= 0x40 && c <= 0x7e {
			return j, line[i+2 : j], c
		}
	}
	return len(line) - 1, "", 0
}

// apply changes st by the SGR parameters params ("1;38;5;196").
func apply(st Style, params string) Style {
	if params == "" {
		return Style{}
	}
	ps := strings.Split(params, ";")
	num := func(k int) int {
		if k >= len(ps) {
			return -1
		}
		n, err := strconv.Atoi(ps[k])
		if err != nil {
			return -1
		}
		return n
	}
	for k := 0; k < len(ps); k++ {
		switch n := num(k); {
		case n == 0:
			st = Style{}
		case n == 1:
			st.Bold = true
		case n == 2:
			st.Faint = true
		case n == 7:
			st.Reverse = true
		case n == 22:
			st.Bold, st.Faint = false, false
		case n == 27:
			st.Reverse = false
		case n >= 30 && n <= 37:
			st.FG = palette16[n-30]
		case n >= 90 && n <= 97:
			st.FG = palette16[n-90+8]
		case n >= 40 && n <= 47:
			st.BG = palette16[n-40]
		case n >= 100 && n <= 107:
			st.BG = palette16[n-100+8]
		case n == 39:
			st.FG = ""
		case n == 49:
			st.BG = ""
		case n == 38 || n == 48:
			c, used := extended(num, k+1)
			if n == 38 {
				st.FG = c
			} else {
				st.BG = c
			}
			k += used
		}
	}
	return st
}

// extended reads a 256-colour (5;N) or 24-bit (2;R;G;B) colour starting at
// parameter k and returns it and how many parameters it used.
func extended(num func(int) int, k int) (string, int) {
	switch num(k) {
	case 5:
		n := num(k + 1)
		if n < 0 || n > 255 {
			return "", 2
		}
		return color256(n), 2
	case 2:
		r, g, b := num(k+1), num(k+2), num(k+3)
		if r < 0 || g < 0 || b < 0 {
			return "", 4
		}
		return hex(r, g, b), 4
	}
	return "", 0
}
