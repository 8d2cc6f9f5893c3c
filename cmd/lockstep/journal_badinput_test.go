package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJournalPathBadInput: a --journal the session cannot write to (a
// directory, a path under a regular file) is bad input: exit 2, a message
// naming the path and what to do, and nothing created next to it.
func TestJournalPathBadInput(t *testing.T) {
	tests := []struct {
		name string
		// path returns the --journal value, made in dir; <path> in want
		// stands for it.
		path func(t *testing.T, dir string) string
		want []string
	}{
		{
			name: "a directory",
			path: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "journals")
				if err := os.Mkdir(p, 0o700); err != nil {
					t.Fatal(err)
				}
				return p
			},
			want: []string{"<path> is a directory", "--journal <path>/journal.db"},
		},
		{
			name: "under a regular file",
			path: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "plain")
				if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
				return filepath.Join(p, "journal.db")
			},
			want: []string{"<path>", "not a directory", "choose a writable place with --journal or $LOCKSTEP_JOURNAL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			jpath := tt.path(t, dir)
			marker := filepath.Join(dir, "ran")
			step := `{id: touch, kind: shell, with: {run: "touch ` + marker + `"}}`
			_, out, errOut, err := runOneStep(t, dir, "journal path", step, map[string]string{"LOCKSTEP_JOURNAL": jpath})
			if got := exitCode(err); got != exitBadInput {
				t.Fatalf("exitCode = %d, want %d (err %v)\n%s%s", got, exitBadInput, err, out, errOut)
			}
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "<path>", jpath); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("the step ran without a journal")
			}
		})
	}
}

// TestJournalReadOnlyBadInput: the commands that read a journal name a
// directory given as --journal, exit 2.
func TestJournalReadOnlyBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"journal", "list"}, {"resume", "--plain"}, {"journal", "verify"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			f, _, _ := testFactory(map[string]string{"LOCKSTEP_OPERATOR": "u"}, "u")
			cmd := newRootCmd(f)
			cmd.SetArgs(append(args, "--journal", dir))
			cmd.SetOut(f.Out)
			cmd.SetErr(f.ErrOut)
			err := cmd.ExecuteContext(context.Background())
			if got := exitCode(err); got != exitBadInput {
				t.Fatalf("exitCode = %d, want %d (err %v)", got, exitBadInput, err)
			}
			if !strings.Contains(err.Error(), dir+" is a directory") {
				t.Errorf("error %q does not say %s is a directory", err, dir)
			}
		})
	}
}
