package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

// TestWebhookErrorNeverQuotesTheURL: a webhook URL that is a secret and
// holds user:password@ must not reach the journal or the prompts in any
// form. Go's *url.Error prints it with the password as "***", which the
// whole-URL secret no longer matches.
func TestWebhookErrorNeverQuotesTheURL(t *testing.T) {
	t.Parallel()
	const hook = "http://u:p@127.0.0.1:1/services/T0/B0/XYZSECRETPATH"
	h := rig.NewHarness(t, rig.Header+`
secrets: [HOOK]
phases:
  - name: p
    steps: [{id: hook, kind: notify, with: {channel: webhook, url: "${HOOK}", template: "hi"}}]
`, rig.Answers(map[string][]rig.Reply{"hook:failed": {{Ans: engine.Answer{Action: engine.ActionAbort}}}}))
	h.Cfg.Getenv = func(k string) string {
		if k == "HOOK" {
			return hook
		}
		return ""
	}
	h.MustRun(engine.OutcomeAborted)
	end := h.EndOf("hook")
	if e, _ := end["error"].(string); !strings.Contains(e, "webhook POST "+engine.Redacted+": ") || !strings.Contains(e, "connect") {
		t.Errorf("step error = %q, want webhook POST [REDACTED]: <the connection error>", e)
	}
	for _, ev := range h.Events() {
		if strings.Contains(string(ev.Data), "XYZSECRETPATH") {
			t.Errorf("%s event holds the secret URL's path: %s", ev.Kind, ev.Data)
		}
	}
	for _, p := range h.P.Asked {
		if strings.Contains(p.Title+p.Text, "XYZSECRETPATH") {
			t.Errorf("%s prompt holds the secret URL's path: %q", p.Kind, p.Title)
		}
	}

	t.Run("a literal URL's password", func(t *testing.T) {
		h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps: [{id: hook, kind: notify, with: {channel: webhook, url: "http://bot:pa55word@127.0.0.1:1/hooks/x", template: "hi"}}]
`, rig.Answers(map[string][]rig.Reply{"hook:failed": {{Ans: engine.Answer{Action: engine.ActionAbort}}}}))
		h.MustRun(engine.OutcomeAborted)
		e, _ := h.EndOf("hook")["error"].(string)
		if strings.Contains(e, "pa55word") || !strings.Contains(e, "webhook POST http://bot:") || !strings.Contains(e, "127.0.0.1:1/hooks/x") {
			t.Errorf("step error = %q, want the URL without its password", e)
		}
	})
}

// TestRedactorURLForms: a secret URL with a password is also redacted in
// the forms Go prints it in with the password masked (url.URL.Redacted,
// net/http's "***").
func TestRedactorURLForms(t *testing.T) {
	t.Parallel()
	r := engine.NewRedactor("https://bot:s3cr3t@hooks.example/T0/B0/XYZ")
	for _, in := range []string{
		`Post "https://bot:***@hooks.example/T0/B0/XYZ": dial tcp: lookup hooks.example: no such host`,
		"https://bot:xxxxx@hooks.example/T0/B0/XYZ",
	} {
		if got := r.Redact(in); strings.Contains(got, "XYZ") {
			t.Errorf("Redact(%q) = %q, want the URL redacted", in, got)
		}
	}
}

// TestNotifyTemplateNumbers: step results reach templates as numbers that
// print as written: counts as integers (1200000, not 1.2e+06) that
// printf "%d" accepts, fractions in plain decimal.
func TestNotifyTemplateNumbers(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: count, kind: shell, with: {run: "true"}}
      - {id: say, kind: notify, with: {channel: stdout, template: '{{.Steps.count.migrated}} {{printf "%d" .Steps.count.Migrated}} {{printf "%.1f" .Steps.count.rate}} {{.Steps.count.rate}} {{.Steps.count.small}} {{if gt .Steps.count.migrated 1000}}big{{end}} {{index .Steps.count.list 0}}'}}
`, nil)
	ctx := context.Background()
	s, err := engine.Start(ctx, h.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.S = s
	// What a session that ran `count` leaves behind, then stopped.
	for _, ev := range []engine.Event{
		eventtest.Raw(engine.EvStepStart, "count", map[string]any{"kind": "shell", "attempt": 1, "phase": "p"}),
		eventtest.Raw(engine.EvStepEnd, "count", map[string]any{"status": "done", "duration_ms": 3,
			"result": map[string]any{"migrated": 1200000, "rate": 1234567.5, "small": 0.25, "list": []any{3000000}}}),
	} {
		ev.SessionID, ev.Operator = s.ID(), "alice"
		if _, err := h.J.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	cfg := h.Cfg
	cfg.Runbook = nil
	s, err = engine.Resume(ctx, cfg, s.ID())
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	h.S = s
	if out, err := s.Run(ctx); out != engine.OutcomeCompleted || err != nil {
		t.Fatalf("Run() = %q, %v\n%s", out, err, h.Dump())
	}
	if got, want := h.Stdout.String(), "1200000 1200000 1234567.5 1234567.5 0.25 big 3000000\n"; got != want {
		t.Errorf("notify printed %q, want %q", got, want)
	}
}
