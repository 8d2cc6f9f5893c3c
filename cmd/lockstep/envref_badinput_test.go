package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestUnsetEnvInStepNamesItsLine: a ${VAR} of a step's field (a webhook
// url, a shell env, a notify path) unset when the step runs fails the
// step naming the runbook line and what to do, like an unset variable of
// the store does before the session starts.
func TestUnsetEnvInStepNamesItsLine(t *testing.T) {
	tests := []struct {
		name string
		step string
	}{
		{"webhook url", `{id: hook, kind: notify, with: {channel: webhook, url: "http://127.0.0.1:1/${BI_UNSET}", to: [responsible], template: hi}}`},
		{"shell env", `{id: hook, kind: shell, with: {run: "true", env: {TOKEN: "${BI_UNSET}"}}}`},
		{"notify file", `{id: hook, kind: notify, with: {channel: file, path: "${BI_UNSET}/out.txt", to: [responsible], template: hi}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, out, errOut, err := runOneStep(t, dir, "unset env", tt.step, nil)
			if err == nil {
				t.Fatalf("the step ran with ${BI_UNSET} unset:\n%s", out)
			}
			rb := filepath.Join(dir, "rb.yaml")
			want := regexp.MustCompile(regexp.QuoteMeta(rb) + `:10:9.*unset variable BI_UNSET.*export it, then resume the session`)
			if !want.MatchString(out.String()) {
				t.Errorf("output does not match %s:\n%s%s", want, out, errOut)
			}
			if _, serr := os.Stat(filepath.Join(dir, "out.txt")); serr == nil || strings.Contains(out.String(), "✓ hook") {
				t.Errorf("the step did something")
			}
		})
	}
}
