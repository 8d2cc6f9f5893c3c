package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProtocolsCommands runs `protocols show` and `protocols new` through
// the root command.
func TestProtocolsCommands(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args     []string
		wantCode int
		wantOut  []string // substrings of stdout
		file     string   // written by the command
		wantFile []string // substrings of file
	}{
		{args: []string{"protocols", "show", "dynamodb-add-attribute"}, wantOut: []string{"When:", "Risks:", "Environment:  local (dynamodb)", "backfill"}},
		{args: []string{"protocols", "show", "dynamodb-add-attribute", "--source"}, wantOut: []string{"lockstep: 1\nname: dynamodb-add-attribute\n"}},
		{args: []string{"protocols", "show", "nope"}, wantCode: 2},
		{args: []string{"protocols", "new", "orders-status", "--from", "add-attribute", "--store", "dynamodb", "-o", filepath.Join(dir, "a.yaml")},
			file: "a.yaml", wantFile: []string{"# lockstep-protocol: dynamodb-add-attribute\n", "\nname: orders-status\n", "kind: dynamodb"}},
		{args: []string{"protocols", "new", "blank", "--store", "dynamodb", "-o", filepath.Join(dir, "b.yaml")},
			file: "b.yaml", wantFile: []string{"name: blank ", "kind: dynamodb"}},
		{args: []string{"protocols", "new", "users-plan", "--from", "postgres-add-not-null-column", "--store", "postgres", "-o", filepath.Join(dir, "p.yaml")},
			file: "p.yaml", wantFile: []string{"# lockstep-protocol: postgres-add-not-null-column\n", "\nname: users-plan\n", "kind: postgres", "NOT VALID"}},
		{args: []string{"protocols", "new", "blank-pg", "--store", "postgres", "-o", filepath.Join(dir, "q.yaml")},
			file: "q.yaml", wantFile: []string{"name: blank-pg ", `kind: postgres, dsn: "${DATABASE_URL}"`}},
		{args: []string{"protocols", "show", "postgres-create-index-concurrently"}, wantOut: []string{"When:", "Risks:", "Environment:  local (postgres)", "CONCURRENTLY"}},
		{args: []string{"protocols", "new", "x", "--from", "demo", "--store", "dynamodb", "-o", filepath.Join(dir, "c.yaml")}, wantCode: 2},
		{args: []string{"protocols", "new", "x", "--store", "mongo", "-o", filepath.Join(dir, "d.yaml")}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:3], " "), func(t *testing.T) {
			f, out, _ := testFactory(nil, "u")
			cmd := newRootCmd(f)
			cmd.SetArgs(tt.args)
			err := cmd.ExecuteContext(context.Background())
			if got := exitCode(err); got != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", got, err, tt.wantCode)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q\n%s", w, out)
				}
			}
			if tt.file == "" {
				return
			}
			src, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.wantFile {
				if !strings.Contains(string(src), w) {
					t.Errorf("%s lacks %q\n%s", tt.file, w, src)
				}
			}
		})
	}
}
