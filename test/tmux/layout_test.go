package tmux_test

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

var clockRe = regexp.MustCompile(`⏱ \d+:\d\d:\d\d$`)

// check80x24 resizes the terminal to 80×24 and checks that the runner
// fits: header, body and footer on 24 lines, none wider than 80 cells
// (capture-pane -J joins a line the terminal had to wrap), the panes'
// separator in one column, the prompt still in view, the footer offering
// key (a label such as "q quit"). Then it resizes back to 100×30.
func (d *driver) check80x24(key string) {
	tm := d.tm
	title := tm.last.promptTitle()
	tm.resize(80, 24)
	s := tm.waitUntil("the runner to fit 80×24", promptTimeout, func(s screen) string {
		return misfit(s, 80, 24, title, key)
	})
	tm.logf("80×24 fits; footer: %q", strings.TrimSpace(s.footer()))
	tm.resize(100, 30)
	tm.waitUntil("the runner to redraw at 100×30", promptTimeout, func(s screen) string {
		if utf8.RuneCountInString(strings.TrimRight(s.header(), " ")) <= 80 {
			return "the header is not wider than 80 cells yet"
		}
		return misfit(s, 100, 30, title, "")
	})
}

// misfit says what is wrong with s as a width×height runner screen ("" when
// nothing): title is the prompt that must stay in view, key a label the
// footer must offer ("" for none).
func misfit(s screen, width, height int, title, key string) string {
	switch {
	case len(s.lines) != height:
		return fmt.Sprintf("%d lines, want %d", len(s.lines), height)
	case s.width() > width:
		return fmt.Sprintf("a line is %d cells wide, want at most %d", s.width(), width)
	case !clockRe.MatchString(strings.TrimRight(s.header(), " ")):
		return "the header does not end with the elapsed clock"
	case !strings.Contains(s.header(), operator):
		return "the header does not name the operator"
	case s.footerIndex() != height-1:
		return fmt.Sprintf("the footer is on line %d, want %d", s.footerIndex()+1, height)
	case key != "" && !strings.Contains(s.footer(), key):
		return fmt.Sprintf("the footer does not offer %q", key)
	case title != "" && s.promptTitle() != title:
		return fmt.Sprintf("the prompt %q is not in view", title)
	}
	col := -1
	for i, l := range s.body() {
		c := strings.Index(l, sep)
		if c < 0 {
			return fmt.Sprintf("line %d has no pane separator", i+2)
		}
		c = utf8.RuneCountInString(l[:c])
		if col >= 0 && c != col {
			return fmt.Sprintf("the pane separator moves from column %d to %d on line %d", col+1, c+1, i+2)
		}
		col = c
	}
	return ""
}
