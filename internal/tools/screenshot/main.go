// Command screenshot renders a real tmux capture of `lockstep demo` to an
// SVG (make screenshot writes docs/demo.svg, the README's picture). It
// starts a private tmux server with one 100×30 pane, runs the demo in a
// temporary directory, waits until the first prompt is drawn, captures the
// pane with its colours and kills the server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/internal/svgterm"
)

const cols, rows = 100, 30

func main() {
	bin := flag.String("bin", "bin/lockstep", "the lockstep binary")
	out := flag.String("o", "docs/demo.svg", "the SVG to write")
	wait := flag.String("wait", "enter", "capture once the footer shows this text")
	flag.Parse()
	if err := run(*bin, *out, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "screenshot:", err)
		os.Exit(1)
	}
}

func run(bin, out, wait string) error {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return fmt.Errorf("binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "lsshot-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	socket := fmt.Sprintf("lockstep-shot-%d", os.Getpid())
	tmux := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "tmux", append([]string{"-u", "-L", socket, "-f", "/dev/null"}, args...)...)
		cmd.Env = append(os.Environ(), "TMUX_TMPDIR="+dir, "TMUX=")
		b, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("tmux %s: %w: %s", args[0], err, b)
		}
		return string(b), nil
	}
	demo := fmt.Sprintf("cd %s && %s demo --dir demo", dir, abs)
	if _, err := tmux("new-session", "-d", "-s", "shot", "-x", fmt.Sprint(cols), "-y", fmt.Sprint(rows),
		"env", "-i", "PATH="+os.Getenv("PATH"), "TERM=xterm-256color", "LANG=C.UTF-8", "HOME="+dir,
		"LOCKSTEP_OPERATOR=alice", "sh", "-c", demo); err != nil {
		return err
	}
	defer tmux("kill-server")
	deadline := time.Now().Add(30 * time.Second)
	for {
		plain, err := tmux("capture-pane", "-p", "-t", "shot")
		if err != nil {
			return err
		}
		lines := strings.Split(strings.TrimRight(plain, "\n"), "\n")
		if len(lines) > 0 && strings.Contains(lines[len(lines)-1], wait) {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the demo did not show its first prompt within 30s:\n" + plain)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the prompt's first frame settles
	capture, err := tmux("capture-pane", "-p", "-e", "-t", "shot")
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	if err := svgterm.SVG(f, svgterm.Parse(capture), cols, rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
