package engine_test

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestEnvironmentCredentialsRedacted: the values of credential variables
// of the process environment (Config.Environ) are redacted from step
// output without the runbook declaring them; one too short to redact is
// journaled as a warning instead.
func TestEnvironmentCredentialsRedacted(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps: [{id: s, kind: shell, with: {run: "echo deploy dpl-xyz-123; echo '{\"token\":\"dpl-xyz-123\"}'; echo pw pg-pass-99; echo short ab"}}]
`, nil)
	h.Cfg.Environ = func() []string {
		return []string{"DEPLOY_TOKEN=dpl-xyz-123", "DATABASE_URL=postgres://app:pg-pass-99@db/x", "SHORT_TOKEN=ab", "HOME=/home/alice"}
	}
	h.MustRun(engine.OutcomeCompleted)
	out := h.Output("s")
	for _, leak := range []string{"dpl-xyz-123", "pg-pass-99"} {
		if strings.Contains(h.Dump(), leak) {
			t.Errorf("the journal holds %q:\n%s", leak, h.Dump())
		}
	}
	if !strings.Contains(out, "deploy [REDACTED]") || !strings.Contains(out, "pw [REDACTED]") || !strings.Contains(out, "short ab") {
		t.Errorf("output = %q, want the credentials redacted and the short value kept", out)
	}
	warned := false
	for _, ev := range h.Find(engine.EvWarning, "") {
		warned = warned || strings.Contains(engine.WarningText(ev), "SHORT_TOKEN look like credentials but are shorter than 4 characters")
	}
	if !warned {
		t.Errorf("no warning that SHORT_TOKEN is not redacted:\n%s", h.Dump())
	}
}
