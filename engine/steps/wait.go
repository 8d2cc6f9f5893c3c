package steps

import (
	"context"
	"fmt"
	"github.com/lockstep-run/lockstep/engine"
	"time"
)

// runWait waits for a duration, or until the environment's window opens
// (`window: true`, or no duration given). The run loop skips it in dry-run.
func runWait(ctx context.Context, sc *engine.StepContext) (any, error) {
	spec := sc.Step.Wait
	var d time.Duration
	switch {
	case spec != nil && spec.Duration > 0:
		d = spec.Duration
	case sc.Env.Window == nil:
		return nil, fmt.Errorf("wait %s: %w: no duration and environment %s has no window", sc.Step.ID, engine.ErrConfig, sc.Env.Name)
	default:
		st, err := engine.CheckWindow(sc.Env.Window, sc.Clock.Now())
		if err != nil {
			return nil, fmt.Errorf("wait %s: %w", sc.Step.ID, err)
		}
		if !st.Open {
			d = st.NextOpen.Sub(sc.Clock.Now())
		}
	}
	if d > 0 {
		if err := sc.Emit(engine.NewEvent("", engine.Output{Stream: "stdout",
			Text: fmt.Sprintf("waiting %s until %s", d.Round(time.Second), sc.Clock.Now().Add(d).Format(time.RFC3339))})); err != nil {
			return nil, err
		}
	}
	select {
	case <-sc.ClockOrSystem().After(d):
	case <-ctx.Done():
		return nil, fmt.Errorf("wait %s: %w", sc.Step.ID, context.Cause(ctx))
	}
	return map[string]any{"waited_ms": d.Milliseconds()}, nil
}
