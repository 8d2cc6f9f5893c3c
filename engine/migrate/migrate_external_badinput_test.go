package migrate_test

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestMigrateExternalTransformBadOutput: a transform that prints lines
// that are not JSON items fails the step with a message naming the line,
// showing its start and saying what the command must print — not the
// "signal: killed" of lockstep stopping it — and writes nothing.
func TestMigrateExternalTransformBadOutput(t *testing.T) {
	tests := []struct {
		name   string
		script string // run with sh -c as the transform
		want   []string
	}{
		{"not JSON", `sed -u 's/^/garbage /'`, []string{"output line 1 is not a JSON item", `"garbage {`}},
		{"a JSON array", `sed -u 's/^.*$/[1, 2]/'`, []string{"output line 1 is not a JSON item", "not a JSON object", `"[1, 2]"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rb := rig.DataRunbook(t, 4, "", `      - id: ext
        kind: migrate
        with:
          transform: [sh, -c, "`+tt.script+`"]
          batch_size: 25
`)
			r := rig.NewSQLite(t, rb, 50)
			_, err := r.Run(r.StepContext("ext"))
			if err == nil {
				t.Fatal("migrate succeeded with a transform printing no JSON items")
			}
			msg := err.Error()
			for _, w := range append(tt.want, "print exactly one JSON object per input line") {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "signal: killed") {
				t.Errorf("error %q blames a kill that lockstep did", msg)
			}
			for id, it := range r.All() {
				if rig.AttrNum(it, "v") == 4 {
					t.Fatalf("item %s written: %v", id, it)
				}
			}
		})
	}
}
