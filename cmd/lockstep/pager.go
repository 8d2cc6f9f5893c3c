package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/term"

	"github.com/lockstep-run/lockstep/tui"
)

// defaultPager pages text taller than the terminal when $PAGER is unset;
// -R lets the colours through.
const defaultPager = "less -R"

// screen is what a command knows of the terminal its stdout is: tty is
// false when stdout is a pipe or a file.
type screen struct {
	tty           bool
	width, height int
	pager         string // $PAGER, else defaultPager
	stdout        io.Writer
}

// stdoutScreen describes w, the command's stdout, with getenv's $PAGER.
func stdoutScreen(w io.Writer, getenv func(string) string) screen {
	s := screen{stdout: w, pager: getenv("PAGER")}
	if s.pager == "" {
		s.pager = defaultPager
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return s
	}
	s.tty = true
	s.width, s.height, _ = term.GetSize(int(f.Fd()))
	return s
}

// showMarkdown writes a timeline's Markdown: as is when stdout is not a
// terminal (a file or a pipe keeps the Markdown), rendered for the
// terminal otherwise, through the pager when taller than the screen.
func showMarkdown(s screen, md []byte) error {
	if !s.tty {
		_, err := s.stdout.Write(md)
		return err
	}
	width := s.width
	if width <= 0 {
		width = 80
	}
	out := tui.RenderTimeline(string(md), width)
	if s.height <= 0 || strings.Count(out, "\n") < s.height {
		_, err := io.WriteString(s.stdout, out)
		return err
	}
	return page(s, out)
}

// page runs the pager (a shell command line, as git runs $PAGER) on text.
// A pager that cannot start leaves the text printed whole.
func page(s screen, text string) error {
	cmd := exec.Command("sh", "-c", s.pager)
	cmd.Stdin = bytes.NewBufferString(text)
	cmd.Stdout, cmd.Stderr = s.stdout, os.Stderr
	cmd.Env = os.Environ()
	if os.Getenv("LESS") == "" { // as git does: colours through, no screen clear
		cmd.Env = append(cmd.Env, "LESS=FRX")
	}
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); ok {
			return nil // the pager ran; q or a signal ends it
		}
		if _, werr := io.WriteString(s.stdout, text); werr != nil {
			return fmt.Errorf("show timeline: %w", werr)
		}
	}
	return nil
}
