package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// Retry bounds of the data steps.
const (
	writeWorkers       = 8  // concurrent writes per segment
	maxThrottleRetries = 30 // throttled attempts of one write before it counts as failed
	maxTransient       = 4  // other errors of one write/read before it counts as failed
)

// runSegment migrates one scan segment from cursor (nil: its start) as a
// three-stage pipeline, so that reading, writing and journaling overlap:
// this goroutine scans and plans pages (planPages), a second one writes
// them (writePages), a third saves each written page's checkpoint
// (savePages). At most one page waits between two stages, so a pause or
// an abort takes effect within a page or two, and a checkpoint is saved
// only after every write of its page completed, in page order. A crash
// redoes at most two pages per segment (found already migrated).
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
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A page written and not yet checkpointed is redone (found already
	// migrated) after a crash: the hand-over to the checkpointer is
	// unbuffered, so a segment has at most two such pages, the one being
	// written and the one whose checkpoint is being saved.
	planned := make(chan plannedPage, 1)
	written := make(chan writtenPage)
	var halt atomic.Bool // the planner stopped: write no further page
	var werr, serr error
	wdone, sdone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(wdone)
		defer close(written)
		if werr = m.writePages(wctx, seg, ext, planned, written, &halt); werr != nil {
			cancel()
		}
	}()
	go func() {
		defer close(sdone)
		if serr = m.savePages(wctx, seg, written); serr != nil {
			cancel()
		}
	}()
	perr := m.planPages(wctx, seg, ext, cursor, planned)
	if perr != nil {
		halt.Store(true)
	}
	close(planned)
	<-wdone
	<-sdone
	switch {
	case serr != nil:
		return serr
	case werr != nil && (!errors.Is(werr, context.Canceled) || ctx.Err() != nil):
		return werr
	case perr != nil && ctx.Err() == nil && wctx.Err() != nil:
		return nil // a later stage stopped the step: its error is the one
	}
	return perr
}

// plannedPage is one scanned and planned page on its way to the writer.
type plannedPage struct {
	plans   []plan
	next    []byte // the checkpoint cursor once the page is written
	scanned int64  // items read, counted when the page is written so
	bytes   int64  // that a checkpoint's counts cover its pages only
}

// planPages is the first stage: it scans and plans pages from cursor
// and hands them to the writer until the segment ends or the step stops.
func (m *migrator) planPages(ctx context.Context, seg int, ext *externalTransform, cursor []byte, out chan<- plannedPage) error {
	env := m.env()
	limit := m.batchSize()
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
		var size int64
		for _, it := range page.Items {
			size += int64(ItemSize(it))
		}
		plans, err := m.planItems(ctx, env, ext, page.Items)
		if err != nil {
			return err
		}
		next := page.Next
		if next == nil {
			next = segmentDone
		}
		select {
		case out <- plannedPage{plans: plans, next: next, scanned: int64(len(page.Items)), bytes: size}:
		case <-ctx.Done():
			return ctx.Err()
		}
		if page.Next == nil {
			return nil
		}
		cursor = page.Next
	}
}

// writtenPage is a written page on its way to its checkpoint.
type writtenPage struct {
	next   []byte
	counts checkpointData // the segment's counts right after the page's writes
}

// writePages is the second stage: it writes each planned page and
// passes it on to be checkpointed. It stops the step when the error
// budget is spent.
func (m *migrator) writePages(ctx context.Context, seg int, ext *externalTransform, in <-chan plannedPage, out chan<- writtenPage, halt *atomic.Bool) error {
	c := &m.segs[seg]
	var us []Update // UpdateBatch's argument, reused page after page
	for p := range in {
		if m.stop.Load() || halt.Load() {
			continue // drain: the step is stopping (abort, pause, a failure, the budget)
		}
		if err := m.checkLease(ctx); err != nil {
			m.stop.Store(true)
			return err
		}
		c.scanned.Add(p.scanned)
		c.bytesRead.Add(p.bytes)
		pctx, leaseStop := m.leaseWriteContext(ctx)
		if err := leaseStop(m.writePage(pctx, seg, ext, p.plans, &us)); err != nil {
			return err
		}
		// savePages receives until this stage ends, even once ctx is done:
		// a written page is always handed over to be checkpointed.
		out <- writtenPage{next: p.next, counts: checkpointData{c.snapshot(), len(m.segs)}}
		if m.totals().Failures-m.base.Failures > m.budget() {
			m.stop.Store(true)
			return ErrErrorBudget
		}
	}
	return nil
}

