package migrate

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// throttleNote is when the throttle count was last journaled.
type throttleNote struct {
	throttleMu    sync.Mutex
	throttleNoted int64
	throttleAt    time.Time
}

// segCounts are one segment's live counters.
type segCounts struct {
	scanned, migrated, already, notMatched, unchanged     atomic.Int64
	conflicts, unresolved, throttles, failures, bytesRead atomic.Int64
	recovered                                             atomic.Int64
}

func (s *segCounts) snapshot() engine.MigrateCounts {
	return engine.MigrateCounts{
		Scanned: s.scanned.Load(), Migrated: s.migrated.Load(), Already: s.already.Load(),
		NotMatched: s.notMatched.Load(), Unchanged: s.unchanged.Load(), Conflicts: s.conflicts.Load(),
		Unresolved: s.unresolved.Load(), Throttles: s.throttles.Load(), Failures: s.failures.Load(),
		Bytes: s.bytesRead.Load(), Recovered: s.recovered.Load(),
	}
}

func (s *segCounts) restore(c engine.MigrateCounts) {
	s.scanned.Store(c.Scanned)
	s.migrated.Store(c.Migrated)
	s.already.Store(c.Already)
	s.notMatched.Store(c.NotMatched)
	s.unchanged.Store(c.Unchanged)
	s.conflicts.Store(c.Conflicts)
	s.unresolved.Store(c.Unresolved)
	s.throttles.Store(c.Throttles)
	s.failures.Store(c.Failures)
	s.bytesRead.Store(c.Bytes)
	s.recovered.Store(c.Recovered)
}

func (s *segCounts) count(o outcome) {
	switch o {
	case outAlready:
		s.already.Add(1)
	case outNotMatched:
		s.notMatched.Add(1)
	case outUnchanged:
		s.unchanged.Add(1)
	}
}

// totals sums every segment.
func (m *migrator) totals() engine.MigrateCounts {
	var t engine.MigrateCounts
	for i := range m.segs {
		t.Add(m.segs[i].snapshot())
	}
	return t
}

// progress is the payload of EvProgress events of a migrate step: done
// (items whose fate is settled: written, skipped, failed or given up on —
// not merely read, so a page still being written under a rate limit does
// not show as done) and total items (approximate on DynamoDB), the
// counts, rate (items settled/s, the basis of eta_ms), items_per_sec
// (written/s since the step started), write_rate (writes getting through
// per second over the last two seconds: what the store actually takes)
// and write_limit (the limiter's effective rate, 0 = unlimited: a ceiling,
// not a measure).
func (m *migrator) progress() engine.Progress {
	t := m.totals()
	done, before := t.Settled(), m.base.Settled()
	el := time.Since(m.started)
	rate, writes := 0.0, 0.0
	if s := el.Seconds(); s > 0 {
		rate = float64(done-before) / s
		writes = float64(t.Migrated-m.base.Migrated) / s
	}
	var eta int64
	if rate > 0 && m.total > done {
		eta = int64(float64(m.total-done) / rate * 1000)
	}
	return engine.Progress{
		Done: done, Total: m.total, Scanned: t.Scanned, Migrated: t.Migrated,
		Skipped: t.Skipped(), Unchanged: t.Unchanged, Conflicts: t.Conflicts, Throttles: t.Throttles,
		Failures: t.Failures, Rate: round1(rate), ItemsPerSec: round1(writes),
		WriteLimit: round1(m.lim.Limit()), WriteRate: round1(m.lim.Rate(time.Now())),
		ETAms: eta,
	}
}

// report shows live progress about 4×/s and journals it every 5 s, until
// ctx is done. It samples throughput figures (items/s), so it runs on the
// monotonic clock, as progress does.
func (m *migrator) report(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastJournal := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p := m.progress()
		if m.sc.Progress != nil {
			m.sc.Progress(engine.NewEvent(m.sc.Step.ID, p))
		}
		if time.Since(lastJournal) >= 5*time.Second {
			lastJournal = time.Now()
			_ = m.emit(engine.NewEvent(m.sc.Step.ID, p))
		}
	}
}

// noteThrottles journals the throttle count after a checkpoint when it grew,
// at most once a second (monotonic, as the limiter it reports on): throttling is visible in the journal without an
// event per throttle.
func (m *migrator) noteThrottles() {
	th := m.totals().Throttles
	m.throttleMu.Lock()
	if th <= m.throttleNoted || time.Since(m.throttleAt) < time.Second {
		m.throttleMu.Unlock()
		return
	}
	m.throttleNoted, m.throttleAt = th, time.Now()
	m.throttleMu.Unlock()
	limit, through := m.lim.Limit(), m.lim.Rate(time.Now())
	_ = m.emit(engine.NewEvent(m.sc.Step.ID, engine.Warning{
		Message:   fmt.Sprintf("writes throttled %d times; %.0f items/s getting through, limit adapted to %.0f items/s", th, through, limit),
		Throttles: &th, WriteLimit: new(round1(limit)), WriteRate: new(round1(through))}))
}

// emit journals ev; segments call it concurrently.
func (m *migrator) emit(ev engine.Event) error {
	m.emitMu.Lock()
	defer m.emitMu.Unlock()
	if m.sc.Emit == nil {
		return nil
	}
	if err := m.sc.Emit(ev); err != nil {
		return m.journalFailed(err) // no segment writes another page
	}
	return nil
}

// checkpointData is what migrate saves with each page's checkpoint: the
// segment's counts so far, the step's number of segments, so that a
// resumed step scans in the segmentation its cursors were made in even if
// the default (the store's, or lockstep's) changed since, and the intent
// of the page about to be written from the cursor (none at the end).
type checkpointData struct {
	engine.MigrateCounts
	Segments int         `json:"segments"`
	Intent   *pageIntent `json:"intent,omitempty"`
}

// restoreCounts reads the counts saved with each segment's latest
// checkpoint of this step (a resumed run continues the figures) and the
// intent of the page it redoes first, after taking the number of
// segments the checkpoints were made in.
func (m *migrator) restoreCounts(ctx context.Context) error {
	evs, err := m.sc.Journal.Events(ctx, m.sc.Session.ID)
	if err != nil {
		return err
	}
	var cps []checkpointData
	var segs []int
	for _, ev := range evs {
		if ev.Kind != engine.EvCheckpoint || ev.Step != m.sc.Step.ID {
			continue
		}
		c, err := engine.DecodeAs[engine.Checkpointed](ev)
		var cp checkpointData
		if err != nil || c.Segment < 0 || json.Unmarshal(c.Data, &cp) != nil {
			continue
		}
		if cp.Segments > 0 && cp.Segments != len(m.segs) {
			m.segs = make([]segCounts, cp.Segments)
		}
		cps, segs = append(cps, cp), append(segs, c.Segment)
	}
	m.intents = map[int]intentKeys{}
	m.pushdown.ranges = map[int]*pageIntent{}
	for i, cp := range cps {
		if segs[i] < len(m.segs) {
			m.segs[segs[i]].restore(cp.MigrateCounts)
			m.intents[segs[i]] = cp.Intent.keys()
			if cp.Intent != nil && cp.Intent.Range {
				m.pushdown.ranges[segs[i]] = cp.Intent
			} else {
				delete(m.pushdown.ranges, segs[i])
			}
		}
	}
	return nil
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
