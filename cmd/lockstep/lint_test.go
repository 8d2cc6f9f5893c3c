package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

// lintEnvRunbook warns LS401 (no window) in its protected environment only
// and suppresses LS101 with a reason.
const lintEnvRunbook = `lockstep: 1
name: env-lint
title: Env lint
version: 1
roles: {accountable: [bo]}
lint: {ignore: {LS101: "nothing moves: a note"}}
environments:
  dev: {}
  prod: {protected: true}
phases:
  - name: p
    steps:
      - {id: note, kind: manual}
`

func TestRunLint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rb.yaml")
	if err := os.WriteFile(path, []byte(lintEnvRunbook), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		opts             lintOptions
		wantCode         int // 0: no error
		wantOut, wantErr string
		notOut           string
	}{
		{"warnings exit 0", lintOptions{Files: []string{path}}, 0, "warning: LS401: protected environment \"prod\" has no window", "1 warning(s), 1 suppressed with a reason", "LS101"},
		{"unprotected env", lintOptions{Files: []string{path}, Env: "dev"}, 0, "warning: LS401", "0 error(s), 1 warning(s)", ""},
		{"protected env enforces", lintOptions{Files: []string{path}, Env: "prod"}, exitBadInput, ":9:3: LS401: protected environment", "1 error(s), 0 warning(s)", "warning:"},
		{"json has the code", lintOptions{Files: []string{path}, Env: "prod", Format: "json"}, exitBadInput, `"code": "LS401",`, "", ""},
		{"unknown env", lintOptions{Files: []string{path}, Env: "qa"}, exitBadInput, "", "", ""},
		{"explain", lintOptions{Explain: "ls203"}, 0, "LS203: a sql statement is not idempotent", "", ""},
		{"explain unknown", lintOptions{Explain: "LS999"}, exitBadInput, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, out, errOut := testFactory(nil, "u")
			opts := tt.opts
			opts.f, opts.Rules = f, runbook.DefaultRules()
			if opts.Format == "" {
				opts.Format = "text"
			}
			err := runLint(&opts)
			code := 0
			var xe *exitError
			if errors.As(err, &xe) {
				code = xe.code
			} else if err != nil {
				t.Fatalf("runLint() = %v", err)
			}
			if code != tt.wantCode {
				t.Errorf("runLint() exit %d, want %d (%v)", code, tt.wantCode, err)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, out)
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errOut)
			}
			if tt.notOut != "" && strings.Contains(out.String(), tt.notOut) {
				t.Errorf("stdout has %q:\n%s", tt.notOut, out)
			}
		})
	}
}
