package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/throttle"
	"github.com/lockstep-run/lockstep/runbook"
)

// copier runs a migrate step with `into:`: it scans the environment's
// table in parallel segments and writes each selected item, transformed
// and under its new key, into the target table with a guarded PutItem
// that applies only where the target holds no item or an older version
// (never over a newer item, a re-run's or an application's). Each page
// is checkpointed once written, so a resume redoes at most the page in
// flight per segment, whose items it finds already copied. Its rollback
// deletes the items it copied, each only while it still holds exactly
// what the copy wrote (migrate_into_write.go).
type copier struct {
	sc       *engine.StepContext
	spec     *runbook.MigrateSpec
	src      engine.Store
	dst      engine.CopyTarget
	srcKey   []string
	dstKey   []string
	table    string // the target table, expanded
	srcTable string
	vattr    string
	version  int64
	rollback bool
	dry      bool
	baseEnv  map[string]any
	lim      *throttle.WriteLimiter
	segs     []copySeg
	base     CopyCounts // restored from checkpoints on resume
	total    int64
	started  time.Time
	stop     atomic.Bool
	emitMu   sync.Mutex
	gate     journalGate
	warned   atomic.Int64
	targets  targetKeys
	samples  copySamples
}

// runCopy is the migrate executor of a step with `into:`.
func runCopy(ctx context.Context, sc *engine.StepContext) (any, error) {
	c, err := newCopier(ctx, sc)
	if err != nil {
		return nil, err
	}
	return c.run(ctx)
}

func newCopier(ctx context.Context, sc *engine.StepContext) (*copier, error) {
	spec, id := sc.Step.Migrate, sc.Step.ID
	src, err := sc.EnvStore(ctx)
	if err != nil {
		return nil, err
	}
	opener, ok := src.(engine.TableOpener)
	if !ok {
		return nil, fmt.Errorf("migrate %s: into: the %s store cannot copy into another table: only DynamoDB can (%s)", id, sc.Env.Store.Kind, spec.Into.Pos)
	}
	getenv := sc.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	table, err := runbook.Expand(spec.Into.Table, getenv)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: into table: %w", id, err)
	}
	info, err := describeCount(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: describe table: %w", id, err)
	}
	if strings.EqualFold(table, info.Table) {
		return nil, fmt.Errorf("migrate %s: into table %s is the step's own table: name the new table", id, table)
	}
	dst, err := opener.OpenTable(ctx, table)
	if errors.Is(err, engine.ErrNoTable) {
		return nil, fmt.Errorf("migrate %s: into table %s does not exist: create it first with key (%s), its indexes and capacity (infrastructure as code), then retry: %w",
			id, table, strings.Join(spec.Into.KeyAttrs(), ", "), err)
	}
	if err != nil {
		return nil, fmt.Errorf("migrate %s: open into table %s: %w", id, table, err)
	}
	dinfo, err := dst.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: describe into table %s: %w", id, table, err)
	}
	if want := spec.Into.KeyAttrs(); !slices.Equal(dinfo.Key, want) {
		return nil, fmt.Errorf("migrate %s: into table %s has key (%s), the step computes (%s): make into.key name the table's key attributes, partition key first",
			id, table, strings.Join(dinfo.Key, ", "), strings.Join(want, ", "))
	}
	c := &copier{
		sc: sc, spec: spec, src: src, dst: dst, srcKey: info.Key, dstKey: dinfo.Key, table: table, srcTable: info.Table,
		vattr: versionAttr(sc), version: int64(sc.Runbook.Version), rollback: sc.Rollback,
		dry: sc.Mode == engine.ModeDryRun, lim: throttle.NewWriteLimiter(sc.WriteCeiling()), total: info.ItemCount,
		started: time.Now(), targets: targetKeys{seen: map[uint64]uint64{}},
	}
	if sc.ExprEnv != nil {
		c.baseEnv = sc.ExprEnv()
	}
	c.segs = make([]copySeg, c.segments(src))
	return c, nil
}

