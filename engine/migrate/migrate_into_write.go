package migrate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// writePage counts the page's items that need no write and writes the
// others (dry-run: counts them and shows samples), up to writeWorkers at
// a time. It returns once every write finished; an error only when the
// step must stop.
func (c *copier) writePage(ctx context.Context, seg int, env *itemEnv, plans []copyPlan) error {
	s := &c.segs[seg]
	var todo []copyPlan
	for _, p := range plans {
		switch p.out {
		case outNotMatched:
			s.notMatched.Add(1)
		case outFailed:
			c.itemFailed(seg, p, p.err)
		case outWrite:
			if !c.rollback && !c.targets.claim(keyHash64(p.item, c.dstKey), keyHash64(p.src, c.srcKey)) {
				c.collision(seg, p, "another source item of this run copies under the same new key")
				continue
			}
			if c.dry {
				s.copied.Add(1)
				c.samples.add(c, p)
				continue
			}
			todo = append(todo, p)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	idx := make(chan int)
	var fatal error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(len(todo), writeWorkers) {
		wg.Go(func() {
			wenv := c.env() // resolve re-plans: one environment per goroutine
			for i := range idx {
				write := c.copyItem
				if c.rollback {
					write = c.deleteItem
				}
				if err := write(ctx, seg, wenv, todo[i]); err != nil {
					mu.Lock()
					fatal = cmpOr(fatal, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range todo {
		idx <- i
	}
	close(idx)
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fatal
}

// cmpOr returns the first non-nil error.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// storeCall is the outcome of one guarded write, as writeGuarded sorts it.
type storeCall int

const (
	callDone      storeCall = iota // applied
	callCondition                  // its condition failed
	callGaveUp                     // counted as a failure
)

// writeGuarded sends one guarded write through the rate limiter,
// retrying throttles and transient errors. ambiguous is set when an
// earlier attempt may have applied. It returns an error only when the
// step must stop.
func (c *copier) writeGuarded(ctx context.Context, seg int, p copyPlan, ambiguous *bool, send func(context.Context) error) (storeCall, error) {
	s := &c.segs[seg]
	throttles, transient := 0, 0
	for {
		if err := c.lim.Wait(ctx); err != nil {
			return callGaveUp, err
		}
		err := send(ctx)
		now := time.Now() // the write limiter's monotonic clock
		*ambiguous = *ambiguous || errors.Is(err, engine.ErrAmbiguous)
		switch {
		case err == nil:
			c.lim.Succeeded(now)
			return callDone, nil
		case ctx.Err() != nil:
			return callGaveUp, ctx.Err()
		case errors.Is(err, engine.ErrLeaseLost):
			return callGaveUp, err
		case errors.Is(err, engine.ErrConditionFailed):
			return callCondition, nil
		case errors.Is(err, engine.ErrThrottled):
			c.lim.Throttled(now)
			s.throttles.Add(1)
			if throttles++; throttles > engine.MaxThrottleRetries {
				c.itemFailed(seg, p, err)
				return callGaveUp, nil
			}
			if err := engine.Sleep(ctx, c.sc.ClockOrSystem(), engine.Backoff(throttles)); err != nil {
				return callGaveUp, err
			}
		case errors.Is(err, engine.ErrRejected):
			c.itemFailed(seg, p, err)
			return callGaveUp, nil
		default:
			*ambiguous = true
			if transient++; transient > engine.MaxTransient {
				c.itemFailed(seg, p, err)
				return callGaveUp, nil
			}
			if err := engine.Sleep(ctx, c.sc.ClockOrSystem(), engine.Backoff(transient)); err != nil {
				return callGaveUp, err
			}
		}
	}
}

// copyItem writes p's item into the target, guarded: only where the
// target holds no item under its key or an older version. A failed
// condition reads the target and settles the item (resolve).
func (c *copier) copyItem(ctx context.Context, seg int, env *itemEnv, p copyPlan) error {
	s := &c.segs[seg]
	ambiguous := false
	rereads := 0
	for {
		g := engine.Guard{VersionAttr: c.vattr, Below: c.version}
		item := p.item
		call, err := c.writeGuarded(ctx, seg, p, &ambiguous, func(ctx context.Context) error { return c.dst.PutGuarded(ctx, item, g) })
		if err != nil || call == callGaveUp {
			return err
		}
		if call == callDone {
			s.copied.Add(1)
			return nil
		}
		s.conflicts.Add(1)
		next, done, err := c.resolve(ctx, seg, env, p, ambiguous, &rereads)
		if err != nil || done {
			return err
		}
		p, ambiguous = next, false
	}
}

// resolve settles an item whose guarded put failed its condition, from
// what the target holds under the new key now. done is false when the
// write is to be tried again with next.
func (c *copier) resolve(ctx context.Context, seg int, env *itemEnv, p copyPlan, ambiguous bool, rereads *int) (next copyPlan, done bool, err error) {
	s := &c.segs[seg]
	fresh, ok, err := c.get(ctx, c.dst, engine.KeyOf(p.item, c.dstKey))
	if err != nil {
		c.itemFailed(seg, p, fmt.Errorf("read the target after a failed condition: %w", err))
		return p, true, ctx.Err()
	}
	fv := itemVersion(fresh, c.vattr)
	switch {
	case !ok || fv < c.version: // gone, or older: the next put may apply
		return p, c.giveUp(seg, p, rereads), nil
	case fv > c.version:
		s.newer.Add(1)
		return p, true, nil
	case sameItem(fresh, p.item):
		if ambiguous {
			s.copied.Add(1) // our own write applied, its retry found it
		} else {
			s.already.Add(1)
		}
		return p, true, nil
	}
	if from, known := c.sourceOf(fresh, p); known {
		if sameItem(from, engine.KeyOf(p.src, c.srcKey)) {
			s.newer.Add(1) // this item, as the application wrote it at the version
			return p, true, nil
		}
		c.collision(seg, p, "the new key holds source item "+KeyString(from, c.srcKey))
		return p, true, nil
	}
	// The target does not say which source item it came from: read this
	// one again (the application may have changed it since the scan).
	if c.giveUp(seg, p, rereads) {
		return p, true, nil
	}
	src, ok, err := c.get(ctx, c.src, engine.KeyOf(p.src, c.srcKey))
	switch {
	case err != nil:
		c.itemFailed(seg, p, fmt.Errorf("read the source again: %w", err))
		return p, true, ctx.Err()
	case !ok:
		s.notMatched.Add(1) // deleted since the scan
		return p, true, nil
	}
	np := planCopy(env, c.spec, c.vattr, c.version, src)
	switch {
	case np.out == outNotMatched:
		s.notMatched.Add(1)
		return p, true, nil
	case np.out == outFailed:
		c.itemFailed(seg, np, np.err)
		return p, true, nil
	case sameItem(fresh, np.item):
		s.already.Add(1)
		return p, true, nil
	}
	return np, false, engine.Sleep(ctx, c.sc.ClockOrSystem(), engine.Backoff(*rereads))
}

// giveUp counts a re-read of p and, past max_retries, reports p as a
// collision: the new key keeps holding something else at the version.
func (c *copier) giveUp(seg int, p copyPlan, rereads *int) bool {
	if *rereads++; *rereads <= c.maxRetries() {
		return false
	}
	c.collision(seg, p, fmt.Sprintf("the new key kept holding another item at version %d after %d re-reads (another source item with the same new key, or an application write the source lacks)", c.version, c.maxRetries()))
	return true
}

// sourceOf returns the source key a target item was copied from, when the
// copy keeps the source key attributes as they are (known).
func (c *copier) sourceOf(target engine.Item, p copyPlan) (engine.Item, bool) {
	for _, k := range c.srcKey {
		v, ok := p.item[k]
		if !ok || !engine.EqualValues(v, p.src[k]) || target[k] == nil {
			return nil, false
		}
	}
	return engine.KeyOf(target, c.srcKey), true
}

// deleteItem is a rollback's write: it deletes p's item from the target
// only while it holds exactly what the copy wrote, at the version. An
// item changed since (the application's write) or another source item's
// is kept and reported.
func (c *copier) deleteItem(ctx context.Context, seg int, _ *itemEnv, p copyPlan) error {
	s := &c.segs[seg]
	key := engine.KeyOf(p.item, c.dstKey)
	g := copyGuardOf(p.item, c.dstKey, c.vattr, c.version)
	ambiguous := false
	call, err := c.writeGuarded(ctx, seg, p, &ambiguous, func(ctx context.Context) error { return c.dst.DeleteGuarded(ctx, key, g) })
	if err != nil || call == callGaveUp {
		return err
	}
	if call == callDone {
		s.copied.Add(1)
		return nil
	}
	_, ok, err := c.get(ctx, c.dst, key)
	switch {
	case err != nil:
		c.itemFailed(seg, p, fmt.Errorf("read the target after a failed condition: %w", err))
		return ctx.Err()
	case !ok && ambiguous:
		s.copied.Add(1)
	case !ok:
		s.already.Add(1)
	default:
		s.newer.Add(1)
		c.warn(seg, p, "kept: the new table's item changed since the copy wrote it (or is another item's)", nil)
	}
	return nil
}

// get reads one item, retrying transient errors.
func (c *copier) get(ctx context.Context, st engine.Store, key engine.Item) (engine.Item, bool, error) {
	for attempt := 0; ; attempt++ {
		it, ok, err := st.Get(ctx, key)
		if err == nil || ctx.Err() != nil || attempt >= engine.MaxTransient {
			return it, ok, err
		}
		if err := engine.Sleep(ctx, c.sc.ClockOrSystem(), engine.Backoff(attempt)); err != nil {
			return nil, false, err
		}
	}
}

// collision counts and reports p as left out: its new key holds, or
// would hold, another source item.
func (c *copier) collision(seg int, p copyPlan, why string) {
	c.segs[seg].collisions.Add(1)
	c.warn(seg, p, "collision: "+why+"; not overwritten", nil)
}

// itemFailed counts a per-item failure and journals it with the keys.
func (c *copier) itemFailed(seg int, p copyPlan, err error) {
	c.segs[seg].failures.Add(1)
	c.warn(seg, p, "item failed", err)
}
