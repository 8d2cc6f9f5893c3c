package plain_test

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/tui/plain"
)

// TestParseAnswersSyntaxLine: a YAML syntax error of an answers file names
// the line of the construct left open (a flow collection's, a block
// mapping's first line), not the line above it as the YAML library counts,
// and says what to check.
func TestParseAnswersSyntaxLine(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"flow mapping left open", "read-plan: {check: all}\npick: {choice: a, reason: x\n", `a.yaml:2:1: yaml: did not find expected ',' or '}'`},
		{"flow sequence left open", "read-plan: {check: all}\n\nck: {check: [1, 2}\n", `a.yaml:3:1: yaml: did not find expected ',' or ']'`},
		{"quote closed too early", "pick:\n  choice: a\n  reason: \"the \"best\" one\"\n", `a.yaml:2:1: yaml: did not find expected key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := plain.ParseAnswers("a.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("ParseAnswers succeeded, want an error")
			}
			if got := err.Error(); !strings.HasPrefix(got, tt.want) || !strings.Contains(got, "check the quotes, brackets and indentation") {
				t.Errorf("ParseAnswers() = %q, want %q with a hint", got, tt.want)
			}
		})
	}
}