// checkLease lets a page be written only while the session holds its
// lease: another session that took it over is the only writer now, so the
// step stops. A lease not confirmed for a heartbeat (ttl/3) is renewed
// first (the process may have been stopped past its ttl). The page's
// writes are fenced as well (leaseWriteContext): a lease lost while they
// are in flight fails them.
func (m *migrator) checkLease(ctx context.Context) error {
	if m.dry {
		return nil
	}
	err := checkLeases(ctx, m.sc.Session.ID)
	if err == nil {
		return nil
	}
	return m.leaseError(err)
}

// savePages is the third stage: it saves each written page's checkpoint,
// in order. It drains its input to the end even when ctx is done, so that
// every page whose writes completed is recorded (the journal commits a
// checkpoint it has begun regardless of cancellation).
func (m *migrator) savePages(ctx context.Context, seg int, in <-chan writtenPage) error {
	var failed error
	for p := range in {
		if failed != nil || m.dry || m.sc.Journal == nil {
			continue
		}
		if err := m.sc.Journal.SaveCheckpoint(context.WithoutCancel(ctx), m.sc.Session.ID, m.sc.Step.ID, seg, p.next, p.counts); err != nil {
			failed = fmt.Errorf("segment %d: %w", seg, err)
			continue
		}
		m.noteThrottles()
	}
	return failed
}

// batchSize is the page size: the runbook's batch_size, else the store's
// preference (MigrateTuner), else runbook.DefaultBatchSize.
func (m *migrator) batchSize() int {
	return pick(m.spec.BatchSize, m.storeDefaults().BatchSize, runbook.DefaultBatchSize)
}

// segments is the number of scan segments, chosen like batchSize.
func (m *migrator) segments() int {
	return pick(m.spec.Segments, m.storeDefaults().Segments, runbook.DefaultSegments)
}

func (m *migrator) storeDefaults() MigrateDefaults {
	if t, ok := m.store.(MigrateTuner); ok {
		return t.MigrateDefaults()
	}
	return MigrateDefaults{}
}

// pick returns the first positive value.
func pick(vals ...int) int {
	for _, v := range vals {
		if v > 0 {
			return v
		}
	}
	return 0
}

// scanPage reads one page, retrying throttles and transient errors.
func (m *migrator) scanPage(ctx context.Context, req ScanRequest) (Page, error) {
	return scanRetry(ctx, m.store, req)
}

// writePage writes the page's planned updates (or, in dry-run, records
// them) and returns once every write finished.
//
// plans belongs to the page: it is filtered in place. us is scratch space
// for the batch, kept by the caller between pages.
func (m *migrator) writePage(ctx context.Context, seg int, ext *externalTransform, plans []plan, us *[]Update) error {
	c := &m.segs[seg]
	todo := plans[:0]
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
		return m.writeBatch(ctx, seg, ext, bu, todo, us)
	}
	return m.writeParallel(ctx, seg, ext, todo, nil)
}

func (m *migrator) writeBatch(ctx context.Context, seg int, ext *externalTransform, bu BatchUpdater, todo []plan, scratch *[]Update) error {
	us := (*scratch)[:0]
	defer func() { clear(us); *scratch = us[:0] }() // keep no item alive
	for _, p := range todo {
		if err := m.lim.Wait(ctx); err != nil {
			return err
		}
		us = append(us, p.upd)
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
