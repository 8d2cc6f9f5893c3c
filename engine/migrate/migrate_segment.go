package migrate

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// writeWorkers is the number of concurrent writes per segment.
const writeWorkers = 8

// runSegment migrates one scan segment from cursor (nil: its start) as a
// two-stage pipeline, so that reading and writing overlap: a goroutine
// scans and plans pages (planPages) while this one writes them
// (writePages). Each page is written only once the checkpoint before it —
// the cursor it starts at, the counts so far, its intent — is durable,
// and only while no journal write of the step has failed (the
// write-ahead gate, migrate_gate.go). So a crash or a failing journal
// leaves at most the page in flight written beyond the last checkpoint
// of each segment, and a resume redoes exactly that page, counting what
// the interrupted attempt wrote of it as that attempt's
// (migrate_intent.go). No page waits between the stages: the planner
// hands a page over when the writer takes it, so it is at most one page
// ahead, a pause or an abort takes effect within a page, and a segment
// lives in two pages' memory (pageBuf), recycled. (A page waiting in a
// buffered hand-off made a third: on SQLite, where one connection
// writes and the planner is the faster stage, it bought no wall time and
// cost ~8% more CPU per row in alternating runs of the store's
// BenchmarkMigrateRound.)
func (m *migrator) runSegment(ctx context.Context, seg int, cursor []byte) error {
	var ext *externalTransform
	if len(m.spec.Transform) > 0 {
		x, err := startExternal(ctx, m.spec.Transform, m.transformDir(), m.lineTimeout)
		if err != nil {
			return err
		}
		ext = x
		defer ext.close()
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	planned := make(chan plannedPage) // unbuffered: see above
	// free takes the memory of written pages back to the planner: more
	// than can be in the pipeline at once (planning, writing).
	free := make(chan *pageBuf, 3)
	var halt atomic.Bool // the planner stopped: write no further page
	var perr error
	pdone := make(chan struct{})
	go func() {
		defer close(pdone)
		defer close(planned)
		if perr = m.planPages(pctx, seg, ext, cursor, planned, free); perr != nil {
			halt.Store(true)
		}
	}()
	werr := m.writePages(ctx, seg, ext, cursor, planned, &halt, free)
	cancel()
	for range planned { // the writer stopped early: let the planner end
	}
	<-pdone
	if werr != nil {
		return werr
	}
	return perr
}

// plannedPage is one scanned and planned page on its way to the writer.
type plannedPage struct {
	plans   []plan
	buf     *pageBuf // the memory plans live in, handed back once written
	next    []byte   // the checkpoint cursor once the page is written
	scanned int64    // items read, counted when the page is written so
	bytes   int64    // that a checkpoint's counts cover its pages only
}

// planPages is the first stage: it scans and plans pages from cursor
// and hands them to the writer until the segment ends or the step stops.
func (m *migrator) planPages(ctx context.Context, seg int, ext *externalTransform, cursor []byte, out chan<- plannedPage, free <-chan *pageBuf) error {
	env := m.env()
	for {
		limit := m.pageSize()
		if m.stop.Load() {
			return nil
		}
		if m.sc.Control != nil {
			if err := m.sc.Control.Checkpoint(ctx); err != nil {
				return err
			}
		}
		var buf *pageBuf
		if !m.dry { // a dry run's samples keep their plans and items
			select {
			case buf = <-free:
			default:
				buf = new(pageBuf)
			}
		}
		page, err := m.scanPage(ctx, engine.ScanRequest{Segment: seg, TotalSegments: len(m.segs), Cursor: cursor, Limit: limit, Attrs: m.scanAttrs, Reuse: buf.reusable()})
		if err != nil {
			return err
		}
		buf.keep(page.Items)
		var size int64
		for _, it := range page.Items {
			size += int64(engine.ItemSize(it))
		}
		plans, err := m.planItemsIn(ctx, env, ext, page.Items, buf)
		if err != nil {
			return err
		}
		next := page.Next
		if next == nil {
			next = segmentDone
		}
		select {
		case out <- plannedPage{plans: plans, buf: buf, next: next, scanned: int64(len(page.Items)), bytes: size}:
		case <-ctx.Done():
			return ctx.Err()
		}
		if page.Next == nil {
			return nil
		}
		cursor = page.Next
	}
}

// writePages is the second stage: it writes each planned page once the
// checkpoint before it is durable, and saves the checkpoint after the
// last page it wrote before returning. It stops the step when the error
// budget is spent, the lease is lost or the journal fails.
func (m *migrator) writePages(ctx context.Context, seg int, ext *externalTransform, cursor []byte, in <-chan plannedPage, halt *atomic.Bool, free chan<- *pageBuf) error {
	w := pageWriter{m: m, seg: seg, at: cursor, redo: m.intents[seg], free: free}
	err := w.writeAll(ctx, ext, in, halt)
	if !w.dirty {
		return err
	}
	if cerr := m.saveCheckpoint(ctx, seg, w.at, nil); cerr != nil {
		m.stop.Store(true)
		if err == nil {
			err = cerr
		}
	}
	return err
}

// pageWriter is one segment's writer state.
type pageWriter struct {
	m     *migrator
	seg   int
	at    []byte          // the cursor after the last page written
	dirty bool            // a page was written since the last checkpoint
	redo  intentKeys      // the interrupted attempt's intent not found yet
	us    []engine.Update // UpdateBatch's argument, reused page after page
	free  chan<- *pageBuf // where written pages' memory goes back to the planner
}

// recycle hands a written page's memory back to the planner. Only a page
// whose writes have all returned comes here: nothing refers to it then.
func (w *pageWriter) recycle(p plannedPage) {
	if p.buf == nil {
		return
	}
	p.buf.release()
	select {
	case w.free <- p.buf:
	default:
	}
}

func (w *pageWriter) writeAll(ctx context.Context, ext *externalTransform, in <-chan plannedPage, halt *atomic.Bool) error {
	m, c := w.m, &w.m.segs[w.seg]
	for p := range in {
		if m.stop.Load() || halt.Load() {
			continue // drain: the step is stopping (abort, pause, a failure, the budget)
		}
		if err := m.gate.closed(); err != nil {
			m.stop.Store(true)
			return err // another segment's journal write failed
		}
		if err := m.checkLease(ctx); err != nil {
			m.stop.Store(true)
			return err
		}
		if len(w.redo) == 0 {
			w.redo = nil // every key of the intent found
		}
		if in := m.intentOf(p.plans, w.redo); in != nil || w.dirty {
			if err := m.saveCheckpoint(ctx, w.seg, w.at, in); err != nil {
				m.stop.Store(true)
				return err
			}
			w.dirty = false
		}
		c.scanned.Add(p.scanned)
		c.bytesRead.Add(p.bytes)
		pctx, leaseStop := m.leaseWriteContext(ctx)
		if err := leaseStop(m.writePage(pctx, w.seg, ext, p.plans, &w.us, w.redo)); err != nil {
			return err // its writes did not all complete: a resume redoes it
		}
		w.recycle(p)
		w.at, w.dirty = p.next, true
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
	err := m.sc.Leases.Check(ctx)
	if err == nil {
		return nil
	}
	return m.leaseError(err)
}

// batchSize is the page size: the runbook's batch_size, else the store's
// preference (MigrateTuner), else runbook.DefaultBatchSize.
func (m *migrator) batchSize() int {
	return pick(m.spec.BatchSize, m.storeDefaults().BatchSize, runbook.DefaultBatchSize)
}

// pageSize is the number of items a segment reads and writes at a time:
// batchSize, and under a write limit (read on every page: the operator
// may change it) at most each segment's share of one second of writes,
// so that a page takes about a second at the limit and its checkpoint
// follows its writes closely.
func (m *migrator) pageSize() int {
	b := m.batchSize()
	if r := m.sc.WriteCeiling()(); r > 0 {
		b = min(b, max(1, r/len(m.segs)))
	}
	return b
}

// segments is the number of scan segments, chosen like batchSize.
func (m *migrator) segments() int {
	return pick(m.spec.Segments, m.storeDefaults().Segments, runbook.DefaultSegments)
}

func (m *migrator) storeDefaults() engine.MigrateDefaults {
	if t, ok := m.store.(engine.MigrateTuner); ok {
		return t.MigrateDefaults()
	}
	return engine.MigrateDefaults{}
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
func (m *migrator) scanPage(ctx context.Context, req engine.ScanRequest) (engine.Page, error) {
	return ScanRetry(ctx, m.sc.ClockOrSystem(), m.store, req)
}

// writePage writes the page's planned updates (or, in dry-run, records
// them) and returns once every write finished.
//
// plans belongs to the page: it is filtered in place. us is scratch space
// for the batch, kept by the caller between pages.
//
// redo, on the first pages a resumed segment writes, is what is left of
// the interrupted attempt's intent for the page it redoes: an item of it
// found already at the target version was written by that attempt and
// counts as migrated (and is taken out of redo).
func (m *migrator) writePage(ctx context.Context, seg int, ext *externalTransform, plans []plan, us *[]engine.Update, redo intentKeys) error {
	c := &m.segs[seg]
	todo := plans[:0]
	for _, p := range plans {
		switch {
		case p.out == outWrite:
			p.redo = len(redo) > 0 && redo.has(m.keyHash(p.item))
			todo = append(todo, p)
		case p.out == outFailed:
			m.itemFailed(seg, p.item, p.err)
		case p.out == outAlready && len(redo) > 0 && redo.take(m.keyHash(p.item)):
			c.migrated.Add(1)
			c.recovered.Add(1)
		default:
			c.count(p.out)
		}
	}
	if m.dry {
		for _, p := range todo {
			m.countWritten(seg, p)
			m.samples.add(m, p)
		}
		return nil
	}
	if bu, ok := m.store.(engine.BatchUpdater); ok && len(todo) > 1 {
		return m.writeBatch(ctx, seg, ext, bu, todo, us)
	}
	return m.writeParallel(ctx, seg, ext, todo, nil)
}

// writeBatch writes todo through the store's batch path in chunks the
// limiter lets through in about a tenth of a second (one chunk when
// unlimited): under max_write_rate a page's writes are committed as the
// tokens arrive, not all at once when the last one has. Writes a batch
// did not apply are retried one by one.
func (m *migrator) writeBatch(ctx context.Context, seg int, ext *externalTransform, bu engine.BatchUpdater, todo []plan, scratch *[]engine.Update) error {
	var retry []plan
	var first []error
	for len(todo) > 0 {
		n := len(todo)
		if c := m.lim.Chunk(); c > 0 {
			n = min(n, c)
		}
		r, f, err := m.writeChunk(ctx, seg, bu, todo[:n], scratch)
		if err != nil {
			return err
		}
		retry, first = append(retry, r...), append(first, f...)
		todo = todo[n:]
	}
	return m.writeParallel(ctx, seg, ext, retry, first)
}

// writeChunk writes todo in one UpdateBatch once the limiter allows all
// of its writes, and returns the plans to retry with their errors. The
// chunk's tokens are taken, and its successes recorded, at once (WaitN,
// SucceededN): its writes commit together, when the last token is
// there, as they did when each took its own (per row, the limiter's lock
// cost ~3% of a SQLite row's CPU).
func (m *migrator) writeChunk(ctx context.Context, seg int, bu engine.BatchUpdater, todo []plan, scratch *[]engine.Update) ([]plan, []error, error) {
	us := (*scratch)[:0]
	if cap(us) < len(todo) {
		us = make([]engine.Update, 0, len(todo))
	}
	defer func() { clear(us); *scratch = us[:0] }() // keep no item alive
	if err := m.lim.WaitN(ctx, len(todo)); err != nil {
		return nil, nil, err
	}
	for _, p := range todo {
		us = append(us, p.upd)
	}
	errs := bu.UpdateBatch(ctx, us)
	var retry []plan
	var first []error
	for i, p := range todo {
		var err error
		if i < len(errs) {
			err = errs[i]
		}
		if err == nil {
			m.countWritten(seg, p)
			continue
		}
		retry, first = append(retry, p), append(first, err)
	}
	// the write limiter's monotonic clock (see WriteLimiter.Wait)
	m.lim.SucceededN(len(todo)-len(retry), time.Now())
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	return retry, first, nil
}
