package engine_test

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestNotifyTemplateOutputCapped: a template whose output runs away (here
// about 3 MB; the reported one wrote 200 MB to the journal in two minutes)
// stops at the cap. The step fails naming itself and the template's
// position; nothing of the output reaches the journal or the channel.
func TestNotifyTemplateOutputCapped(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: bomb, kind: notify, with: {channel: stdout, template: '{{range 3}}{{printf "%0999999d" 1}}{{end}}'}}
`, rig.Answers(map[string][]rig.Reply{"bomb:failed": {{Ans: engine.Answer{Action: engine.ActionAbort}}}}))
	h.MustRun(engine.OutcomeAborted)

	e, _ := h.EndOf("bomb")["error"].(string)
	for _, want := range []string{"notify bomb", "test.yaml:15:68", "1 MiB"} {
		if !strings.Contains(e, want) {
			t.Errorf("step error = %q, want it to name %q", e, want)
		}
	}
	if n := h.Stdout.Len(); n != 0 {
		t.Errorf("stdout channel got %d bytes, want none", n)
	}
	total := 0
	for _, ev := range h.Events() {
		total += len(ev.Data)
	}
	if total > 64<<10 {
		t.Errorf("journal events hold %d bytes, want the runaway output kept out (< 64 KiB)", total)
	}
}