// describeCount describes st, without sizes where the store can.
func describeCount(ctx context.Context, st engine.Store) (engine.TableInfo, error) {
	if c, ok := st.(engine.Counter); ok {
		return c.DescribeCount(ctx)
	}
	return st.Describe(ctx)
}

// segments is the number of scan segments: the step's, else the store's
// preference, else runbook.DefaultSegments.
func (c *copier) segments(st engine.Store) int {
	var d engine.MigrateDefaults
	if t, ok := st.(engine.MigrateTuner); ok {
		d = t.MigrateDefaults()
	}
	return pick(c.spec.Segments, d.Segments, runbook.DefaultSegments)
}

// pageSize is batch_size, and under a write limit at most each
// segment's share of one second of writes.
func (c *copier) pageSize() int {
	b := pick(c.spec.BatchSize, runbook.DefaultBatchSize)
	if r := c.sc.WriteCeiling()(); r > 0 {
		b = min(b, max(1, r/len(c.segs)))
	}
	return b
}

func (c *copier) env() *itemEnv { return newItemEnvFrom(c.baseEnv, c.spec.Exprs()...) }

func (c *copier) run(ctx context.Context) (any, error) {
	errs, err := segmentsRun{
		sc: c.sc, dry: c.dry, segments: len(c.segs), stop: &c.stop, emit: c.emit,
		resume: func(ctx context.Context) error {
			if err := c.restoreCounts(ctx); err != nil {
				return err
			}
			c.base = c.totals()
			return nil
		},
		intro:   func(cursors map[int][]byte) []string { return []string{c.describe(cursors)} },
		report:  c.report,
		segment: c.runSegment,
	}.run(ctx)
	if err != nil {
		return nil, err
	}
	res := c.result()
	_ = c.emit(engine.NewEvent(c.sc.Step.ID, c.progress()))
	if err := c.firstError(errs); err != nil {
		return res, err
	}
	if err := c.leftBehind(res.Copy); err != nil {
		return res, err
	}
	if c.dry {
		_ = c.emit(engine.NewEvent(c.sc.Step.ID, engine.Result{Value: res}))
	}
	return res, nil
}

func (c *copier) describe(cursors map[int][]byte) string {
	what := fmt.Sprintf("copying into %s under key (%s) at version %d", c.table, strings.Join(c.dstKey, ", "), c.version)
	if c.rollback {
		what = fmt.Sprintf("rolling back the copy into %s: deleting the items it copied at version %d that still hold what it wrote", c.table, c.version)
	}
	if c.dry {
		what = "dry run: " + what
	}
	s := fmt.Sprintf("%s: %d segments, about %d items", what, len(c.segs), c.total)
	if len(cursors) > 0 {
		s += fmt.Sprintf(", resuming %d segment checkpoints", len(cursors))
	}
	if r := c.sc.WriteCeiling()(); r > 0 {
		s += fmt.Sprintf(", at most %d items/s", r)
	}
	return s
}

// runSegment copies one scan segment from cursor (nil: its start), page
// by page: scan, plan, write, then checkpoint the cursor after the page.
func (c *copier) runSegment(ctx context.Context, seg int, cursor []byte) error {
	env := c.env()
	for {
		if c.stop.Load() {
			return nil
		}
		if c.sc.Control != nil {
			if err := c.sc.Control.Checkpoint(ctx); err != nil {
				return err
			}
		}
		if err := c.gate.closed(); err != nil {
			return err
		}
		if err := c.checkLease(ctx); err != nil {
			c.stop.Store(true)
			return err
		}
		page, err := ScanRetry(ctx, c.sc.ClockOrSystem(), c.src, engine.ScanRequest{Segment: seg, TotalSegments: len(c.segs), Cursor: cursor, Limit: c.pageSize()})
		if err != nil {
			return err
		}
		s := &c.segs[seg]
		plans := make([]copyPlan, len(page.Items))
		for i, it := range page.Items {
			s.bytes.Add(int64(engine.ItemSize(it)))
			plans[i] = planCopy(env, c.spec, c.vattr, c.version, it)
		}
		wctx, leaseStop := c.sc.LeaseWriteContext(ctx, c.src)
		if c.dry {
			wctx, leaseStop = ctx, func(err error) error { return err }
		}
		err = leaseStop(c.writePage(wctx, seg, env, plans))
		s.scanned.Add(int64(len(page.Items)))
		if err != nil {
			if errors.Is(err, engine.ErrLeaseLost) {
				c.stop.Store(true)
			}
			return err // a resume redoes the page
		}
		next := page.Next
		if next == nil {
			next = segmentDone
		}
		if err := c.saveCheckpoint(ctx, seg, next); err != nil {
			c.stop.Store(true)
			return err
		}
		if c.totals().Failures-c.base.Failures > c.budget() {
			c.stop.Store(true)
			return ErrErrorBudget
		}
		if page.Next == nil {
			return nil
		}
		cursor = page.Next
	}
}

