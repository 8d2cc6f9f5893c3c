package engine_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestPromptsAreRedacted: a failed step's cause (here an external
// transform's stderr) may quote a secret. The journal copy is redacted;
// so must be the prompt the front end prints, whatever its field.
func TestPromptsAreRedacted(t *testing.T) {
	t.Parallel()
	const secret = "supersecret123"
	steps := `      - {id: mig, kind: migrate, with: {transform: [sh, -c, "echo auth failed with key ` + secret + ` >&2; exit 1"]}}
`
	rb := rig.DataRunbook(t, 2, "secrets: [API_TOKEN]", steps)
	r := rig.NewSQLite(t, rb, 3)
	cfg := rig.SQLiteSessionConfig(t, rb, filepath.Join(r.Dir, "data.db"))
	cfg.Getenv = func(k string) string {
		if k == "API_TOKEN" {
			return secret
		}
		return ""
	}
	// The first answer is refused (no reason for the skip): the re-ask's
	// Retry line is redacted too.
	p := rig.Answers(map[string][]rig.Reply{"mig:failed": {
		{Ans: engine.Answer{Action: engine.ActionSkip}},
		{Ans: engine.Answer{Action: engine.ActionAbort}},
	}})
	cfg.Prompter = p
	s, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := s.Run(context.Background()); out != engine.OutcomeAborted || err != nil {
		t.Fatalf("Run() = %q, %v; want aborted", out, err)
	}
	var failed []engine.Prompt
	for _, pr := range p.Asked {
		if pr.Kind == engine.PromptFailed {
			failed = append(failed, pr)
		}
	}
	if len(failed) != 2 {
		t.Fatalf("failed prompts = %d, want 2 (%v)", len(failed), p.Kinds())
	}
	if !strings.Contains(failed[0].Title, "auth failed with key "+engine.Redacted) {
		t.Errorf("failed prompt title = %q, want the cause with the secret redacted", failed[0].Title)
	}
	for _, pr := range failed {
		for field, v := range map[string]string{"Title": pr.Title, "Text": pr.Text, "Retry": pr.Retry} {
			if strings.Contains(v, secret) {
				t.Errorf("prompt %s = %q: the secret reaches the front end", field, v)
			}
		}
	}
}

// TestShortSecretIsWarned: a secret too short to redact is journaled as a
// warning when the session starts, so nobody believes it was hidden.
func TestShortSecretIsWarned(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
secrets: [PIN]
phases:
  - name: p
    steps: [{id: s, kind: shell, with: {run: "true"}}]
`, nil)
	h.Cfg.Getenv = func(k string) string { return map[string]string{"PIN": "123"}[k] }
	h.MustRun(engine.OutcomeCompleted)
	warned := false
	for _, ev := range h.Find(engine.EvWarning, "") {
		warned = warned || strings.Contains(engine.WarningText(ev), "secret PIN is shorter than 4 characters")
	}
	if !warned {
		t.Error("no warning that secret PIN is not redacted")
	}
}
