package engine_test

import (
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

func TestCleanText(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", "tick 1\ttab\nnext", "tick 1\ttab\nnext"},
		{"unicode", "café ✓ 日本", "café ✓ 日本"},
		{"colour", "\x1b[31mred\x1b[0m text", "red text"},
		{"clear screen and home", "before\x1b[2J\x1b[Hafter", "beforeafter"},
		{"window title (OSC, BEL)", "a\x1b]0;PWNED\x07b", "ab"},
		{"OSC with ST", "a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"},
		{"two-byte escape", "a\x1bcb", "ab"},
		{"unterminated CSI", "a\x1b[31", "a"},
		{"lone ESC at end", "a\x1b", "a"},
		{"carriage return and bell", "50%\r100%\a", "50%\uFFFD100%\uFFFD"},
		{"C1 control", "a\u009bb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := engine.CleanText(tt.in); got != tt.want {
				t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
