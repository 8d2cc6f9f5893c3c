package migrate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/throttle"
	"github.com/lockstep-run/lockstep/runbook"
)

// segmentDone is the checkpoint cursor of a finished segment.
var segmentDone = []byte("\x00lockstep:segment-done")

// IsSegmentDone reports whether a checkpoint cursor marks a finished segment.
func IsSegmentDone(cursor []byte) bool { return string(cursor) == string(segmentDone) }

// ErrErrorBudget marks a migrate step stopped because its error budget was
// exhausted; it wraps ErrPaused (the step is resumable).
var ErrErrorBudget = fmt.Errorf("error budget exhausted: %w", engine.ErrPaused)

// migrator runs one migrate step.
type migrator struct {
	sc       *engine.StepContext
	spec     *runbook.MigrateSpec
	store    engine.Store
	key      []string
	vattr    string
	version  int64 // the runbook version
	rollback bool  // guard Equals version, write the item's version before (rollback_origins.go)
	// contract: a later migrate step (runbook.MigrateSpec.Contract), or
	// the rollback of one: guard Equals version and keep it.
	contract bool
	dry      bool
	reads    []string
	readsAll bool
	baseEnv  map[string]any
	lim      *throttle.WriteLimiter
	inflight *throttle.Inflight // writes in flight across the segments
	segs     []segCounts
	base     engine.MigrateCounts // restored from checkpoints on resume
	total    int64
	started  time.Time
	emitMu   sync.Mutex
	stop     atomic.Bool // budget exhausted or a segment failed
	warned   atomic.Int64
	samples  sampler
	origins  origins // a rollback: versions the forward step found items at
	// lineTimeout bounds an external transform's wait for a line it owes.
	lineTimeout time.Duration
	throttleNote
	writeAhead
	pushdown pushdown // the pushdown path on a SQL store (migrate_pushdown.go)
	// scanAttrs are the attributes a page is read with (nil: all).
	scanAttrs []string
}

// Executor is the migrate executor (steps.Default uses the zero
// value).
type Executor struct {
	// TransformLineTimeout is how long an external transform may print
	// nothing while it owes lines (0: DefaultTransformLineTimeout).
	TransformLineTimeout time.Duration
}

// Execute runs one migrate step.
func (e Executor) Execute(ctx context.Context, sc *engine.StepContext) (any, error) {
	if sc.Step.Migrate.Copy() {
		return runCopy(ctx, sc) // into another table: migrate_into.go
	}
	m, err := newMigrator(ctx, sc)
	if err != nil {
		return nil, err
	}
	m.lineTimeout = cmp.Or(e.TransformLineTimeout, DefaultTransformLineTimeout)
	return m.run(ctx)
}

func newMigrator(ctx context.Context, sc *engine.StepContext) (*migrator, error) {
	spec := sc.Step.Migrate
	if spec == nil {
		return nil, fmt.Errorf("migrate %s: no migrate spec", sc.Step.ID)
	}
	if sc.Store == nil {
		return nil, fmt.Errorf("migrate %s: no store for this environment", sc.Step.ID)
	}
	st, err := sc.Store(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: open store: %w", sc.Step.ID, err)
	}
	describe := st.Describe
	if c, ok := st.(engine.Counter); ok {
		describe = c.DescribeCount // migrate needs no sizes
	}
	info, err := describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: describe table: %w", sc.Step.ID, err)
	}
	m := &migrator{
		sc: sc, spec: spec, store: st, key: info.Key, vattr: versionAttr(sc),
		version: int64(sc.Runbook.Version), rollback: sc.Rollback, dry: sc.Mode == engine.ModeDryRun,
		contract: spec.Contract() || sc.Rollback && sc.Of != nil && sc.Of.Migrate.Contract(),
		lim:      throttle.NewWriteLimiter(sc.WriteCeiling()), total: info.ItemCount, started: time.Now(),
	}
	m.reads, m.readsAll = spec.Reads(), spec.ReadsWholeItem()
	if sc.ExprEnv != nil {
		m.baseEnv = sc.ExprEnv()
	}
	m.segs = make([]segCounts, m.segments())
	m.inflight = throttle.NewInflight(sc.ClockOrSystem(), len(m.segs)*writeWorkers)
	if err := m.loadOrigins(ctx); err != nil {
		return nil, fmt.Errorf("migrate %s: %w", sc.Step.ID, err)
	}
	m.choosePath()
	m.scanAttrs = m.projection()
	return m, nil
}

