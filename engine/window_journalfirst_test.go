package engine_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/runbook"
)

// refusingConfirms is a real journal that fails every confirm event of
// one kind (What), as a full disk would, and counts them.
type refusingConfirms struct {
	*journal.Journal
	what    string
	refused atomic.Int32
}

func (j *refusingConfirms) Append(ctx context.Context, ev engine.Event) (engine.Event, error) {
	if c, err := engine.DecodeAs[engine.Confirmed](ev); ev.Kind == engine.EvConfirm && err == nil && c.What == j.what {
		j.refused.Add(1)
		return ev, errRefused
	}
	return j.Journal.Append(ctx, ev)
}

// TestWindowExtensionNotJournaledDoesNotHold: the operator's reason to
// keep working past a closed change window counts only once journaled.
// When the journal refuses the extend_window confirm, the page boundary
// that asked fails, and the next one does not take the window as extended:
// it asks again, so no page is written past the window without a record
// of why.
func TestWindowExtensionNotJournaledDoesNotHold(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, `    protected: true
    window: {days: [tue, wed, thu], from: "22:00", to: "02:00", tz: Europe/Paris}`,
		`      - {id: pages, kind: shell, with: {run: "true"}}
`)
	r := rig.NewSQLite(t, rb, 10)
	cfg := rig.SQLiteSessionConfig(t, rb, filepath.Join(r.Dir, "data.db"))
	jr := cfg.Journal.(*journal.Journal)
	recordRehearsal(t, jr, rb.Name, rb.Version, rb.SHA256, engine.OutcomeCompleted)
	j := &refusingConfirms{Journal: jr, what: "extend_window"}
	clock := enginetest.NewFakeClock(paris(t, "2026-11-24 23:00"))
	prompts := rig.Answers(map[string][]rig.Reply{
		"confirm_env": {{Ans: engine.Answer{Value: "test"}}},
		"reason":      {{Ans: engine.Answer{Reason: "finish the backfill tonight"}}},
	})
	cfg.Journal, cfg.Clock, cfg.Prompter = j, clock, prompts
	// A data step's page boundaries, after the window closed.
	var boundaries []error
	kinds := engine.StepKinds{}
	for k, v := range cfg.Steps {
		kinds[k] = v
	}
	kinds[runbook.KindShell] = engine.StepKind{Data: true, Executor: engine.ExecutorFunc(
		func(ctx context.Context, sc *engine.StepContext) (any, error) {
			clock.Set(paris(t, "2026-11-25 02:00").Add(30 * time.Second))
			for range 2 {
				boundaries = append(boundaries, sc.Control.Checkpoint(ctx))
			}
			return nil, nil
		})}
	cfg.Steps = kinds

	s, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if _, err := s.Run(context.Background()); err != nil {
		t.Logf("Run: %v", err)
	}
	if len(boundaries) != 2 {
		t.Fatalf("%d page boundaries checked, want 2", len(boundaries))
	}
	if boundaries[0] == nil {
		t.Errorf("the first boundary went on past the window though its extension was not journaled")
	}
	if boundaries[1] == nil {
		t.Errorf("the second boundary went on past the window on an extension the journal refused")
	}
	if n := j.refused.Load(); n != 2 {
		t.Errorf("extend_window journaled %d time(s), want 2: each boundary asks again until the reason is on record", n)
	}
}