// checkLease lets a page be written only while the session holds its
// leases.
func (c *copier) checkLease(ctx context.Context) error {
	if c.dry || c.sc.Leases == nil {
		return nil
	}
	if err := c.sc.Leases.Check(ctx); err != nil {
		return fmt.Errorf("check lease: %w", err)
	}
	return nil
}

func (c *copier) budget() int64 {
	return int64(pick(c.spec.ErrorBudget, runbook.DefaultErrorBudget))
}

func (c *copier) maxRetries() int {
	return pick(c.spec.MaxRetries, runbook.DefaultMaxRetries)
}

// firstError picks what the step returns (stepError).
func (c *copier) firstError(errs []error) error {
	return stepError(c.sc.Step.ID, errs, func() int64 { return c.totals().Failures - c.base.Failures }, c.budget())
}

// leftBehind fails a finished copy that left items out: failures, and
// collisions (two source items under one new key), which no retry
// resolves: the key design must change.
func (c *copier) leftBehind(t CopyCounts) error {
	var parts []string
	if t.Collisions > 0 {
		parts = append(parts, fmt.Sprintf("%d item(s) collide with another item under their new key (a new key that is not unique: change into.key)", t.Collisions))
	}
	if t.Failures > 0 {
		parts = append(parts, fmt.Sprintf("%d item(s) failed", t.Failures))
	}
	if len(parts) == 0 {
		return nil
	}
	verb := "were"
	if c.dry {
		verb = "would be"
	}
	return fmt.Errorf("migrate %s: %s and %s left out of %s (keys in the journal's warnings); fix the cause, then retry: a retry copies only what the target lacks: %w",
		c.sc.Step.ID, strings.Join(parts, ", "), verb, c.table, ErrItemsLeft)
}

// emit journals ev; segments call it concurrently. A failed journal
// write closes the gate: no segment writes another page.
func (c *copier) emit(ev engine.Event) error {
	c.emitMu.Lock()
	defer c.emitMu.Unlock()
	if c.sc.Emit == nil {
		return nil
	}
	if err := c.sc.Emit(ev); err != nil {
		return c.gate.fail(engine.NewJournalFailure(c.sc.Journal, c.sc.Session.ID, err))
	}
	return nil
}

// warn journals a per-item warning (bounded in number) naming the source
// key and, when known, the target key.
func (c *copier) warn(seg int, p copyPlan, msg string, err error) {
	if c.warned.Add(1) > maxJournaledFailures {
		return
	}
	key := KeyString(engine.KeyOf(p.src, c.srcKey), c.srcKey)
	if p.item != nil {
		key += " → " + KeyString(engine.KeyOf(p.item, c.dstKey), c.dstKey)
	}
	data := engine.Warning{Message: msg, Key: key, Segment: &seg}
	if err != nil {
		data.Error = err.Error()
		if c.sc.Redact != nil {
			data.Error = c.sc.Redact(data.Error)
		}
	}
	_ = c.emit(engine.NewEvent(c.sc.Step.ID, data))
}
