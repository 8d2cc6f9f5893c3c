package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestRunErrorIsRedacted: the error Run returns (the CLI prints it as
// "lockstep: …") may quote a secret, here through a `when:` that cannot
// evaluate the var holding it. Its text is redacted, and it still is what
// it wraps for errors.Is and errors.As.
func TestRunErrorIsRedacted(t *testing.T) {
	t.Parallel()
	const secret = "tk-5ecr3t-value"
	h := rig.NewHarness(t, rig.Header+`
secrets: [TENANT_KEY]
vars: {tenant: none}
phases:
  - name: p
    steps:
      - {id: a, kind: shell, with: {run: "true"}, when: 'int(vars.tenant) > 1'}
`, nil)
	h.Cfg.Getenv = func(k string) string {
		if k == "TENANT_KEY" {
			return secret
		}
		return ""
	}
	h.Cfg.Vars = map[string]string{"tenant": secret}
	out, err := h.Run()
	if out != engine.OutcomeFailed || err == nil {
		t.Fatalf("Run() = %q, %v; want failed with an error", out, err)
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), engine.Redacted) {
		t.Errorf("Run() error = %q, want the secret redacted", err)
	}

	t.Run("sentinels still match", func(t *testing.T) {
		h := rig.NewHarness(t, rig.Header+`
secrets: [TENANT_KEY]
phases:
  - name: p
    steps: [{id: "`+secret+`", kind: manual, checklist: [ready]}]
`, nil)
		h.Cfg.Getenv = func(k string) string { return map[string]string{"TENANT_KEY": secret}[k] }
		out, err := h.Run()
		var miss *engine.MissingAnswerError
		if out != engine.OutcomeStopped || !errors.Is(err, engine.ErrNoAnswer) || !errors.As(err, &miss) {
			t.Fatalf("Run() = %q, %v; want stopped, a *MissingAnswerError", out, err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Run() error = %q, want the secret redacted", err)
		}
	})
}