// env returns a fresh expression environment for one goroutine.
func (m *migrator) env() *itemEnv {
	return newItemEnvFrom(m.baseEnv, m.spec.Exprs()...)
}

func (m *migrator) run(ctx context.Context) (any, error) {
	errs, err := segmentsRun{
		sc: m.sc, dry: m.dry, segments: len(m.segs), stop: &m.stop, emit: m.emit,
		resume: func(ctx context.Context) error {
			if err := m.restoreCounts(ctx); err != nil {
				return err
			}
			m.base = m.totals()
			return nil
		},
		intro:  func(cursors map[int][]byte) []string { return []string{m.describe(cursors), m.pathText()} },
		report: m.report,
		segment: func(ctx context.Context, seg int, cursor []byte) error {
			if m.pushdown.tr != nil {
				return m.runSegmentPushdown(ctx, seg, cursor)
			}
			return m.runSegment(ctx, seg, cursor)
		},
	}.run(ctx)
	if err != nil {
		return nil, err
	}
	res := m.result()
	_ = m.emit(engine.NewEvent(m.sc.Step.ID, m.progress()))
	if err := m.firstError(errs); err != nil {
		return res, err
	}
	if err := m.leftBehind(res.MigrateCounts); err != nil {
		return res, err
	}
	if m.dry {
		_ = m.emit(engine.NewEvent(m.sc.Step.ID, engine.Result{Value: res}))
	}
	return res, nil
}

// firstError picks what the step returns (stepError).
func (m *migrator) firstError(errs []error) error {
	return stepError(m.sc.Step.ID, errs, func() int64 { return m.totals().Failures - m.base.Failures }, m.budget())
}

// stepError picks what a migrate step (in place or a copy) returns from
// its segments' errors: a real failure first, then an abort, then a
// pause or an exhausted budget (failures, the step's item failures so
// far, against budget, named then).
func stepError(step string, errs []error, failures func() int64, budget int64) error {
	var abort, pause error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, engine.ErrAborted):
			abort = err
		case errors.Is(err, engine.ErrPaused):
			pause = err
		default:
			return fmt.Errorf("migrate %s: %w", step, err)
		}
	}
	if abort != nil {
		return abort
	}
	if pause != nil && errors.Is(pause, ErrErrorBudget) {
		return fmt.Errorf("migrate %s: %d item failures exceed error_budget %d (keys in the journal's warnings); fix the cause and resume: %w",
			step, failures(), budget, ErrErrorBudget)
	}
	return pause
}

// ErrItemsLeft marks a migrate step that scanned the whole table but left
// items unmigrated (per-item failures, conflicts given up on): it fails,
// so the operator decides (retry, skip with a reason, roll back) instead of
// a step that looks done.
var ErrItemsLeft = errors.New("items left unmigrated")

// leftBehind fails a finished run that left items behind. Checkpoints have
// moved past them, so a resume would not see them again; a retry reads
// the table again and writes only what is not at the target version yet.
func (m *migrator) leftBehind(t engine.MigrateCounts) error {
	if t.Failures == 0 && t.Unresolved == 0 {
		return nil
	}
	var parts []string
	if t.Failures > 0 {
		parts = append(parts, fmt.Sprintf("%d item(s) failed", t.Failures))
	}
	if t.Unresolved > 0 {
		parts = append(parts, fmt.Sprintf("%d item(s) kept conflicting with concurrent writes", t.Unresolved))
	}
	verb := "would be"
	if !m.dry {
		verb = "were"
	}
	return fmt.Errorf("migrate %s: %s and %s left behind (keys and errors in the journal's warnings); fix the cause, then retry: a retry reads the table again and writes only the items not at version %d yet: %w",
		m.sc.Step.ID, strings.Join(parts, ", "), verb, m.targetVersion(), ErrItemsLeft)
}

// targetVersion is the version this run writes.
func (m *migrator) targetVersion() int64 {
	if m.movesDown() {
		return m.version - 1
	}
	return m.version
}

// atVersion reports a run that only touches items at the runbook's
// version: a rollback, or a contract step.
func (m *migrator) atVersion() bool { return m.rollback || m.contract }

// movesDown reports a run that takes items back to version-1: the
// rollback of the migrate step that moved them up.
func (m *migrator) movesDown() bool { return m.rollback && !m.contract }

