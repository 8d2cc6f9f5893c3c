package fleet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/runbook"
)

// LaunchFunc starts the workers of a fleet (or prints how to) and returns
// what it started.
type LaunchFunc func(ctx context.Context, sc *engine.StepContext, spec *runbook.FleetSpec, rec Record) (Workers, error)

// Workers is what a launcher started in this process.
type Workers struct {
	// Stop stops them when the step ends (nil: nothing to stop).
	Stop func()
	// Gone is closed once every one of them has stopped for good, its
	// restarts spent (nil: the workers run elsewhere, as AWS Batch or
	// Kubernetes jobs, and the session follows the segments alone).
	Gone <-chan struct{}
}

// Executor is the migrate executor of a session: a step with a fleet
// (runbook.FleetOf) in a live or rehearsal run goes to workers through
// the control table; any other (dry run, rollback, no fleet) runs
// locally.
type Executor struct {
	Local  engine.Executor
	Open   func(ctx context.Context, sc *engine.StepContext, spec *runbook.FleetSpec) (Control, error)
	Launch LaunchFunc
	// Poll is how often the session reads the control table (0: 1s).
	Poll time.Duration
}

// ID is the fleet id of a step's run in a session: SESSION-STEP-N, N
// counting the step's fresh starts in the journal (sc.Attempt without
// one). A resumed step is not a fresh start: it continues its fleet; a
// retry is, and reads the table again with a new fleet.
func ID(ctx context.Context, sc *engine.StepContext) (string, error) {
	n := max(1, sc.Attempt)
	if sc.Journal != nil {
		evs, err := sc.Journal.Events(ctx, sc.Session.ID)
		if err != nil {
			return "", fmt.Errorf("migrate %s: read journal: %w", sc.Step.ID, err)
		}
		n = 0
		for _, ev := range evs {
			if ev.Kind != engine.EvStepStart || ev.Step != sc.Step.ID {
				continue
			}
			if p, err := engine.DecodeAs[engine.StepStarted](ev); err == nil && !p.Resumed && p.RollbackOf == "" {
				n++
			}
		}
		n = max(1, n)
	}
	return fmt.Sprintf("%s-%s-%d", sc.Session.ID, sc.Step.ID, n), nil
}

// Execute runs the step.
func (e Executor) Execute(ctx context.Context, sc *engine.StepContext) (any, error) {
	spec := runbook.FleetOf(sc.Step, sc.Env)
	if spec == nil || sc.Mode == engine.ModeDryRun || sc.Rollback {
		return e.Local.Execute(ctx, sc)
	}
	ctl, err := e.Open(ctx, sc, spec)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: fleet control table: %w", sc.Step.ID, err)
	}
	id, err := ID(ctx, sc)
	if err != nil {
		return nil, err
	}
	rec, err := e.record(sc, spec, id)
	if err != nil {
		return nil, err
	}
	if err := ctl.Create(ctx, rec); errors.Is(err, ErrExists) {
		// A resumed session continues its fleet.
		if rec, err = ctl.Record(ctx, rec.ID); err == nil && rec.SHA256 != sc.Runbook.SHA256 {
			err = fmt.Errorf("fleet %s was started with runbook %s, this session has %s: %w", rec.ID, rec.SHA256, sc.Runbook.SHA256, ErrRunbookChanged)
		}
		if err != nil {
			return nil, fmt.Errorf("migrate %s: %w", sc.Step.ID, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", sc.Step.ID, err)
	}
	if err := sc.EmitOutput(fmt.Sprintf("fleet %s: %d segments in control table %s, %d %s workers, lease %s",
		rec.ID, rec.Segments, spec.Table, spec.Workers, spec.Launcher, spec.Lease)); err != nil {
		return nil, err
	}
	ws, err := e.Launch(ctx, sc, spec, rec)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: launch %s workers: %w", sc.Step.ID, spec.Launcher, err)
	}
	if ws.Stop != nil {
		defer ws.Stop()
	}
	w := &watch{sc: sc, ctl: ctl, rec: rec, poll: cmp.Or(e.Poll, time.Second), started: time.Now(), census: newCensus(rec.Lease), gone: ws.Gone}
	return w.run(ctx)
}

// record is the fleet record of the step.
func (e Executor) record(sc *engine.StepContext, spec *runbook.FleetSpec, id string) (Record, error) {
	var exprEnv []byte
	if sc.ExprEnv != nil {
		var err error
		if exprEnv, err = json.Marshal(sc.ExprEnv()); err != nil {
			return Record{}, fmt.Errorf("migrate %s: fleet expression environment: %w", sc.Step.ID, err)
		}
	}
	rate := 0
	if sc.Control != nil {
		rate = sc.Control.Rate()
	}
	if rate == 0 && sc.Env != nil {
		rate = sc.Env.MaxWriteRate
	}
	return Record{ID: id, Runbook: sc.Runbook.Source, SHA256: sc.Runbook.SHA256, Path: sc.Runbook.Path,
		Step: sc.Step.ID, Env: sc.Env.Name, Session: sc.Session.ID, Mode: string(sc.Mode), ExprEnv: exprEnv,
		Segments: spec.Segments, Workers: spec.Workers, Lease: spec.Lease, Created: sc.ClockOrSystem().Now(),
		Flags: Flags{Rate: rate}}, nil
}

