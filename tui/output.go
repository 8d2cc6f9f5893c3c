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
	buf     *ring
	partial string // text after the last newline, not yet a line
	vp      viewport.Model
	offset  int // lines scrolled up from the bottom; 0 follows the tail
	width   int
	height  int
	window  []string
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

// Append adds output text; lines are split on newlines and tabs expanded.
func (o *outputPane) Append(text, stream string, st *styles) {
	text = o.partial + text
	o.partial = ""
	parts := strings.Split(text, "\n")
	if last := parts[len(parts)-1]; last != "" {
		o.partial = last
	}
	parts = parts[:len(parts)-1]
	for _, p := range parts {
		p = strings.ReplaceAll(strings.TrimRight(p, "\r"), "\t", "    ")
		p = ansi.Strip(p)
		if stream == "stderr" && st != nil && !st.noColor {
			p = st.Stderr.Render(p)
		}
		o.buf.push(p)
	}
}

// Flush turns pending partial text into a line (at the step's end).
func (o *outputPane) Flush() {
	if o.partial != "" {
		o.buf.push(o.partial)
		o.partial = ""
	}
}

// Reset clears the output (a new step started).
func (o *outputPane) Reset() {
	o.buf.reset()
	o.partial = ""
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
	if o.offset == 0 && o.partial != "" && len(o.window) < o.height {
		o.window = append(o.window, ansi.Truncate(o.partial, o.width, "…"))
	}
	o.vp.SetContentLines(o.window)
	return o.vp.View()
}
