package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// probeMigrateTime is how long the estimate runs the migrate step's own
// pages: long enough for a few pages per segment and for the in-flight
// limit to settle, short enough for an estimate.
const probeMigrateTime = 3 * time.Second

// Probe paths, in ProbeResult.Path.
const (
	ProbePushdown   = "pushdown"    // one guarded UPDATE per page, rolled back
	ProbePerRow     = "per row"     // migrate's per-row writes, rolled back
	ProbeRefused    = "refused"     // migrate's writes with a guard that cannot hold
	ProbeSingleRows = "single rows" // the generic probe: refused one-item writes
)

// errProbeHeld stops a probe whose impossible condition held.
var errProbeHeld = errors.New("probe: an impossible condition held")

// measureWrites measures the write path: with the runbook's migrate step
// when it can (probeMigrate), else with refused one-item writes
// (probeWriteRate), and then says in ProbeResult.Fallback why.
// The result's unprobed is set when there is a migrate step the probe
// could not run: the estimate then warns that its figure is not that
// step's.
func measureWrites(ctx context.Context, sc *engine.StepContext, st engine.Store, key []string) (*ProbeResult, error) {
	step := probedStep(sc)
	why := "there is no migrate step it can run in-process (an external transform, a fleet or a copy into another table runs elsewhere)"
	if step != nil {
		res, stepWhy, err := probeMigrate(ctx, sc, st, step)
		if stepWhy == "" || err != nil {
			return res, err
		}
		why = stepWhy
	}
	res, err := probeWriteRate(ctx, sc, st, key)
	if res != nil {
		res.Fallback, res.unprobed = why, step != nil
	}
	return res, err
}

// probeMigrate runs the runbook's migrate step the way it will run, for
// probeMigrateTime, and keeps nothing: the same segments, page size,
// write concurrency, rate limit and path (pushdown or per row), from the
// start of the table. On a SQL store (engine.WriteRollbacker) every page's
// transaction rolls back instead of committing; on a store of one-item
// conditional writes (DynamoDB) each write carries migrate's guard and a
// version no item has, so the store evaluates it and refuses it, and a
// refusal counts as the write. Its rate is the items it would have
// migrated per second. step is probedStep's. why says, when not empty,
// why the step cannot be probed so: a store that batches writes without
// rollback, nothing to migrate at the start of the table, or writes that
// all failed (typically attributes an expand step adds later).
func probeMigrate(ctx context.Context, sc *engine.StepContext, st engine.Store, step *runbook.Step) (res *ProbeResult, why string, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	path, probed := ProbePerRow, st
	switch {
	case isRollbacker(st):
		ctx = engine.WithRolledBackWrites(ctx)
		if _, pd := st.(engine.Pushdowner); pd {
			path = "" // told by the migrator's choice below
		}
	case isBatching(st):
		return nil, fmt.Sprintf("the store batches migrate step %s's writes and cannot roll them back", step.ID), nil
	default:
		path, probed = ProbeRefused, refusedWrites{Store: st, held: func() { cancel(errProbeHeld) }}
	}
	psc := *sc
	psc.Step, psc.Rollback, psc.Of, psc.Resumed, psc.Attempt = step, false, nil, false, 1
	var failed probeFailure
	psc.Journal, psc.Progress, psc.Ask = nil, nil, nil // no event or question; checkpoints below
	psc.Emit = failed.keep                             // nothing journaled: the first item failure is kept for the reason
	psc.Store = func(context.Context) (engine.Store, error) { return probed, nil }
	m, err := newMigrator(ctx, &psc)
	if err != nil {
		return nil, "", fmt.Errorf("probe %s: %w", step.ID, err)
	}
	m.lineTimeout = DefaultTransformLineTimeout
	if cp, ok := sc.Journal.(engine.CheckpointProber); ok {
		// Each page's write-ahead checkpoint, paid and not kept.
		m.sink = func(ctx context.Context, seg int, cursor []byte, data checkpointData) error {
			return cp.ProbeCheckpoint(ctx, sc.Session.ID, step.ID, seg, cursor, data)
		}
	}
	if path == "" {
		path = ProbePerRow
		if m.pushdown.tr != nil {
			path = ProbePushdown
		}
	}
	start := time.Now()
	done := make(chan struct{})
	steady := make(chan probeWindow, 1)
	go func() { steady <- m.watchProbe(start, done) }()
	_, runErr := m.run(ctx)
	close(done)
	el := time.Since(start)
	win := <-steady
	if errors.Is(context.Cause(ctx), errProbeHeld) {
		return nil, "", errProbeHeld
	}
	if runErr != nil && !errors.Is(runErr, ErrItemsLeft) && !errors.Is(runErr, ErrErrorBudget) {
		return nil, "", fmt.Errorf("probe %s: %w", step.ID, runErr)
	}
	t := m.totals()
	res = &ProbeResult{Writes: t.Migrated, Throttles: t.Throttles, ElapsedMS: el.Milliseconds(),
		Workers: len(m.segs) * writeWorkers, Step: step.ID, Segments: len(m.segs), BatchSize: m.batchSize(),
		Path: path, Scanned: t.Scanned}
	if t.Migrated == 0 {
		if t.Failures > 0 {
			return nil, fmt.Sprintf("all %d writes of migrate step %s failed (first: %s)", t.Failures, step.ID, failed.first), nil
		}
		return nil, fmt.Sprintf("migrate step %s found nothing to migrate at the start of the table", step.ID), nil
	}
	res.Rate = round1(float64(t.Migrated) / el.Seconds())
	if r := win.rate(); r > 0 {
		res.Rate = round1(r)
	}
	return res, "", nil
}