// watch follows a fleet from the session: progress, controls, and one
// journal event per finished segment.
type watch struct {
	sc       *engine.StepContext
	ctl      Control
	rec      Record
	poll     time.Duration
	started  time.Time
	reported map[int]bool
	flags    Flags
	total    int64
	census   *census
	gone     <-chan struct{} // Workers.Gone
	ended    bool            // gone was closed: the next read is the last
}

func (w *watch) run(ctx context.Context) (any, error) {
	if err := w.restore(ctx); err != nil {
		return nil, err
	}
	w.flags = w.rec.Flags
	if st, err := w.sc.EnvStore(ctx); err == nil {
		if c, ok := st.(engine.Counter); ok {
			if info, err := c.DescribeCount(ctx); err == nil {
				w.total = info.ItemCount
			}
		}
	}
	op := newOperator(ctx, w.sc.Control, w.poll)
	defer op.stop()
	clock := w.sc.ClockOrSystem()
	for {
		segs, err := w.ctl.Segments(ctx, w.rec.ID)
		if err != nil {
			return nil, fmt.Errorf("migrate %s: %w", w.sc.Step.ID, err)
		}
		if len(segs) != w.rec.Segments { // never a step done with segments never created
			return nil, fmt.Errorf("migrate %s: fleet %s has %d of its %d segment rows in the control table: %w",
				w.sc.Step.ID, w.rec.ID, len(segs), w.rec.Segments, ErrIncomplete)
		}
		left, err := w.collect(segs)
		if err != nil {
			return nil, err
		}
		if left == 0 {
			return w.result(segs)
		}
		want, opErr := w.flags, op.state()
		want.Paused = errors.Is(opErr, errBlocked) || errors.Is(opErr, engine.ErrPaused)
		want.Cancelled = errors.Is(opErr, engine.ErrAborted)
		if w.sc.Control != nil && w.sc.Control.Rate() > 0 {
			want.Rate = w.sc.Control.Rate()
		}
		if want != w.flags {
			if err := w.ctl.SetFlags(ctx, w.rec.ID, want); err != nil {
				return nil, fmt.Errorf("migrate %s: %w", w.sc.Step.ID, err)
			}
			w.flags = want
		}
		if opErr != nil && !errors.Is(opErr, errBlocked) {
			return w.result(segs) // aborted, or paused then quit: the workers stop before their next page
		}
		if w.ended {
			return nil, fmt.Errorf("migrate %s: fleet %s: every worker this session launched has stopped for good (restarts spent) with %d segments not done; read their logs, fix the cause and resume the session to launch them again: %w",
				w.sc.Step.ID, w.rec.ID, left, ErrWorkersGone)
		}
		if w.sc.Progress != nil {
			p := w.progress(segs)
			w.census.count(&p, segs, clock.Now())
			w.sc.Progress(engine.NewEvent(w.sc.Step.ID, p))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-w.gone:
			// Read the segments once more: the last worker may have
			// finished the last segment just before it exited.
			w.ended, w.gone = true, nil
		case <-clock.After(w.poll):
		}
	}
}

// restore finds the segments a resumed session already journaled.
func (w *watch) restore(ctx context.Context) error {
	w.reported = map[int]bool{}
	if !w.sc.Resumed || w.sc.Journal == nil {
		return nil
	}
	evs, err := w.sc.Journal.Events(ctx, w.sc.Session.ID)
	if err != nil {
		return fmt.Errorf("migrate %s: read journal: %w", w.sc.Step.ID, err)
	}
	for _, ev := range evs {
		if ev.Kind != engine.EvFleetSegment || ev.Step != w.sc.Step.ID {
			continue
		}
		if p, err := engine.DecodeAs[engine.FleetSegment](ev); err == nil && p.Fleet == w.rec.ID {
			w.reported[p.Segment] = true
		}
	}
	return nil
}

// collect journals each newly finished segment once and returns how
// many are not finished.
func (w *watch) collect(segs []Segment) (left int, err error) {
	for _, s := range segs {
		if s.State != StateDone && s.State != StateFailed {
			left++
			continue
		}
		if w.reported[s.N] {
			continue
		}
		ev := engine.FleetSegment{MigrateCounts: s.Counts, Fleet: w.rec.ID, Segment: s.N, State: s.State,
			Worker: s.Owner, Claim: s.Claim, Error: s.Error}
		if err := w.sc.Emit(engine.NewEvent(w.sc.Step.ID, ev)); err != nil {
			return left, err
		}
		w.reported[s.N] = true
	}
	return left, nil
}

