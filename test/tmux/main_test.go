// Package tmux_test runs the real lockstep binary in a terminal (a private
// tmux server) and drives it with keys, as a person would: send-keys to
// type, capture-pane to read the screen. It imports nothing from lockstep.
package tmux_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// requireTmux skips the test when tmux is missing, unless CI=true: CI
// installs tmux, so there a missing one is a failure.
func requireTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tmux not found and CI=true (.ci/run installs it): %v", err)
		}
		t.Skip("tmux not found: install tmux to run the terminal end-to-end tests")
	}
}

// lockstepBin builds ./cmd/lockstep once per test binary and returns the
// path of the executable.
func lockstepBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			buildErr = err
			return
		}
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
			buildErr = fmt.Errorf("module root not found from the test directory: %w", err)
			return
		}
		if binDir, buildErr = os.MkdirTemp("", "lockstep-tmux-bin-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "lockstep")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/lockstep")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/lockstep: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}
