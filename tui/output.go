package tui

import (
	"strings"

	"charm.land/bubbles/v2/viewport"
	"github.com/charmbracelet/x/ansi"
)

// defaultOutputLines bounds the live output kept in memory.
const defaultOutputLines = 10000

// ring is a bounded buffer of output lines: the oldest are dropped.
type ring struct {
	lines []string
	start int // index of the oldest line once full
	n     int
}

func newRing(capacity int) *ring { return &ring{lines: make([]string, capacity)} }

func (r *ring) push(line string) {
	c := len(r.lines)
	if r.n < c {
		r.lines[(r.start+r.n)%c] = line
		r.n++
		return
	}
	r.lines[r.start] = line
	r.start = (r.start + 1) % c
}

func (r *ring) len() int { return r.n }

// at returns the i-th oldest line kept.
func (r *ring) at(i int) string { return r.lines[(r.start+i)%len(r.lines)] }

func (r *ring) reset() { r.start, r.n = 0, 0 }

// outputPane shows the tail (or a scrolled window) of a step's live output.
// Only the visible window is handed to the viewport, so rendering costs the
// same with ten lines or a hundred thousand.
type outputPane struct {
	buf    *ring
	vp     viewport.Model
	offset int // lines scrolled up from the bottom; 0 follows the tail
	width  int
	height int
	window []string
}

func newOutputPane(capacity int) outputPane {
	return outputPane{buf: newRing(capacity), vp: viewport.New()}
}

// SetSize sets the pane's size in cells.
func (o *outputPane) SetSize(w, h int) {
	o.width, o.height = max(w, 0), max(h, 0)
	o.vp.SetWidth(o.width)
	o.vp.SetHeight(o.height)
}

// Append adds the lines of one step.output event. The engine sends whole
// lines, joined by newlines with no trailing one (a chunk of a stream, a
// "would run" line), so every event starts a new line: its last line is
// never glued to the next event's first (tui/plain reads them the same
// way). A trailing newline, as the TUI's own records carry, ends the last
// line; tabs are expanded and terminal sequences dropped.
func (o *outputPane) Append(text, stream string, st *styles) {
	text = strings.TrimSuffix(text, "\n")
	for _, p := range strings.Split(text, "\n") {
		p = strings.ReplaceAll(strings.TrimRight(p, "\r"), "\t", "    ")
		p = ansi.Strip(p)
		if stream == "stderr" && st != nil && !st.noColor {
			p = st.Stderr.Render(p)
		}
		o.buf.push(p)
	}
}

// Reset clears the output (a new step started).
func (o *outputPane) Reset() {
	o.buf.reset()
	o.offset = 0
}

// Len is the number of lines kept.
func (o *outputPane) Len() int { return o.buf.len() }

// Scroll moves the window up (n > 0) or down (n < 0); 0 lines from the bottom
// follows the tail again.
func (o *outputPane) Scroll(n int) {
	maxOff := max(o.buf.len()-o.height, 0)
	o.offset = min(max(o.offset+n, 0), maxOff)
}

// Following reports whether the pane follows the tail.
func (o *outputPane) Following() bool { return o.offset == 0 }

// View renders exactly height lines of at most width cells.
func (o *outputPane) View() string {
	if o.height <= 0 || o.width <= 0 {
		return ""
	}
	n := o.buf.len()
	end := n - o.offset
	start := max(end-o.height, 0)
	o.window = o.window[:0]
	for i := start; i < end; i++ {
		o.window = append(o.window, ansi.Truncate(o.buf.at(i), o.width, "…"))
	}
	o.vp.SetContentLines(o.window)
	return o.vp.View()
}
