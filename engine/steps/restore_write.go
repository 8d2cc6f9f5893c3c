package steps

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/lockstep-run/lockstep/engine"
)

// restoreWrite is one planned write of the writing pass.
type restoreWrite struct {
	backup, live engine.Item
	found        bool // live exists (a deleted item is put back whole)
	forced       bool // a conflict restored anyway
}

// write is the second pass: from cp's line on, batch by batch, it
// classifies each item again (the table is live), checkpoints the
// batch's intent, then writes.
func (r *restorer) write(ctx context.Context, cp *restoreCheckpoint) error {
	first := cp
	prog := engine.NewItemProgress(r.sc, r.man.ItemCount-(cp.Line-1))
	err := r.scanExport(ctx, cp.Line, func(batch []engine.Item, line int64) error {
		before := r.counts()
		var writes []restoreWrite
		for _, b := range batch {
			w, ok, err := r.planOne(ctx, b)
			if err != nil {
				return err
			}
			if ok {
				writes = append(writes, w)
			}
		}
		if err := r.checkpoint(ctx, line, before, writes, first); err != nil {
			return err
		}
		first = nil
		wctx, stop := r.sc.LeaseWriteContext(ctx, r.st)
		for _, w := range writes {
			if err := r.apply(wctx, w); err != nil {
				return stop(err)
			}
		}
		if err := stop(nil); err != nil {
			return err
		}
		prog.Add(len(batch))
		return nil
	})
	if err != nil {
		return err
	}
	prog.Finish()
	return r.sc.EmitOutput(fmt.Sprintf("restored %d items (%d recovered after an interruption), %d conflicts restored anyway, %d kept as they are, %d already as in the backup",
		r.res.Restored, r.res.Recovered, r.res.Forced, r.res.Kept, r.res.Unchanged))
}

// planOne reads b's live item and decides whether to write it, counting
// the items it leaves.
func (r *restorer) planOne(ctx context.Context, b engine.Item) (restoreWrite, bool, error) {
	live, found, err := r.st.Get(ctx, engine.KeyOf(b, r.key))
	if err != nil {
		return restoreWrite{}, false, fmt.Errorf("read %s: %w", r.keyString(b), err)
	}
	class, migrated, err := r.classify(b, live, found)
	if err != nil {
		return restoreWrite{}, false, err
	}
	h := r.hash(b)
	switch class {
	case classUnchanged:
		if _, ok := r.redo[h]; ok { // restored by the interrupted attempt
			delete(r.redo, h)
			r.res.Restored++
			r.res.Recovered++
			return restoreWrite{}, false, nil
		}
		r.res.Unchanged++
		return restoreWrite{}, false, nil
	case classRestorable:
		return restoreWrite{backup: b, live: live, found: true}, true, nil
	}
	r.res.Conflicts++
	if !found {
		r.res.Deleted++
	}
	if _, ok := r.conflicts[h]; ok && r.res.Decision == RestoreAnyway {
		return restoreWrite{backup: b, live: live, found: found, forced: true}, true, nil
	}
	r.res.Kept++
	if len(r.res.Samples) < restoreSamples {
		r.res.Samples = append(r.res.Samples, sampleOf(r.keyString(b), "conflict", b, live, migrated))
	}
	return restoreWrite{}, false, nil
}

// checkpoint saves, before a batch's writes, its first line, the counts
// before it and its intent; the first checkpoint also carries the
// decision on conflicts.
func (r *restorer) checkpoint(ctx context.Context, line int64, before restoreN, writes []restoreWrite, first *restoreCheckpoint) error {
	if r.sc.Journal == nil {
		return nil
	}
	cp := restoreCheckpoint{Line: line, Counts: before}
	if first != nil {
		cp.Decision, cp.Reason, cp.Conflicts = first.Decision, first.Reason, first.Conflicts
	}
	for _, w := range writes {
		cp.Intent = binary.BigEndian.AppendUint64(cp.Intent, r.hash(w.backup))
	}
	if err := r.sc.Journal.SaveCheckpoint(ctx, r.sc.Session.ID, r.sc.Step.ID, 0, cursor(line), cp); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// apply makes one guarded write, paced by the limiter; a failed guard
// reads the item again and plans it again (it may now be a conflict).
func (r *restorer) apply(ctx context.Context, w restoreWrite) error {
	clock := r.sc.ClockOrSystem()
	for attempt := 0; ; attempt++ {
		if err := r.lim.Wait(ctx); err != nil {
			return err
		}
		var err error
		if w.found {
			err = r.st.Update(ctx, restoreUpdate(w.backup, w.live, r.key, r.vattr))
		} else {
			err = r.st.Put(ctx, []engine.Item{w.backup})
		}
		switch {
		case err == nil:
			r.lim.Succeeded(clock.Now())
			if w.forced {
				r.res.Forced++
			} else {
				r.res.Restored++
			}
			return nil
		case errors.Is(err, engine.ErrThrottled):
			r.lim.Throttled(clock.Now())
			continue
		case !errors.Is(err, engine.ErrConditionFailed):
			return fmt.Errorf("write %s: %w", r.keyString(w.backup), err)
		}
		if attempt == restoreMaxRetries {
			return fmt.Errorf("write %s: %w after %d attempts", r.keyString(w.backup), errGuardLost, attempt+1)
		}
		// Changed between read and write: plan it again from a fresh read,
		// undoing the counts the first plan did not make.
		nw, ok, err := r.replan(ctx, w)
		if err != nil || !ok {
			return err
		}
		w = nw
	}
}

// replan reads and plans w's item again after a failed guard.
func (r *restorer) replan(ctx context.Context, w restoreWrite) (restoreWrite, bool, error) {
	live, found, err := r.st.Get(ctx, engine.KeyOf(w.backup, r.key))
	if err != nil {
		return w, false, fmt.Errorf("read %s: %w", r.keyString(w.backup), err)
	}
	class, _, err := r.classify(w.backup, live, found)
	if err != nil {
		return w, false, err
	}
	switch {
	case class == classUnchanged:
		r.res.Unchanged++
		return w, false, nil
	case class == classRestorable:
		return restoreWrite{backup: w.backup, live: live, found: true}, true, nil
	case w.forced: // the operator chose to restore this conflict anyway
		return restoreWrite{backup: w.backup, live: live, found: found, forced: true}, true, nil
	}
	r.res.Conflicts++
	r.res.Kept++
	return w, false, nil
}