func sum(segs []Segment) engine.MigrateCounts {
	var t engine.MigrateCounts
	for _, s := range segs {
		t.Add(s.Counts)
	}
	return t
}

func (w *watch) progress(segs []Segment) engine.Progress {
	t := sum(segs)
	done := t.Migrated + t.Skipped() + t.Failures + t.Unresolved
	p := engine.Progress{Done: done, Total: w.total, Scanned: t.Scanned, Migrated: t.Migrated, Skipped: t.Skipped(),
		Unchanged: t.Unchanged, Conflicts: t.Conflicts, Throttles: t.Throttles, Failures: t.Failures,
		WriteLimit: float64(w.flags.Rate)}
	if s := time.Since(w.started).Seconds(); s > 0 {
		p.Rate, p.ItemsPerSec = float64(int(float64(done)/s*10))/10, float64(int(float64(t.Migrated)/s*10))/10
		if p.Rate > 0 && w.total > done {
			p.ETAms = int64(float64(w.total-done) / p.Rate * 1000)
		}
	}
	return p
}

// result is the step's result: the sum over the segments' rows.
func (w *watch) result(segs []Segment) (any, error) {
	t := sum(segs)
	el := time.Since(w.started)
	res := migrate.Result{MigrateCounts: t, Skipped: t.Skipped(), Version: int64(w.sc.Runbook.Version),
		Resumed: w.sc.Resumed, Segments: w.rec.Segments, Total: w.total, ElapsedMS: el.Milliseconds(),
		WriteLimit: float64(w.flags.Rate)}
	if w.sc.Step.Migrate.Contract() {
		res.After = w.sc.Step.Migrate.After
	}
	if s := el.Seconds(); s > 0 {
		res.ItemsPerSec, res.ScannedPS = float64(t.Migrated)/s, float64(t.Scanned)/s
	}
	if t.Scanned > 0 {
		res.AvgItemB = t.Bytes / t.Scanned
	}
	if err := w.sc.Emit(engine.NewEvent(w.sc.Step.ID, engine.Output{Stream: "stdout",
		Text: fmt.Sprintf("fleet %s: %d segments: %d scanned, %d migrated", w.rec.ID, len(segs), t.Scanned, t.Migrated)})); err != nil {
		return res, err
	}
	switch {
	case w.flags.Cancelled:
		return res, engine.ErrAborted
	case w.flags.Paused:
		return res, engine.ErrPaused
	}
	var failed []string
	for _, s := range segs {
		if s.State == StateFailed {
			failed = append(failed, fmt.Sprintf("segment %d: %s", s.N, s.Error))
		}
	}
	if len(failed) > 0 {
		return res, fmt.Errorf("migrate %s: fleet %s: %d segment(s) failed (%s)", w.sc.Step.ID, w.rec.ID, len(failed), failed[0])
	}
	if t.Failures > 0 || t.Unresolved > 0 {
		return res, fmt.Errorf("migrate %s: %d item(s) failed, %d kept conflicting: %w", w.sc.Step.ID, t.Failures, t.Unresolved, migrate.ErrItemsLeft)
	}
	return res, nil
}

// errBlocked: the operator's Control is blocking (paused).
var errBlocked = errors.New("paused by the operator")

// operator polls the session's Control in the background: Checkpoint
// blocks while the operator paused, so a call still running means paused.
type operator struct {
	mu      sync.Mutex
	blocked bool
	since   time.Time // when the running call started (monotonic)
	err     error
	cancel  context.CancelFunc
}

// blockedAfter is how long a Checkpoint call must run to mean paused.
const blockedAfter = 200 * time.Millisecond

func newOperator(ctx context.Context, c engine.Control, poll time.Duration) *operator {
	ctx, cancel := context.WithCancel(ctx)
	op := &operator{cancel: cancel}
	if c == nil {
		return op
	}
	go func() {
		for ctx.Err() == nil {
			op.set(true, nil)
			err := c.Checkpoint(ctx)
			if ctx.Err() != nil {
				return
			}
			op.set(false, err)
			if err != nil {
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(poll / 4):
			}
		}
	}()
	return op
}

func (op *operator) set(blocked bool, err error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.blocked, op.err, op.since = blocked, err, time.Now()
}

// state is the operator's last answer: nil (run), errBlocked (paused),
// engine.ErrAborted or engine.ErrPaused (paused, then quit).
func (op *operator) state() error {
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.err != nil {
		return op.err
	}
	if op.blocked && time.Since(op.since) > blockedAfter {
		return errBlocked
	}
	return nil
}

func (op *operator) stop() { op.cancel() }