// probeFailure keeps the error of the first item the probe failed (the
// migrator emits its events one at a time).
type probeFailure struct{ first string }

func (f *probeFailure) keep(ev engine.Event) error {
	if ev.Kind != engine.EvWarning || f.first != "" {
		return nil
	}
	if w, err := engine.DecodeAs[engine.Warning](ev); err == nil && w.Error != "" {
		f.first, _, _ = strings.Cut(w.Error, "\n")
	}
	return nil
}

// Probe sampling: how often the probe reads the migrator's counts, and
// the least steady window it trusts.
const (
	probeSampleEvery = 20 * time.Millisecond
	probeMinWindow   = 300 * time.Millisecond
)

// probeWindow is the probe's steady state: the items migrated between two
// moments a write (a page, on the pushdown path) completed, and the time
// between them. It starts at the first completion after the probe's first
// third — past what a long migration pays once: the first pages' scans
// before any write, the in-flight limit's slow start, a server warming up
// — and ends at the last completion before the probe stopped the
// segments, leaving out the tail where they finish their last pages one
// by one.
type probeWindow struct {
	items int64
	span  time.Duration
}

func (w probeWindow) rate() float64 {
	if w.items <= 0 || w.span < probeMinWindow {
		return 0
	}
	return float64(w.items) / w.span.Seconds()
}

// probeSample is the migrated count at one moment of the probe.
type probeSample struct {
	at time.Time
	n  int64
}

// steadyWindow picks the window from samples (one per change of the
// count): from the first change at or after from, else from the first
// change, to the last one.
func steadyWindow(samples []probeSample, from time.Time) probeWindow {
	if len(samples) < 2 {
		return probeWindow{}
	}
	last := samples[len(samples)-1]
	first := samples[0]
	for _, s := range samples {
		if !s.at.Before(from) {
			if w := (probeWindow{items: last.n - s.n, span: last.at.Sub(s.at)}); w.rate() > 0 {
				return w
			}
			break
		}
	}
	return probeWindow{items: last.n - first.n, span: last.at.Sub(first.at)}
}

// watchProbe stops the migrator after probeMigrateTime (each segment
// ends after its page in flight) and returns the steady window it saw.
func (m *migrator) watchProbe(start time.Time, done <-chan struct{}) probeWindow {
	tick := time.NewTicker(probeSampleEvery)
	defer tick.Stop()
	var samples []probeSample
	for {
		select {
		case <-done:
			return steadyWindow(samples, start.Add(probeMigrateTime/3))
		case now := <-tick.C:
			if n := m.totals().Migrated; n > 0 && (len(samples) == 0 || n > samples[len(samples)-1].n) {
				samples = append(samples, probeSample{at: now, n: n})
			}
			if now.Sub(start) >= probeMigrateTime {
				m.stop.Store(true)
				<-done
				return steadyWindow(samples, start.Add(probeMigrateTime/3))
			}
		}
	}
}

// probedStep is the forward migrate step the estimate is for: the first
// after the estimate step in run order, else the first of the runbook;
// nil when there is none that runs in-process without the operator's
// command. A copy into another table (into:) writes through another path
// than the one the probe rolls back or refuses: it keeps the old probe.
func probedStep(sc *engine.StepContext) *runbook.Step {
	if sc.Runbook == nil || sc.Env != nil && sc.Env.Fleet != nil {
		return nil
	}
	var first, after *runbook.Step
	seen := sc.Step == nil
	for _, s := range sc.Runbook.Steps() {
		if sc.Step != nil && s.ID == sc.Step.ID {
			seen = true
		}
		spec := s.Migrate
		if s.Kind != runbook.KindMigrate || spec == nil || spec.Contract() || len(spec.Transform) > 0 || spec.Fleet != nil || spec.Into != nil {
			continue
		}
		if first == nil {
			first = s
		}
		if seen && after == nil {
			after = s
		}
	}
	if after != nil {
		return after
	}
	return first
}

func isRollbacker(st engine.Store) bool { _, ok := st.(engine.WriteRollbacker); return ok }

func isBatching(st engine.Store) bool {
	_, b := st.(engine.BatchUpdater)
	_, p := st.(engine.Pushdowner)
	return b || p
}

// refusedWrites is a store whose engine.Update sends the write with its guard
// and a version no item has: the store evaluates the whole condition and
// refuses it, and the refusal is reported as done. It keeps the store's
// migrate defaults and hides its other capabilities.
type refusedWrites struct {
	engine.Store
	held func() // called if a write was not refused: stops the probe
}

var _ engine.MigrateTuner = refusedWrites{}

// MigrateDefaults implements engine.MigrateTuner with the store's defaults.
func (r refusedWrites) MigrateDefaults() engine.MigrateDefaults {
	if t, ok := r.Store.(engine.MigrateTuner); ok {
		return t.MigrateDefaults()
	}
	return engine.MigrateDefaults{}
}

// Update implements engine.Store.
func (r refusedWrites) Update(ctx context.Context, u engine.Update) error {
	u.Guard.Equals = probeImpossble
	err := r.Store.Update(ctx, u)
	switch {
	case err == nil:
		r.held()
		return errProbeHeld
	case errors.Is(err, engine.ErrConditionFailed):
		return nil
	}
	return err
}

// Put implements Store: the probe puts nothing.
func (r refusedWrites) Put(context.Context, []engine.Item) error {
	return errors.New("probe: put refused")
}
