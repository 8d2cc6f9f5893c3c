package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

// PushdownPath is how a migrate step on a SQL store of dialect d runs:
// the translation of its where, set, rename and remove when it runs as
// one guarded UPDATE per page (pushdown), else the reason it runs per
// row. key and vattr are the table's key and version columns. plan and
// the step itself decide with it, so they say the same.
func PushdownPath(spec *runbook.MigrateSpec, d sqlexpr.Dialect, key []string, vattr string, rollback bool) (*sqlexpr.Migrate, error) {
	switch {
	case spec == nil:
		return nil, fmt.Errorf("%w: no migrate spec", sqlexpr.ErrUntranslatable)
	case rollback:
		return nil, fmt.Errorf("%w: a rollback runs per row", sqlexpr.ErrUntranslatable)
	case spec.Contract():
		return nil, fmt.Errorf("%w: a contract step (after %s) runs per row", sqlexpr.ErrUntranslatable, spec.After)
	case spec.ReadsWholeItem():
		return nil, fmt.Errorf("%w: an expression uses item whole", sqlexpr.ErrUntranslatable)
	}
	return sqlexpr.TranslateMigrate(spec, d, key, vattr)
}

// pushdown is the migrator's pushdown state: the translation, nil when
// the step runs per row, and why not.
type pushdown struct {
	pd     engine.Pushdowner
	tr     *sqlexpr.Migrate
	why    string              // the per-row path's reason, on a SQL store
	ranges map[int]*pageIntent // on resume: each segment's interrupted pushdown page
	pages  atomic.Int64        // pages written by pushdown
	perRow atomic.Int64        // pages of a pushed-down step that ran per row
}

// choosePath sets m.pushdown for a SQL store.
func (m *migrator) choosePath() {
	pd, ok := m.store.(engine.Pushdowner)
	if !ok {
		return
	}
	m.pushdown.pd = pd
	if m.dry {
		m.pushdown.why = "dry-run reads per row to show sample diffs"
		return
	}
	tr, err := PushdownPath(m.spec, pd.SQLDialect(), m.key, m.vattr, m.sc.Rollback)
	if err != nil {
		m.pushdown.why = untranslatedText(err)
		return
	}
	m.pushdown.tr = tr
	if m.spec.Segments == 0 {
		// One segment unless the runbook asks for more: a page is one
		// statement over a key range, in which other segments' rows would
		// interleave, each statement reading them again (SQLite writes one
		// transaction at a time anyway). A resume takes the count its
		// checkpoints were made in.
		m.segs = make([]segCounts, 1)
	}
}

// untranslatedText is err's text without the sentinel's words.
func untranslatedText(err error) string {
	return strings.Replace(err.Error(), sqlexpr.ErrUntranslatable.Error()+": ", "", 1)
}

// pathText says which path the step takes, on a SQL store ("" otherwise).
func (m *migrator) pathText() string {
	switch {
	case m.pushdown.pd == nil:
		return ""
	case m.pushdown.tr != nil:
		return "path: pushdown — one guarded UPDATE per key-range page"
	}
	return "path: per row — " + m.pushdown.why
}

