package fleet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// Worker exit codes (sysexits.h): what a launcher should do next.
const (
	ExitDone      = 0  // no work left (or the fleet was cancelled)
	ExitDataError = 65 // a permanent error: retrying will not help
	ExitRetry     = 75 // a lost claim or a transient failure: run again
)

// ErrPermanent marks a worker error that a retry cannot fix (exit 65).
var ErrPermanent = errors.New("permanent fleet worker error")

// ExitCode maps a worker's error to its exit code.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitDone
	case errors.Is(err, ErrPermanent):
		return ExitDataError
	}
	return ExitRetry
}

// RunFunc runs one claimed segment of the fleet's step: cmd builds the
// step's engine.StepContext from the record, with leases and ctl in it,
// and calls migrate.Executor.RunSegment.
type RunFunc func(ctx context.Context, rec Record, r migrate.SegmentRun, leases *engine.Leases, ctl engine.Control) (engine.MigrateCounts, error)

// Worker claims segments of one fleet and runs them, one at a time,
// until none is left.
type Worker struct {
	Control Control
	Fleet   string
	ID      string // the owner name written into claimed rows
	Clock   engine.Clock
	// Hint is the segment to try first (a launcher's array or
	// completion index); negative: none. It is only a hint: any
	// claimable segment will do.
	Hint int
	Run  RunFunc
	// Poll is how often the worker looks at the fleet while it waits for
	// work or sits paused (0: a quarter of the lease, at most 5s).
	Poll time.Duration
	// Log reports what the worker does (nil: nothing).
	Log func(format string, args ...any)
}

// observation is a claimed segment's row as first seen unchanged.
type observation struct {
	claim, beat int64
	since       time.Time
}

// Work claims and runs segments until none is left or the fleet is
// cancelled (nil), a claim is lost or something failed (see ExitCode).
func (w *Worker) Work(ctx context.Context) error {
	rec, err := w.Control.Record(ctx, w.Fleet)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: %w", err, ErrPermanent)
	}
	if err != nil {
		return err
	}
	if err := rec.Check(); err != nil {
		return fmt.Errorf("fleet %s: %w", w.Fleet, errors.Join(err, ErrPermanent))
	}
	poll := cmp.Or(w.Poll, min(rec.Lease/4, 5*time.Second))
	seen := map[int]observation{}
	hint := w.Hint
	for {
		if rec, err = w.Control.Record(ctx, w.Fleet); err != nil {
			return err
		}
		if rec.Cancelled {
			w.logf("fleet cancelled: stopping")
			return nil
		}
		segs, err := w.Control.Segments(ctx, w.Fleet)
		if err != nil {
			return err
		}
		pick, left := w.choose(rec, segs, seen, hint)
		hint = -1
		if left == 0 {
			w.logf("no segment left")
			return nil
		}
		if pick < 0 || rec.Paused {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-w.Clock.After(poll):
			}
			continue
		}
		claimed, err := w.Control.Claim(ctx, w.Fleet, segs[pick], w.ID, w.Clock.Now())
		if errors.Is(err, ErrClaimLost) {
			continue // another worker was first
		}
		if err != nil {
			return err
		}
		delete(seen, pick)
		if err := w.runClaimed(ctx, rec, claimed, poll); err != nil {
			return err
		}
	}
}

// choose returns a claimable segment (-1: none now) and how many are
// neither done nor failed. A claimed segment is claimable once its row
// stood still for a whole lease by this worker's clock (its owner died
// or was cut off): those come first, as they hold work begun; then open
// ones, from the hint or a place derived from the worker's id (so
// workers spread out).
func (w *Worker) choose(rec Record, segs []Segment, seen map[int]observation, hint int) (pick, left int) {
	now := w.Clock.Now()
	if hint < 0 || hint >= len(segs) {
		h := fnv.New32a()
		h.Write([]byte(w.ID))
		hint = int(h.Sum32() % uint32(max(1, len(segs))))
	}
	pick, stale := -1, -1
	for i := range segs {
		s := segs[(hint+i)%len(segs)]
		switch s.State {
		case StateDone, StateFailed:
			continue
		case StateOpen:
			if pick < 0 {
				pick = s.N
			}
		case StateClaimed:
			o, ok := seen[s.N]
			if !ok || o.claim != s.Claim || o.beat != s.Beat {
				seen[s.N] = observation{claim: s.Claim, beat: s.Beat, since: now}
			} else if stale < 0 && now.Sub(o.since) >= rec.Lease {
				stale = s.N
			}
		}
		left++
	}
	if stale >= 0 {
		pick = stale
	}
	return pick, left
}

