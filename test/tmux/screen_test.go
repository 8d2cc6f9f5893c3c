package tmux_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// screen is one capture of the pane, read the way an operator reads the
// runner: header on the first line, footer (key help) on the last, the
// steps left of "│" and the current step right of it.
type screen struct {
	lines []string
}

func parseScreen(text string) screen {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	return screen{lines: lines}
}

func (s screen) text() string { return strings.Join(s.lines, "\n") }

func (s screen) contains(sub string) bool { return strings.Contains(s.text(), sub) }

// hasLine reports whether some line reads exactly line (trailing blanks ignored).
func (s screen) hasLine(line string) bool {
	for _, l := range s.lines {
		if strings.TrimRight(l, " ") == line {
			return true
		}
	}
	return false
}

func (s screen) header() string {
	if len(s.lines) == 0 {
		return ""
	}
	return s.lines[0]
}

// footerIndex is the index of the last non-blank line.
func (s screen) footerIndex() int {
	for i := len(s.lines) - 1; i >= 0; i-- {
		if strings.TrimSpace(s.lines[i]) != "" {
			return i
		}
	}
	return -1
}

func (s screen) footer() string {
	if i := s.footerIndex(); i >= 0 {
		return s.lines[i]
	}
	return ""
}

const sep = "│"

// body is the lines between the header and the footer.
func (s screen) body() []string {
	end := s.footerIndex()
	if end < 1 {
		return nil
	}
	return s.lines[1:end]
}

// rightPane is the step pane: the body right of the separator.
func (s screen) rightPane() []string {
	var out []string
	for _, l := range s.body() {
		if _, r, ok := strings.Cut(l, sep); ok {
			out = append(out, strings.TrimRight(strings.TrimPrefix(r, " "), " "))
		}
	}
	return out
}

// leftPane is the steps pane: the body left of the separator.
func (s screen) leftPane() []string {
	var out []string
	for _, l := range s.body() {
		if left, _, ok := strings.Cut(l, sep); ok {
			out = append(out, strings.TrimRight(left, " "))
		}
	}
	return out
}

// rightLine returns the first step-pane line that starts with prefix.
func (s screen) rightLine(prefix string) (string, bool) {
	for _, l := range s.rightPane() {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			return strings.TrimSpace(l), true
		}
	}
	return "", false
}

var stepLineRe = regexp.MustCompile(`^(\S+) · (\S+) · ([a-z-]+)`)

// step reads the step pane's title line: "backfill · migrate · running".
func (s screen) step() (id, kind, status string) {
	if r := s.rightPane(); len(r) > 0 {
		if m := stepLineRe.FindStringSubmatch(r[0]); m != nil {
			return m[1], m[2], m[3]
		}
	}
	return "", "", ""
}

// glyph is the state glyph of step id in the steps pane ("" when the step
// is not shown): ○ pending, ✓ done, ↷ skipped, ⏸ paused, ! interrupted…
func (s screen) glyph(id string) string {
	for _, l := range s.leftPane() {
		f := strings.Fields(l)
		if len(f) >= 2 && f[1] == id {
			return f[0]
		}
	}
	return ""
}

// paused reports the header's pause badge.
func (s screen) paused() bool { return strings.Contains(s.header(), "PAUSED") }

// promptTitle is the title of the prompt in play ("" when none).
func (s screen) promptTitle() string {
	l, _ := s.rightLine("▶ ")
	return l
}

// item is one checklist line of the prompt in play.
type item struct {
	text          string
	ticked, under bool // ticked; under the cursor
}

var itemRe = regexp.MustCompile(`^(› )?\s*\[( |✓)\] (.+)$`)

// checklist reads the checklist of the prompt in play.
func (s screen) checklist() []item {
	var items []item
	inPrompt := false
	for _, l := range s.rightPane() {
		if strings.HasPrefix(l, "▶ ") {
			inPrompt = true
			continue
		}
		if m := itemRe.FindStringSubmatch(l); inPrompt && m != nil {
			items = append(items, item{text: m[3], ticked: m[2] == "✓", under: m[1] != ""})
		}
	}
	return items
}

// choices reads the choices of a decision prompt and which one is selected.
func (s screen) choices() (choices []string, selected int) {
	inPrompt := false
	for _, l := range s.rightPane() {
		switch {
		case strings.HasPrefix(l, "▶ "):
			inPrompt = true
		case !inPrompt:
		case strings.HasPrefix(l, "rationale:"):
			return choices, selected
		case strings.HasPrefix(l, "› "):
			selected = len(choices)
			choices = append(choices, strings.TrimPrefix(l, "› "))
		case strings.HasPrefix(l, "  "):
			choices = append(choices, strings.TrimSpace(l))
		}
	}
	return choices, selected
}

var progressRe = regexp.MustCompile(`([\d,]+)/([\d,]+) items`)

// migrated reads a migrate step's progress ("26,500/100,000 items").
func (s screen) migrated() (done int, ok bool) {
	for _, l := range s.rightPane() {
		if m := progressRe.FindStringSubmatch(l); m != nil {
			n, err := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
			return n, err == nil
		}
	}
	return 0, false
}

// Prompt kinds, read from the footer's key help and the step pane.
const (
	kindEnded       = "ended"
	kindChecklist   = "checklist"
	kindDecision    = "decision"
	kindApproval    = "approval"
	kindInterrupted = "interrupted"
	kindFailed      = "failed"
	kindReason      = "reason"
	kindConfirmEnv  = "confirm-env"
	kindDestructive = "destructive"
	kindManual      = "manual"
	kindRunning     = "running" // no prompt: a step runs or the session holds
)

// promptKind says what the screen asks of the operator.
func (s screen) promptKind() string {
	f := s.footer()
	has := func(prefix string) bool { _, ok := s.rightLine(prefix); return ok }
	switch {
	case strings.Contains(f, "keys wait a moment"):
		return "" // a new prompt ignores keys for a moment: wait
	case strings.Contains(f, "any key"):
		return kindEnded
	case strings.Contains(f, "esc back"):
		return kindReason
	case strings.Contains(f, "space tick"):
		return kindChecklist
	case strings.Contains(f, "tab next field"):
		return kindApproval
	case strings.Contains(f, "d mark done"):
		return kindInterrupted
	case strings.Contains(f, "r retry"):
		return kindFailed
	case has("rationale:"):
		return kindDecision
	case has("environment:"):
		return kindConfirmEnv
	case has("This step is destructive"):
		return kindDestructive
	case has("Press enter when done"):
		return kindManual
	case strings.Contains(f, "p pause"), strings.Contains(f, "p resume"):
		return kindRunning
	}
	return ""
}

// state is what the driver acts on; two captures with the same state are
// a settled screen.
func (s screen) state() string {
	id, kind, status := s.step()
	return fmt.Sprint(s.promptKind(), "|", id, "|", kind, "|", status, "|", s.promptTitle(), "|", s.paused())
}

// width is the widest line in cells (every glyph lockstep draws is one cell).
func (s screen) width() int {
	w := 0
	for _, l := range s.lines {
		w = max(w, utf8.RuneCountInString(l))
	}
	return w
}

// dump frames the screen with line numbers for a failure message.
func (s screen) dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- last screen (%d lines, widest %d) ---\n", len(s.lines), s.width())
	for i, l := range s.lines {
		fmt.Fprintf(&b, "%2d|%s\n", i+1, l)
	}
	b.WriteString("---")
	return b.String()
}
