package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRelativePathsThroughVars: a step path that starts with ${VAR} and
// expands to a relative path follows the runbook's directory, as a literal
// one does, whatever the working directory: shell cwd and notify file.
func TestRelativePathsThroughVars(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, step, want string }{
		{"shell cwd", `{id: s, kind: shell, with: {run: "echo here > out.txt", cwd: "${SUB}"}}`, "sub/out.txt"},
		{"notify file", `{id: n, kind: notify, with: {channel: file, path: "${SUB}/announce.txt", template: "hello"}}`, "sub/announce.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, out, errOut, err := runOneStep(t, dir, "rel", tt.step, map[string]string{"SUB": "sub"})
			if err != nil {
				t.Fatalf("run: %v\n%s%s", err, out, errOut)
			}
			if _, err := os.Stat(filepath.Join(dir, tt.want)); err != nil {
				t.Errorf("%s not written next to the runbook: %v", tt.want, err)
			}
		})
	}
}