// runClaimed runs one claimed segment under its claim and records how
// it ended.
func (w *Worker) runClaimed(ctx context.Context, rec Record, s Segment, poll time.Duration) error {
	w.logf("claimed segment %d (claim %d)", s.N, s.Claim)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	leases := engine.NewLeases(lctx)
	now := w.Clock.Now()
	leases.Hold(&claimLease{c: w.Control, fleet: w.Fleet, n: s.N, claim: s.Claim, clock: w.Clock}, w.Clock,
		engine.Lease{Dataset: rec.ID, Env: rec.Env, Holder: w.ID, Session: fmt.Sprintf("%s#%d", w.ID, s.Claim),
			Acquired: now, Expires: now.Add(rec.Lease)}, rec.Lease, now)
	defer func() { _ = leases.Release(context.WithoutCancel(ctx)) }()
	ctl := &control{c: w.Control, fleet: w.Fleet, workers: rec.Workers, clock: w.Clock, poll: poll}
	last := Checkpoint{N: s.N, Claim: s.Claim, Cursor: s.Cursor, Data: s.Data, Counts: s.Counts}
	save := func(ctx context.Context, cursor []byte, data json.RawMessage, counts engine.MigrateCounts) error {
		cp := Checkpoint{N: s.N, Claim: s.Claim, Cursor: cursor, Data: data, Counts: counts, At: w.Clock.Now()}
		if err := w.Control.Save(ctx, w.Fleet, cp); err != nil {
			return err
		}
		last = cp
		return nil
	}
	counts, err := w.Run(ctx, rec, migrate.SegmentRun{Segment: s.N, Segments: rec.Segments, Cursor: s.Cursor, Saved: s.Data, Save: save}, leases, ctl)
	last.At = w.Clock.Now()
	switch {
	case err == nil:
		last.Counts = counts
		if !migrate.IsSegmentDone(last.Cursor) {
			last.Cursor = migrate.SegmentDoneCursor()
		}
		if ferr := w.Control.Finish(ctx, w.Fleet, last, StateDone, ""); ferr != nil {
			return fmt.Errorf("segment %d: %w", s.N, ferr)
		}
		w.logf("segment %d done: %d scanned, %d migrated", s.N, counts.Scanned, counts.Migrated)
		return nil
	case errors.Is(err, engine.ErrAborted):
		_ = w.Control.Finish(context.WithoutCancel(ctx), w.Fleet, last, StateOpen, "")
		w.logf("segment %d given back: fleet cancelled", s.N)
		return nil
	case errors.Is(err, ErrClaimLost) || errors.Is(err, engine.ErrLeaseLost):
		w.logf("segment %d: claim %d lost: stopped writing", s.N, s.Claim)
		return fmt.Errorf("segment %d: claim %d lost: %w", s.N, s.Claim, err)
	case errors.Is(err, migrate.ErrErrorBudget):
		_ = w.Control.Finish(context.WithoutCancel(ctx), w.Fleet, last, StateFailed, err.Error())
		return fmt.Errorf("segment %d: %w", s.N, errors.Join(err, ErrPermanent))
	}
	return fmt.Errorf("segment %d: %w", s.N, err)
}

func (w *Worker) logf(format string, args ...any) {
	if w.Log != nil {
		w.Log("worker %s: "+format, append([]any{w.ID}, args...)...)
	}
}
