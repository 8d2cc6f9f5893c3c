package engine_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

func TestShellEnvCwdAndChunking(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - id: env
        kind: shell
        with: {run: 'echo "$GREETING from $(basename "$PWD")"; echo err >&2', cwd: "`+dir+`", env: {GREETING: "hello ${WHO}"}}
      - {id: chatty, kind: shell, with: {run: "seq 1 1000"}}
`, nil)
	h.Cfg.Getenv = func(k string) string { return map[string]string{"WHO": "bob"}[k] }
	h.MustRun(engine.OutcomeCompleted)
	if got, want := h.Output("env"), "hello bob from "+filepath.Base(dir); !strings.Contains(got, want) || !strings.Contains(got, "err") {
		t.Errorf("output = %q, want it to contain %q and err", got, want)
	}
	chunks := h.Find(engine.EvOutput, "chatty")
	if len(chunks) > 1000/64+5 || len(chunks) < 1000/64 {
		t.Errorf("1000 lines gave %d step.output events, want about %d chunks", len(chunks), 1000/64+1)
	}
	lines := strings.Fields(h.Output("chatty"))
	if len(lines) != 1000 || lines[0] != "1" || lines[999] != "1000" {
		t.Errorf("chatty output has %d lines (first %q), want 1..1000 in order", len(lines), lines[0])
	}
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-Value-42"
	h := rig.NewHarness(t, rig.Header+`
secrets: [DB_PASS]
vars: {copy: ""}
phases:
  - name: p
    steps:
      - id: leak
        kind: shell
        with:
          env: {PGPASSWORD: "${DB_PASS}"}
          run: |
            echo "pw is $PGPASSWORD"
            echo "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
            echo "curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload'"
            echo "key AKIAIOSFODNN7EXAMPLE in use"
            echo "dsn host=db password=hunter22 user=app"
            echo "$PGPASSWORD" >&2
            exit 1
`, rig.Answers(map[string][]rig.Reply{"leak:failed": {{Ans: engine.Answer{Action: engine.ActionSkip, Reason: "checked"}}}}))
	h.Cfg.Getenv = func(k string) string { return map[string]string{"DB_PASS": secret}[k] }
	h.Cfg.Vars = map[string]string{"copy": "the value " + secret}
	h.MustRun(engine.OutcomeCompleted)
	leaks := []string{secret, "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY", "eyJhbGciOiJIUzI1NiJ9", "AKIAIOSFODNN7EXAMPLE", "hunter22"}
	for _, ev := range h.Events() {
		for _, l := range leaks {
			if strings.Contains(string(ev.Data), l) {
				t.Errorf("%s event leaks %q: %s", ev.Kind, l, ev.Data)
			}
		}
		if !json.Valid(ev.Data) && len(ev.Data) > 0 {
			t.Errorf("%s event data is not JSON after redaction: %s", ev.Kind, ev.Data)
		}
	}
	out := h.Output("leak")
	for _, want := range []string{"pw is [REDACTED]", "AWS_SECRET_ACCESS_KEY=[REDACTED]", "Bearer [REDACTED]", "key [REDACTED] in use", "password=[REDACTED] user=app"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRedactor(t *testing.T) {
	t.Parallel()
	r := engine.NewRedactor("tok-1234", "", "ab", `q"uote-secret`)
	tests := []struct{ in, want string }{
		{"token tok-1234 here", "token [REDACTED] here"},
		{"short ab stays", "short ab stays"},
		{`{"text":"q\"uote-secret"}`, `{"text":"[REDACTED]"}`},
		{"export API_KEY=abc123", "export API_KEY=[REDACTED]"},
		{`{"password": "pw-value"}`, `{"password": "[REDACTED]"}`},
		{"https://user:pa55@host/db", "https://user:[REDACTED]@host/db"},
		{"redis://:pa55word@cache:6379", "redis://:[REDACTED]@cache:6379"},
		{`{"SecretAccessKey": "wJalrX/K7MDENG", "SessionToken": "IQoJb3+Jp/Z2l=="}`, `{"SecretAccessKey": "[REDACTED]", "SessionToken": "[REDACTED]"}`},
		{"nothing to see", "nothing to see"},
	}
	for _, tt := range tests {
		if got := r.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestShellMissingCwd: a working directory that does not exist is named
// as such, not as "fork/exec /usr/bin/sh: no such file or directory".
func TestShellMissingCwd(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope")
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps: [{id: s, kind: shell, with: {run: "true", cwd: "`+missing+`"}}]
`, rig.Answers(map[string][]rig.Reply{"s:failed": {{Ans: engine.Answer{Action: engine.ActionSkip, Reason: "checked"}}}}))
	h.MustRun(engine.OutcomeCompleted)
	var end struct{ Error string }
	_ = h.Find(engine.EvStepEnd, "s")[0].Decode(&end)
	if want := "cwd " + missing + " is not a directory"; !strings.Contains(end.Error, want) {
		t.Errorf("step.end error = %q, want %q", end.Error, want)
	}
}
