package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/runbook"
)

// errRefused is the journal write refusingJournal fails, as a full disk
// would.
var errRefused = errors.New("append event: commit: database or disk is full")

// refusingJournal is a real journal that fails every Append of one event
// kind: whatever the engine was about to do after journaling that event
// must then not happen. Every other write goes through.
type refusingJournal struct {
	*journal.Journal
	kind    engine.EventKind
	refused atomic.Int32
}

func (j *refusingJournal) Append(ctx context.Context, ev engine.Event) (engine.Event, error) {
	if ev.Kind == j.kind {
		j.refused.Add(1)
		return ev, errRefused
	}
	return j.Journal.Append(ctx, ev)
}

// refuse makes h's session journal through a refusingJournal of kind; the
// harness still reads the events from the real journal.
func refuse(h *rig.Harness, kind engine.EventKind) *refusingJournal {
	j := &refusingJournal{Journal: h.J, kind: kind}
	h.Cfg.Journal = j
	return j
}

// TestControlNotJournaledIsNotActedOn: an operator command (the TUI's p,
// a and b keys, the answers file's notes) whose event the journal refuses
// is not acted on: the step it came during finishes and the next one runs,
// as if the key had not been pressed.
func TestControlNotJournaledIsNotActedOn(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cmd  engine.CommandKind
		kind engine.EventKind
	}{
		{engine.CmdPause, engine.EvPause},
		{engine.CmdAbort, engine.EvAbort},
		{engine.CmdRollback, engine.EvRollbackRequest},
	} {
		t.Run(string(tt.cmd), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			release, ranB := filepath.Join(dir, "release"), filepath.Join(dir, "b-ran")
			h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: a, kind: shell, with: {run: "while [ ! -e '`+release+`' ]; do sleep 0.01; done"}}
      - {id: b, kind: shell, with: {run: "touch '`+ranB+`'"}}
`, nil)
			j := refuse(h, tt.kind)
			done := startAsync(h, "a", engine.Command{Kind: tt.cmd, Text: "operator's reason"})
			waitFor(t, "the refused "+string(tt.kind), func() bool { return j.refused.Load() == 1 })
			if err := os.WriteFile(release, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			select {
			case out := <-done:
				if out != engine.OutcomeCompleted {
					t.Errorf("outcome = %s, want completed: the %s the journal refused was acted on\n%s", out, tt.cmd, h.Dump())
				}
			case <-time.After(5 * time.Second):
				h.S.Control(engine.Command{Kind: engine.CmdContinue}) // let the session end
				<-done
				t.Fatalf("the session did not go on after the %s the journal refused\n%s", tt.cmd, h.Dump())
			}
			if _, err := os.Stat(ranB); err != nil {
				t.Errorf("b did not run after the %s the journal refused: %v", tt.cmd, err)
			}
		})
	}
}

// TestStepNotStartedInJournalDoesNotRun: a step whose step.start the
// journal refuses does nothing (no command run, no notification sent) and
// the session fails on the journal error.
func TestStepNotStartedInJournalDoesNotRun(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, step string }{
		{"shell", `{id: a, kind: shell, with: {run: "echo ran > '%s'"}}`},
		{"notify", `{id: a, kind: notify, with: {channel: file, path: "%s", template: "starting"}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			effect := filepath.Join(t.TempDir(), "effect")
			h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - `+fmt.Sprintf(tt.step, effect)+`
`, nil)
			j := refuse(h, engine.EvStepStart)
			out, err := h.Run()
			if out != engine.OutcomeFailed || !errors.Is(err, errRefused) {
				t.Errorf("Run() = %s, %v; want failed on the journal error", out, err)
			}
			if j.refused.Load() == 0 {
				t.Fatal("step.start was never appended")
			}
			if _, err := os.Stat(effect); err == nil {
				t.Errorf("step a acted (%s exists) though its step.start was not journaled", effect)
			}
		})
	}
}

// TestNotifyNotJournaledIsNotSent: a notify step whose notify event (the
// message, its channel and recipients) the journal refuses sends nothing,
// whatever its channel.
func TestNotifyNotJournaledIsNotSent(t *testing.T) {
	t.Parallel()
	for _, channel := range []string{"stdout", "file", "webhook"} {
		t.Run(channel, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				hits.Add(1)
				w.WriteHeader(http.StatusOK)
			}))
			t.Cleanup(srv.Close)
			file := filepath.Join(t.TempDir(), "announce.txt")
			h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: announce, kind: notify, with: {channel: `+channel+`, path: "`+file+`", url: "`+srv.URL+`", template: "migration starting"}}
`, nil)
			j := refuse(h, engine.EvNotify)
			if out, err := h.Run(); out != engine.OutcomeFailed || !errors.Is(err, errRefused) {
				t.Errorf("Run() = %s, %v; want failed on the journal error", out, err)
			}
			if j.refused.Load() == 0 {
				t.Fatal("no notify event was appended")
			}
			if _, err := os.Stat(file); err == nil {
				t.Errorf("%s was written though the notify event was not journaled", file)
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("the webhook got %d post(s) though the notify event was not journaled", n)
			}
			if out := h.Stdout.String(); out != "" {
				t.Errorf("stdout got %q though the notify event was not journaled", out)
			}
		})
	}
}

// TestRateNotJournaledIsNotApplied: the operator's write-rate override
// (the TUI's rate dialog) reaches the data steps only once journaled: a
// rate event the journal refuses leaves Control.Rate at no override.
func TestRateNotJournaledIsNotApplied(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps:
      - {id: a, kind: shell, with: {run: "true"}}
`, nil)
	j := refuse(h, engine.EvRate)
	var rate atomic.Int64
	kinds := engine.StepKinds{}
	for k, v := range h.Cfg.Steps {
		kinds[k] = v
	}
	kinds[runbook.KindShell] = engine.StepKind{Data: true, Executor: engine.ExecutorFunc(
		func(_ context.Context, sc *engine.StepContext) (any, error) {
			waitFor(t, "the refused rate", func() bool { return j.refused.Load() == 1 })
			rate.Store(int64(sc.Control.Rate()))
			return nil, nil
		})}
	h.Cfg.Steps = kinds
	done := startAsync(h, "a", engine.Command{Kind: engine.CmdRate, Text: "50"})
	if out := <-done; out != engine.OutcomeCompleted {
		t.Fatalf("outcome = %s, want completed\n%s", out, h.Dump())
	}
	if got := rate.Load(); got != 0 {
		t.Errorf("Control.Rate() = %d after a rate change the journal refused, want 0 (no override)", got)
	}
}
