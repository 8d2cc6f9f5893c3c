package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The journal fixture testdata/events-v1.db was written by lockstep before
// event payloads had Go types (issue #11), from testdata/events-v1.yaml
// (answers in events-v1-answers.yaml; FX_TOKEN=ab for the short-secret
// warnings) and testdata/events-v1-fail.yaml, both run with --plain
// --operator fx-op. Its goldens were produced by that same code: old
// journals must show, export and verify byte for byte as they did.
const (
	fixtureDone   = "20261207-010108-deb56b6c" // migrate, decision, approval, note, warnings, notify, skip
	fixtureFailed = "20261207-010118-f0c126de" // a failed shell step, stderr output
)

func TestJournalFixtureReadsUnchanged(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"show", []string{"journal", "show", fixtureDone}},
		{"show_json", []string{"journal", "show", fixtureDone, "--format", "json"}},
		{"export_md", []string{"journal", "export", fixtureDone, "--format", "md"}},
		{"export_json", []string{"journal", "export", fixtureDone, "--format", "json"}},
		{"show_failed", []string{"journal", "show", fixtureFailed}},
		{"export_json_failed", []string{"journal", "export", fixtureFailed, "--format", "json"}},
		{"verify", []string{"journal", "verify"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"LOCKSTEP_JOURNAL": copyFixture(t, "events-v1.db")}
			out, errOut, err := execCmd(env, tt.args...)
			if err != nil {
				t.Fatalf("%v = %v\n%s", tt.args, err, errOut)
			}
			golden := filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+".golden")
			if cliDocUpdating() {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("%v output differs from %s\ngot:\n%s", tt.args, golden, got)
			}
		})
	}
}

// copyFixture copies testdata/name into a fresh directory, so opening it
// (WAL files, lock directory) leaves the committed file untouched.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
