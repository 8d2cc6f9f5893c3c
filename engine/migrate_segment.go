package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// Retry bounds of the data steps.
const (
	writeWorkers       = 8  // concurrent writes per segment
	maxThrottleRetries = 30 // throttled attempts of one write before it counts as failed
	maxTransient       = 4  // other errors of one write/read before it counts as failed
)

// runSegment migrates one scan segment from cursor (nil: its start),
// checkpointing after each page once every write of the page completed.
func (m *migrator) runSegment(ctx context.Context, seg int, cursor []byte) error {
	var ext *externalTransform
	if len(m.spec.Transform) > 0 {
		x, err := startExternal(ctx, m.spec.Transform, m.transformDir())
		if err != nil {
			return err
		}
		ext = x
		defer ext.close()
	}
	env := m.env()
	limit := m.spec.BatchSize
	if limit <= 0 {
		limit = runbook.DefaultBatchSize
	}
	c := &m.segs[seg]
	for {
		if m.stop.Load() {
			return nil
		}
		if m.sc.Control != nil {
			if err := m.sc.Control.Checkpoint(ctx); err != nil {
				return err
			}
		}
		page, err := m.scanPage(ctx, ScanRequest{Segment: seg, TotalSegments: len(m.segs), Cursor: cursor, Limit: limit})
		if err != nil {
			return err
		}
		c.scanned.Add(int64(len(page.Items)))
		for _, it := range page.Items {
			c.bytesRead.Add(int64(ItemSize(it)))
		}
		plans, err := m.planItems(ctx, env, ext, page.Items)
		if err != nil {
			return err
		}
		if err := m.writePage(ctx, seg, ext, plans); err != nil {
			return err
		}
		next := page.Next
		if next == nil {
			next = segmentDone
		}
		if !m.dry && m.sc.Journal != nil {
			if err := m.sc.Journal.SaveCheckpoint(ctx, m.sc.Session.ID, m.sc.Step.ID, seg, next, c.snapshot()); err != nil {
				return fmt.Errorf("segment %d: %w", seg, err)
			}
			m.noteThrottles()
		}
		if m.totals().Failures-m.base.Failures > m.budget() {
			m.stop.Store(true)
			return ErrErrorBudget
		}
		if page.Next == nil {
			return nil
		}
		cursor = page.Next
	}
}

// scanPage reads one page, retrying throttles and transient errors.
func (m *migrator) scanPage(ctx context.Context, req ScanRequest) (Page, error) {
	return scanRetry(ctx, m.store, req)
}

// writePage writes the page's planned updates (or, in dry-run, records
// them) and returns once every write finished.
func (m *migrator) writePage(ctx context.Context, seg int, ext *externalTransform, plans []plan) error {
	c := &m.segs[seg]
	todo := make([]plan, 0, len(plans))
	for _, p := range plans {
		switch p.out {
		case outWrite:
			todo = append(todo, p)
		case outFailed:
			m.itemFailed(seg, p.item, p.err)
		default:
			c.count(p.out)
		}
	}
	if m.dry {
		for _, p := range todo {
			c.migrated.Add(1)
			m.samples.add(m, p)
		}
		return nil
	}
	if bu, ok := m.store.(BatchUpdater); ok && len(todo) > 1 {
		return m.writeBatch(ctx, seg, ext, bu, todo)
	}
	return m.writeParallel(ctx, seg, ext, todo, nil)
}

func (m *migrator) writeBatch(ctx context.Context, seg int, ext *externalTransform, bu BatchUpdater, todo []plan) error {
	us := make([]Update, len(todo))
	for i, p := range todo {
		if err := m.lim.Wait(ctx); err != nil {
			return err
		}
		us[i] = p.upd
	}
	errs := bu.UpdateBatch(ctx, us)
	var retry []plan
	var first []error
	now := time.Now()
	for i, p := range todo {
		var err error
		if i < len(errs) {
			err = errs[i]
		}
		if err == nil {
			m.lim.Succeeded(now)
			m.segs[seg].migrated.Add(1)
			continue
		}
		retry, first = append(retry, p), append(first, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return m.writeParallel(ctx, seg, ext, retry, first)
}

// writeParallel writes todo with up to writeWorkers goroutines. first, when
// set, holds the error each plan's previous attempt already got.
func (m *migrator) writeParallel(ctx context.Context, seg int, ext *externalTransform, todo []plan, first []error) error {
	if len(todo) == 0 {
		return nil
	}
	idx := make(chan int)
	fatal := make(chan error, writeWorkers)
	done := make(chan struct{})
	n := min(len(todo), writeWorkers)
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			env := m.env()
			for i := range idx {
				var prev error
				if first != nil {
					prev = first[i]
				}
				if err := m.writeItem(ctx, seg, env, ext, todo[i], prev); err != nil {
					select {
					case fatal <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range todo {
		idx <- i
	}
	close(idx)
	for range n {
		<-done
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	select {
	case err := <-fatal:
		return err
	default:
		return nil
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is an exponential delay capped at 2 s.
func backoff(attempt int) time.Duration {
	d := 20 * time.Millisecond << min(attempt, 7)
	return min(d, 2*time.Second)
}
