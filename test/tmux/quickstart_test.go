package tmux_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

// printedCommand matches a command lockstep prints for the operator to run
// next: an indented line that starts with the binary's path, up to an
// optional trailing "# comment".
var printedCommand = regexp.MustCompile(`(?m)^\s+(\S*lockstep (?:resume|journal)\b[^#\n]*?)\s*(?:#.*)?$`)

// TestQuickstartInTmux follows the README's quickstart on a fresh checkout
// (a directory holding only bin/lockstep, as `make demo` builds it), as a
// newcomer would: `make demo` runs bin/lockstep demo in the TUI; the
// newcomer quits during the migrate, runs the resume command the terminal
// shows, then every command the demo printed (journal show, verify, the
// browser). Each must succeed as printed, from the same directory.
func TestQuickstartInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds lockstep and walks the whole demo in tmux")
	}
	testbin.LookPath(t, "tmux") // skips without tmux, fails under CI=true
	root := t.TempDir()
	checkout := filepath.Join(root, "lockstep")
	installBinary(t, binary.Path(t), filepath.Join(checkout, "bin", "lockstep"))
	env := []string{
		"TERM=xterm-256color", "LANG=C.UTF-8", "LOCKSTEP_OPERATOR=" + operator,
		"HOME=" + root, "XDG_STATE_HOME=" + filepath.Join(root, "state"),
		"PAGER=cat", // journal show pages through $PAGER on a terminal
	}
	tm := newTerm(t, 100, 30, env)
	d := &driver{tm: tm, run: "demo"}
	d.shell("cd " + testbin.ShellQuote(checkout) + " && ./bin/lockstep demo") // what make demo runs
	if d.drive(func() bool { return d.quitStep != "" }); d.quitStep == "" {
		tm.fatalf("the demo ended without a migrate step to quit in")
	}
	printed := printedCommands(tm.capture().text())
	var resume string
	var review []string
	for _, c := range printed {
		if strings.Contains(c, " resume ") {
			resume = c
		} else {
			review = append(review, c)
		}
	}
	if resume == "" || len(review) < 3 {
		tm.fatalf("after q the terminal shows %q; want a resume command and the demo's three review commands", printed)
	}

	// The resume command, as printed, to the end.
	clearScreen(tm)
	d.run = "resume"
	d.shell(resume)
	if line := outcomeLine(d.drive(func() bool { return false })); !strings.Contains(line, "Session completed") {
		tm.fatalf("the resumed session ended with %q, want Session completed", line)
	}
	tm.press("Enter", "any key")
	if code, _ := d.waitExit(); code != 0 {
		tm.fatalf("%s exited %d, want 0", resume, code)
	}

	// Every review command the demo printed, as printed.
	for i, c := range review {
		clearScreen(tm)
		d.run = fmt.Sprintf("review%d", i)
		d.shell(c)
		if strings.HasSuffix(strings.TrimSpace(c), "journal.db") && !strings.Contains(c, " show ") && !strings.Contains(c, " verify") {
			// The journal browser: it lists the session; q leaves it.
			tm.waitText("Journal", promptTimeout)
			tm.press("q", "q quit")
		}
		code, s := d.waitExit()
		if code != 0 {
			tm.fatalf("%s exited %d, want 0", c, code)
		}
		if strings.Contains(c, " show ") && !s.contains("— done") {
			tm.fatalf("%s does not end with the session's steps done", c)
		}
	}
}

// clearScreen clears the terminal and waits for the bare prompt, so that
// the next command is typed to a shell that is reading: keys typed while
// clear still runs are echoed by the terminal, then wiped, and the
// command's own output can land after the prompt.
func clearScreen(tm *term) {
	tm.typeText("clear")
	tm.tmux("send-keys", "-t", tm.target, "Enter")
	tm.waitFor("the cleared screen's prompt", promptTimeout, func(s screen) bool { return strings.TrimSpace(s.text()) == "$" })
}

// printedCommands lists the commands text shows for the operator to run.
func printedCommands(text string) []string {
	var out []string
	for _, m := range printedCommand.FindAllStringSubmatch(text, -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	return out
}

// installBinary copies the built binary to path, as make build leaves it.
func installBinary(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
