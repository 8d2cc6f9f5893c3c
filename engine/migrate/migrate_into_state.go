package migrate

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// CopyCounts are the figures of a copy (a migrate step with into), per
// segment in checkpoints and summed in the result.
type CopyCounts struct {
	Scanned int64 `json:"scanned"` // source items read
	// Copied items were written into the target (dry-run: would be); a
	// rollback's deleted items.
	Copied int64 `json:"copied"`
	// Already: the target held exactly the item (a re-run, a resume, the
	// application's dual write); a rollback's items already gone.
	Already int64 `json:"already"`
	// Newer: the target held a newer version of the item, or the same
	// source item written otherwise by the application: kept as it is. A
	// rollback's items changed since the copy, kept.
	Newer      int64 `json:"newer"`
	NotMatched int64 `json:"not_matched"` // where is false
	// Collisions: source items whose new key holds another source item
	// (the new key is not unique): not written, reported.
	Collisions int64 `json:"collisions"`
	Conflicts  int64 `json:"conflicts"` // failed conditions, each resolved by a re-read
	Throttles  int64 `json:"throttles"`
	Failures   int64 `json:"failures"` // per-item failures (count against error_budget)
	Bytes      int64 `json:"bytes"`
}

func (c *CopyCounts) add(o CopyCounts) {
	c.Scanned += o.Scanned
	c.Copied += o.Copied
	c.Already += o.Already
	c.Newer += o.Newer
	c.NotMatched += o.NotMatched
	c.Collisions += o.Collisions
	c.Conflicts += o.Conflicts
	c.Throttles += o.Throttles
	c.Failures += o.Failures
	c.Bytes += o.Bytes
}

// settled is the number of source items whose fate is known.
func (c CopyCounts) settled() int64 {
	return c.Copied + c.Already + c.Newer + c.NotMatched + c.Collisions + c.Failures
}

// copySeg are one segment's live counters.
type copySeg struct {
	scanned, copied, already, newer, notMatched atomic.Int64
	collisions, conflicts, throttles, failures  atomic.Int64
	bytes                                       atomic.Int64
}

func (s *copySeg) snapshot() CopyCounts {
	return CopyCounts{Scanned: s.scanned.Load(), Copied: s.copied.Load(), Already: s.already.Load(),
		Newer: s.newer.Load(), NotMatched: s.notMatched.Load(), Collisions: s.collisions.Load(),
		Conflicts: s.conflicts.Load(), Throttles: s.throttles.Load(), Failures: s.failures.Load(), Bytes: s.bytes.Load()}
}

func (s *copySeg) restore(c CopyCounts) {
	s.scanned.Store(c.Scanned)
	s.copied.Store(c.Copied)
	s.already.Store(c.Already)
	s.newer.Store(c.Newer)
	s.notMatched.Store(c.NotMatched)
	s.collisions.Store(c.Collisions)
	s.conflicts.Store(c.Conflicts)
	s.throttles.Store(c.Throttles)
	s.failures.Store(c.Failures)
	s.bytes.Store(c.Bytes)
}

func (c *copier) totals() CopyCounts {
	var t CopyCounts
	for i := range c.segs {
		t.add(c.segs[i].snapshot())
	}
	return t
}

// copyCheckpoint is what a copy saves with each page's checkpoint: the
// segment's counts so far and the number of segments its cursors were
// made in.
type copyCheckpoint struct {
	Copy     CopyCounts `json:"copy"`
	Segments int        `json:"segments"`
}

// saveCheckpoint makes seg's cursor after a written page, and its
// counts, durable. A failed journal write closes the gate.
func (c *copier) saveCheckpoint(ctx context.Context, seg int, cursor []byte) error {
	if c.dry || c.sc.Journal == nil {
		return nil
	}
	if err := c.gate.closed(); err != nil {
		return err
	}
	data := copyCheckpoint{Copy: c.segs[seg].snapshot(), Segments: len(c.segs)}
	if err := c.sc.Journal.SaveCheckpoint(context.WithoutCancel(ctx), c.sc.Session.ID, c.sc.Step.ID, seg, cursor, data); err != nil {
		return c.gate.fail(engine.NewJournalFailure(c.sc.Journal, c.sc.Session.ID, fmt.Errorf("segment %d: %w", seg, err)))
	}
	return nil
}

// restoreCounts reads the counts of each segment's latest checkpoint of
// the step, in the segmentation they were made in.
func (c *copier) restoreCounts(ctx context.Context) error {
	evs, err := c.sc.Journal.Events(ctx, c.sc.Session.ID)
	if err != nil {
		return err
	}
	last := map[int]copyCheckpoint{}
	for _, ev := range evs {
		if ev.Kind != engine.EvCheckpoint || ev.Step != c.sc.Step.ID {
			continue
		}
		cp, err := engine.DecodeAs[engine.Checkpointed](ev)
		var data copyCheckpoint
		if err != nil || cp.Segment < 0 || json.Unmarshal(cp.Data, &data) != nil {
			continue
		}
		if data.Segments > 0 && data.Segments != len(c.segs) {
			c.segs = make([]copySeg, data.Segments)
		}
		last[cp.Segment] = data
	}
	for seg, data := range last {
		if seg < len(c.segs) {
			c.segs[seg].restore(data.Copy)
		}
	}
	return nil
}

