package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunVarMustBeDeclared: --var may only set a var the runbook declares
// (expressions and templates are checked against the declared ones); an
// undeclared name exits 2 before any journal is opened, naming them.
func TestRunVarMustBeDeclared(t *testing.T) {
	const step = `{id: say, kind: notify, with: {channel: stdout, template: "banner={{.Vars.banner}}"}}`
	tests := []struct {
		name     string
		vars     string // the runbook's vars: line
		args     []string
		wantCode int
		wantErr  string // in the error
		wantOut  string // in stdout
	}{
		{"declared", "vars: {banner: hello}", []string{"--var", "banner=yo"}, 0, "", "banner=yo"},
		{"default", "vars: {banner: hello}", nil, 0, "", "banner=hello"},
		{"typo", "vars: {banner: hello}", []string{"--var", "bannr=typo"}, 2,
			`--var: unknown var "bannr": runbook t does not declare it (did you mean banner? declared vars: banner)`, ""},
		{"unrelated", "vars: {banner: hello, owner: me}", []string{"--var", "banner=x", "--var", "zzz=1"}, 2,
			`--var: unknown var "zzz": runbook t does not declare it (declared vars: banner, owner)`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := "lockstep: 1\nname: t\ntitle: T\nversion: 1\nroles: {responsible: [u]}\nenvironments: {box: {}}\n" +
				tt.vars + "\nphases:\n  - name: p\n    steps:\n      - " + step + "\n"
			rb := filepath.Join(dir, "rb.yaml")
			writeTestFile(t, rb, src)
			jpath := filepath.Join(dir, "journal.db")
			out, errOut, err := execCmd(map[string]string{"LOCKSTEP_JOURNAL": jpath},
				append([]string{"run", rb, "--env", "box", "--plain", "--yes"}, tt.args...)...)
			if got := exitCode(err); got != tt.wantCode {
				t.Fatalf("exit = %d (%v), want %d\n%s\n%s", got, err, tt.wantCode, out, errOut)
			}
			if tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
			if _, err := os.Stat(jpath); tt.wantCode == 2 && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Stat(journal) = %v, want no journal opened", err)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout does not hold %q:\n%s", tt.wantOut, out)
			}
		})
	}
}
