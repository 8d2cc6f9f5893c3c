// Package tmux_test runs the real lockstep binary in a terminal (a private
// tmux server) and drives it with keys, as a person would: send-keys to
// type, capture-pane to read the screen. It imports nothing from lockstep
// but internal/testbin, which builds the binary.
package tmux_test

import (
	"os"
	"testing"

	"github.com/lockstep-run/lockstep/internal/testbin"
)

// binary is the lockstep binary under test, built by the first test that
// needs it (none when tmux is missing or with -short).
var binary = testbin.New("tmux")

func TestMain(m *testing.M) {
	code := m.Run()
	binary.Remove()
	os.Exit(code)
}
