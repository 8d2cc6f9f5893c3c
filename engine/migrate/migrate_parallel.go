package migrate

import (
	"context"
	"sync"
	"sync/atomic"
)

// writeParallel writes todo with up to writeWorkers goroutines, the
// caller's among them; the step's in-flight limit (throttle.Inflight)
// decides how many of their writes are in flight at once. first, when
// set, holds the error each plan's previous attempt already got.
//
// The writers take the next write from a shared counter rather than
// from a channel fed by the caller: a channel hands every write from
// one goroutine to another (a park and a wake-up per item, on top of
// the network's), the counter costs one atomic add. An item expression
// environment, needed only to re-plan an item after a failed condition,
// is built by a writer on its first conflict. Once a write says the step
// must stop (writeItem's error), no writer starts another.
func (m *migrator) writeParallel(ctx context.Context, seg int, ext *externalTransform, todo []plan, first []error) error {
	if len(todo) == 0 {
		return nil
	}
	var next atomic.Int64 // the index of the next write to take
	var stop atomic.Bool  // a write said the step must stop
	var fatalOnce sync.Once
	var fatal error
	work := func() {
		var env *itemEnv
		for !stop.Load() {
			i := int(next.Add(1) - 1)
			if i >= len(todo) {
				return
			}
			var prev error
			if first != nil {
				prev = first[i]
			}
			if err := m.writeItem(ctx, seg, &env, ext, todo[i], prev); err != nil {
				fatalOnce.Do(func() { fatal = err })
				stop.Store(true) // no further write of the page starts
			}
		}
	}
	var wg sync.WaitGroup
	for range min(len(todo), writeWorkers) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fatal
}