// CopyResult is the result of a migrate step with into. It carries a
// migrate step's figures (migrated: the items copied) so that estimates
// and the registry read it as any migrate step's.
type CopyResult struct {
	Result
	Copy    CopyCounts   `json:"copy"`
	Into    string       `json:"into"`     // the target table
	IntoKey []string     `json:"into_key"` // its key
	Copies  []CopySample `json:"copies,omitempty"`
}

func (c *copier) result() CopyResult {
	t := c.totals()
	el := time.Since(c.started)
	mc := engine.MigrateCounts{Scanned: t.Scanned, Migrated: t.Copied, Already: t.Already + t.Newer, NotMatched: t.NotMatched,
		Conflicts: t.Conflicts, Unresolved: t.Collisions, Throttles: t.Throttles, Failures: t.Failures, Bytes: t.Bytes}
	r := CopyResult{Copy: t, Into: c.table, IntoKey: c.dstKey, Copies: c.samples.list()}
	r.Result = Result{MigrateCounts: mc, Skipped: mc.Skipped(), Version: c.version, Rollback: c.rollback,
		DryRun: c.dry, Resumed: c.sc.Resumed, Segments: len(c.segs), Total: c.total, ElapsedMS: el.Milliseconds(),
		WriteLimit: round1(c.lim.Limit()), WriteTokens: c.lim.Taken()}
	if s := el.Seconds(); s > 0 {
		r.ItemsPerSec = round1(float64(t.Copied-c.base.Copied) / s)
		r.ScannedPS = round1(float64(t.Scanned-c.base.Scanned) / s)
	}
	if t.Scanned > 0 {
		r.AvgItemB = t.Bytes / t.Scanned
	}
	return r
}

// progress is the step's EvProgress payload, as a migrate step's.
func (c *copier) progress() engine.Progress {
	t := c.totals()
	done, before := t.settled(), c.base.settled()
	rate, writes := 0.0, 0.0
	if s := time.Since(c.started).Seconds(); s > 0 {
		rate = float64(done-before) / s
		writes = float64(t.Copied-c.base.Copied) / s
	}
	var eta int64
	if rate > 0 && c.total > done {
		eta = int64(float64(c.total-done) / rate * 1000)
	}
	return engine.Progress{Done: done, Total: c.total, Scanned: t.Scanned, Migrated: t.Copied,
		Skipped: t.Already + t.Newer + t.NotMatched, Conflicts: t.Conflicts, Throttles: t.Throttles,
		Failures: t.Failures + t.Collisions, Rate: round1(rate), ItemsPerSec: round1(writes),
		WriteLimit: round1(c.lim.Limit()), WriteRate: round1(c.lim.Rate(time.Now())), ETAms: eta}
}

// report shows live progress about 4×/s and journals it every 5 s.
func (c *copier) report(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p := c.progress()
		if c.sc.Progress != nil {
			c.sc.Progress(engine.NewEvent(c.sc.Step.ID, p))
		}
		if time.Since(last) >= 5*time.Second {
			last = time.Now()
			_ = c.emit(engine.NewEvent(c.sc.Step.ID, p))
		}
	}
}

// maxTrackedTargets bounds the new keys a copy remembers to tell two
// source items under one new key apart within a run (16 bytes each).
// Past it, and across a resume, the guarded write still refuses to
// overwrite: the collision is found when the write's condition fails.
const maxTrackedTargets = 1 << 21

// targetKeys remembers, per hash of a new key, the hash of the source
// key copied under it.
type targetKeys struct {
	mu   sync.Mutex
	seen map[uint64]uint64
}

// claim records that source key src goes under target key dst; false
// when another source key went there first.
func (t *targetKeys) claim(dst, src uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if prev, ok := t.seen[dst]; ok {
		return prev == src
	}
	if len(t.seen) < maxTrackedTargets {
		t.seen[dst] = src
	}
	return true
}

// keyHash64 hashes an item's key for targetKeys.
func keyHash64(it engine.Item, key []string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(KeyString(engine.KeyOf(it, key), key)))
	return h.Sum64()
}

// CopySample is one copied item of a dry run: the source key, the new
// key, and the item as the target would hold it.
type CopySample struct {
	From string         `json:"from"`
	To   string         `json:"to"`
	Item map[string]any `json:"item"`
}

// String renders the sample on one line.
func (s CopySample) String() string {
	b, _ := json.Marshal(s.Item)
	return fmt.Sprintf("would copy %s → %s: %s", s.From, s.To, b)
}

// copySamples keeps the first maxSamples copies of a dry run.
type copySamples struct {
	mu    sync.Mutex
	items []CopySample
}

func (s *copySamples) add(c *copier, p copyPlan) {
	s.mu.Lock()
	if len(s.items) >= maxSamples {
		s.mu.Unlock()
		return
	}
	sm := CopySample{From: KeyString(engine.KeyOf(p.src, c.srcKey), c.srcKey), To: KeyString(engine.KeyOf(p.item, c.dstKey), c.dstKey),
		Item: map[string]any{}}
	for k, v := range p.item {
		sm.Item[k] = engine.ToExprValue(v)
	}
	s.items = append(s.items, sm)
	s.mu.Unlock()
	_ = c.emit(engine.NewEvent(c.sc.Step.ID, engine.Output{Stream: "stdout", Text: sm.String()}))
}

func (s *copySamples) list() []CopySample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CopySample(nil), s.items...)
}