func (m *migrator) budget() int64 {
	if m.spec.ErrorBudget > 0 {
		return int64(m.spec.ErrorBudget)
	}
	return runbook.DefaultErrorBudget
}

func (m *migrator) describe(cursors map[int][]byte) string {
	what := "migrating to version"
	v := m.version
	switch {
	case m.movesDown():
		what = "rolling back to the version each item had before (recorded by the forward step), from version"
	case m.rollback:
		what = "rolling back, on items at version"
	case m.contract:
		what = fmt.Sprintf("after %s, on items at version", m.spec.After)
	}
	if m.dry {
		what = "dry run: " + what
	}
	s := fmt.Sprintf("%s %d: %d segments, about %d items", what, v, len(m.segs), m.total)
	if m.total == 0 {
		// DynamoDB's approximate count lags (refreshed about every six
		// hours): say so rather than promise "about 0 items".
		s = fmt.Sprintf("%s %d: %d segments, table size not known yet (approximate count is 0)", what, v, len(m.segs))
	}
	if len(cursors) > 0 {
		s += fmt.Sprintf(", resuming %d segment checkpoints", len(cursors))
	}
	if r := m.sc.WriteCeiling()(); r > 0 {
		s += fmt.Sprintf(", at most %d items/s", r)
	}
	return s
}

// Result is the result of a migrate step (journaled with step.end).
type Result struct {
	engine.MigrateCounts
	Skipped     int64        `json:"skipped"`
	Version     int64        `json:"version"` // version written
	Rollback    bool         `json:"rollback,omitempty"`
	After       string       `json:"after,omitempty"` // a contract step: the migrate step it follows
	DryRun      bool         `json:"dry_run,omitempty"`
	Resumed     bool         `json:"resumed,omitempty"`
	Segments    int          `json:"segments"`
	Total       int64        `json:"total"` // table size when the step started (approximate on DynamoDB)
	ElapsedMS   int64        `json:"elapsed_ms"`
	ItemsPerSec float64      `json:"items_per_sec"` // items written per second of this run
	ScannedPS   float64      `json:"scanned_per_sec"`
	AvgItemB    int64        `json:"avg_item_bytes"`
	WriteLimit  float64      `json:"write_limit"`  // effective items/s at the end (0 = unlimited)
	WriteTokens int64        `json:"write_tokens"` // token-bucket tokens taken: one per write attempt
	Samples     []SampleDiff `json:"samples,omitempty"`
	// PushdownPages and PerRowPages count a pushed-down step's pages by
	// the path they took (a page holding a row the SQL translation is not
	// exact for runs per row).
	PushdownPages int64 `json:"pushdown_pages,omitempty"`
	PerRowPages   int64 `json:"per_row_pages,omitempty"`
}

func (m *migrator) result() Result {
	t := m.totals()
	el := time.Since(m.started)
	r := Result{
		MigrateCounts: t, Skipped: t.Skipped(), Version: m.version, Rollback: m.rollback, DryRun: m.dry,
		Resumed: m.sc.Resumed, Segments: len(m.segs), Total: m.total, ElapsedMS: el.Milliseconds(),
		WriteLimit: round1(m.lim.Limit()), WriteTokens: m.lim.Taken(), Samples: m.samples.list(),
		PushdownPages: m.pushdown.pages.Load(), PerRowPages: m.pushdown.perRow.Load(),
	}
	r.Version = m.targetVersion()
	if m.contract {
		r.After = m.spec.After
		if m.rollback && m.sc.Of != nil {
			r.After = m.sc.Of.Migrate.After
		}
	}
	if s := el.Seconds(); s > 0 {
		r.ItemsPerSec = round1(float64(t.Migrated-m.base.Migrated) / s)
		r.ScannedPS = round1(float64(t.Scanned-m.base.Scanned) / s)
	}
	if t.Scanned > 0 {
		r.AvgItemB = t.Bytes / t.Scanned
	}
	return r
}

// transformDir is where an external transform runs: the runbook's directory.
func (m *migrator) transformDir() string {
	if d := m.sc.Runbook.Dir; d != "" {
		return d
	}
	p := m.sc.Runbook.Path
	if p == "" || strings.HasPrefix(p, "<") {
		return ""
	}
	return filepath.Dir(p)
}