// runSegmentPushdown migrates one segment from cursor as one guarded
// UPDATE per key-range page. Each page runs in one write transaction:
// its rows are sorted first, the checkpoint before it — cursor, counts,
// and an intent holding the number of rows it plans to write — is made
// durable from inside that transaction, then the UPDATE writes them.
// The page is atomic, so a resume that redoes it and finds nothing left
// to write knows the interrupted attempt committed it: its planned
// writes count as migrated and recovered. A page the translation is not
// exact for runs per row.
func (m *migrator) runSegmentPushdown(ctx context.Context, seg int, cursor []byte) error {
	if len(m.intents[seg]) > 0 {
		return m.runSegment(ctx, seg, cursor) // a per-row page to redo
	}
	w := pushdownWriter{m: m, seg: seg, at: cursor, env: m.env()}
	if in := m.pushdown.ranges[seg]; in != nil {
		w.redo, w.redoRows = int64(in.Writes), in.Rows
	}
	err := w.run(ctx)
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

// pushdownWriter is one segment's state on the pushdown path.
type pushdownWriter struct {
	m     *migrator
	seg   int
	at    []byte
	dirty bool
	redo  int64 // planned writes of the interrupted attempt's page
	// redoRows is the number of rows that page held: the resumed
	// segment's first page covers the same range.
	redoRows int
	// fellBack is set while the segment's pages fall back to the per-row
	// path: the next page is then tried at the per-row page size.
	fellBack bool
	env      *itemEnv
	us       []engine.Update
}

func (w *pushdownWriter) run(ctx context.Context) error {
	m := w.m
	for !IsSegmentDone(w.at) {
		if m.stop.Load() {
			return nil
		}
		if m.sc.Control != nil {
			if err := m.sc.Control.Checkpoint(ctx); err != nil {
				return err
			}
		}
		if err := m.gate.closed(); err != nil {
			m.stop.Store(true)
			return err
		}
		if err := m.checkLease(ctx); err != nil {
			m.stop.Store(true)
			return err
		}
		next, err := w.page(ctx)
		if err != nil {
			return err
		}
		if next == nil {
			next = segmentDone
		}
		w.at, w.dirty = next, true
		if m.totals().Failures-m.base.Failures > m.budget() {
			m.stop.Store(true)
			return ErrErrorBudget
		}
	}
	return nil
}

// page runs one page and returns the cursor after it.
func (w *pushdownWriter) page(ctx context.Context) ([]byte, error) {
	m, c := w.m, &w.m.segs[w.seg]
	limit := m.pushdownPageSize()
	if w.fellBack {
		limit = m.pageSize()
	}
	if c := m.lim.Chunk(); c > 0 {
		// Under a write limit a page is one chunk, a tenth of a second of
		// tokens, as the per-row path commits: a page's rows land at
		// once, and a second's worth would double the limit in some
		// one-second window (the rows take their tokens after).
		limit = min(limit, c)
	}
	if w.redoRows > 0 {
		limit = w.redoRows // the interrupted page's range again
	}
	req := engine.PushdownRequest{Segment: w.seg, TotalSegments: len(m.segs), Cursor: w.at, Limit: limit,
		Migrate: m.pushdown.tr, VersionAttr: m.vattr, Target: m.version}
	pctx, leaseStop := m.leaseWriteContext(ctx)
	res, err := m.pushdown.pd.PushdownPage(pctx, req, func(p engine.PushdownPlan) error {
		var in *pageIntent
		if p.Writes > 0 && m.sc.Journal != nil {
			in = &pageIntent{Writes: int(p.Writes), Range: true, Rows: int(p.Rows), RangeFrom: p.From}
			if p.From != "" {
				in.Upto = p.Upto
			}
		}
		if in == nil && !w.dirty {
			return nil
		}
		if err := m.saveCheckpoint(ctx, w.seg, w.at, in); err != nil {
			m.stop.Store(true)
			return err
		}
		w.dirty = false
		return nil
	})
	if err = leaseStop(err); err != nil {
		if engine.IsJournalStop(err) || errors.Is(err, engine.ErrLeaseLost) {
			return nil, err
		}
		return nil, fmt.Errorf("segment %d: pushdown page: %w", w.seg, err)
	}
	if res.Fallback != "" {
		w.redo, w.redoRows = 0, 0
		w.fellBack = true
		m.pushdown.perRow.Add(1) // holds rows: an empty page pushes down
		// The per-row path holds its page's items in memory: at most
		// pageSize of them, however large the pushdown pages have grown
		// with the table (issue 17: 1M rows took twice the RSS of 100k).
		return w.perRow(ctx, min(limit, m.pageSize()))
	}
	w.fellBack = false
	if res.Scanned > 0 {
		m.pushdown.pages.Add(1)
	}
	already := res.Already
	if w.redo > 0 {
		if res.Migrated+res.Unchanged == 0 { // the interrupted attempt committed this page
			r := min(w.redo, already)
			c.migrated.Add(r)
			c.recovered.Add(r)
			already -= r
		}
		w.redo, w.redoRows = 0, 0
	}
	c.scanned.Add(res.Scanned)
	c.already.Add(already)
	c.notMatched.Add(res.NotMatched)
	c.migrated.Add(res.Migrated)
	c.unchanged.Add(res.Unchanged)
	// The rate limit counts rows: the page's writes take their tokens
	// (pages are at most a chunk of them under a limit).
	written := int(res.Migrated + res.Unchanged)
	if err := m.lim.WaitN(ctx, written); err != nil {
		return nil, err
	}
	m.lim.SucceededN(written, time.Now())
	return res.Next, nil
}

// perRow runs the page at w.at on the per-row path: scan, plan, write-
// ahead checkpoint, guarded writes.
func (w *pushdownWriter) perRow(ctx context.Context, limit int) ([]byte, error) {
	m, c := w.m, &w.m.segs[w.seg]
	page, err := m.scanPage(ctx, engine.ScanRequest{Segment: w.seg, TotalSegments: len(m.segs), Cursor: w.at, Limit: limit, Attrs: m.scanAttrs})
	if err != nil {
		return nil, err
	}
	var size int64
	for _, it := range page.Items {
		size += int64(engine.ItemSize(it))
	}
	plans, err := m.planItems(ctx, w.env, nil, page.Items)
	if err != nil {
		return nil, err
	}
	if in := m.intentOf(plans, nil); in != nil || w.dirty {
		if err := m.saveCheckpoint(ctx, w.seg, w.at, in); err != nil {
			m.stop.Store(true)
			return nil, err
		}
		w.dirty = false
	}
	c.scanned.Add(int64(len(page.Items)))
	c.bytesRead.Add(size)
	pctx, leaseStop := m.leaseWriteContext(ctx)
	if err := leaseStop(m.writePage(pctx, w.seg, nil, plans, &w.us, nil)); err != nil {
		return nil, err
	}
	return page.Next, nil
}

// pushdownPagesPerSegment is how many pages a pushed-down segment aims
// at on a large table: a page costs one statement and one durable
// checkpoint rather than a write per row, so pages grow past batchSize
// (up to pushdownMaxFactor times it) until the checkpoints' share is
// small. Each page costs about 3 ms of CPU besides its rows (commit,
// the journal's synchronous checkpoint): on bench (c′), 8 pages of up to
// 50,000 rows a segment gave a CPU ratio of 0.82–0.84 where 16 of up to
// 20,000 gave 0.77–0.80, run back to back. A page of 50,000 rows holds
// SQLite's write lock for about a tenth of a second; a runbook's
// batch_size sets the page size instead.
const (
	pushdownPagesPerSegment = 8
	pushdownMaxFactor       = 25
)

// pushdownPageSize is pageSize, grown on a large table when neither the
// runbook's batch_size nor a write limit sets it.
func (m *migrator) pushdownPageSize() int {
	b := m.pageSize()
	if m.spec.BatchSize > 0 || m.sc.WriteCeiling()() > 0 {
		return b
	}
	want := m.total / int64(len(m.segs)*pushdownPagesPerSegment)
	return int(min(max(int64(b), want), int64(b*pushdownMaxFactor)))
}

// projection returns the attributes a per-row page needs: what the step
// reads and writes and the version (scanAttrs); nil, every attribute,
// when an expression uses item whole or an external transform gets the
// item.
func (m *migrator) projection() []string {
	if m.readsAll || len(m.spec.Transform) > 0 {
		return nil
	}
	attrs := append(slices.Clone(m.reads), m.spec.Writes()...)
	return append(attrs, m.vattr)
}
