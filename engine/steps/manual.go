package steps

import (
	"context"
	"errors"
	"fmt"
	"github.com/lockstep-run/lockstep/engine"
	"slices"
	"sync"
)

// runManual shows the step's text. With a checklist, every item must be
// ticked (each tick journaled as check.tick before it counts); without
// one, the operator acknowledges. Same in every mode.
func runManual(ctx context.Context, sc *engine.StepContext) (any, error) {
	if len(sc.Step.Checklist) == 0 {
		_, err := askValid(ctx, sc, engine.Prompt{
			Kind: engine.PromptManual, Title: sc.Step.ID, Text: sc.Step.Text, Key: sc.Step.ID + ".confirm",
		}, func(a engine.Answer) string {
			if !a.Confirm {
				return "acknowledge when done"
			}
			return ""
		})
		if err != nil {
			return nil, fmt.Errorf("manual %s: %w", sc.Step.ID, err)
		}
		return map[string]any{"acknowledged": true}, nil
	}
	ticked := make([]bool, len(sc.Step.Checklist))
	count := 0
	if sc.Attempt > 1 || sc.Resumed {
		count = priorTicks(ctx, sc, ticked)
	}
	// tick journals the items of checked not journaled yet, in order. It
	// runs on the prompt's goroutine (the answer) and on the control
	// goroutine (CmdCheck, one tick as the operator ticks it).
	var mu sync.Mutex
	closed := false
	tick := func(checked []int) error {
		mu.Lock()
		defer mu.Unlock()
		for _, i := range checked {
			if closed || i < 0 || i >= len(ticked) || ticked[i] {
				continue
			}
			if err := sc.Emit(engine.NewEvent("", engine.CheckTicked{Index: i, Item: sc.Step.Checklist[i]})); err != nil {
				return err
			}
			ticked[i] = true
			count++
		}
		return nil
	}
	if w, ok := sc.Control.(engine.ChecklistWatcher); ok {
		stop := w.WatchChecklist(sc.Step.ID, func(i int) error { return tick([]int{i}) })
		defer func() {
			stop()
			mu.Lock()
			closed = true // a tick still queued must not follow step.end
			mu.Unlock()
		}()
	}
	ans, err := askValid(ctx, sc, engine.Prompt{
		Kind: engine.PromptChecklist, Title: sc.Step.ID, Text: sc.Step.Text,
		Checklist: sc.Step.Checklist, Key: sc.Step.ID + ".check",
	}, func(a engine.Answer) string {
		if err := tick(a.Checked); err != nil {
			return "journal tick: " + err.Error()
		}
		mu.Lock()
		defer mu.Unlock()
		if count < len(ticked) {
			return fmt.Sprintf("%d of %d items ticked: tick them all", count, len(ticked))
		}
		return ""
	})
	if err != nil {
		// A skip or a quit may carry the items ticked so far: they were
		// done, so they are journaled before the skip or the stop is.
		if tErr := tick(ans.Checked); tErr != nil {
			err = errors.Join(err, tErr)
		}
		return nil, fmt.Errorf("checklist %s: %w", sc.Step.ID, err)
	}
	return map[string]any{"checked": slices.Clone(sc.Step.Checklist)}, nil
}

// priorTicks marks in ticked the items of the step already journaled in
// this session (by an attempt that was interrupted) and returns how many.
func priorTicks(ctx context.Context, sc *engine.StepContext, ticked []bool) int {
	if sc.Journal == nil {
		return 0
	}
	evs, err := sc.Journal.Events(ctx, sc.Session.ID)
	if err != nil {
		return 0 // ticking again journals the items again: harmless
	}
	n := 0
	for _, ev := range evs {
		if ev.Kind != engine.EvCheck || ev.Step != sc.Step.ID {
			continue
		}
		d, err := engine.DecodeAs[engine.CheckTicked](ev)
		if err == nil && d.Index >= 0 && d.Index < len(ticked) && !ticked[d.Index] {
			ticked[d.Index] = true
			n++
		}
	}
	return n
}
