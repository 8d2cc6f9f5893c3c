package engine

import (
	"context"
	"sync"
	"time"
)

// itemProgressEvery is the least interval between two progress events of
// a backup, drill, verify or exact estimate: front ends redraw about 4×/s.
const itemProgressEvery = 250 * time.Millisecond

// ItemProgress reports the progress of a step that reads or writes many
// items (backup, restore-drill, verify, estimate with exact_count) the way
// migrate does: Progress events with done of total, rate and ETA, sent to
// front ends (not journaled: the step's result holds the figures) at most
// every itemProgressEvery, and once more when the pass ends.
type ItemProgress struct {
	sc    *StepContext
	total int64 // expected items (approximate on DynamoDB); 0 = unknown

	mu    sync.Mutex
	start time.Time
	last  time.Time
	done  int64
}

// NewItemProgress starts reporting a pass over about total items.
func NewItemProgress(sc *StepContext, total int64) *ItemProgress {
	p := &ItemProgress{sc: sc, total: max(total, 0)}
	p.start = p.now()
	return p
}

func (p *ItemProgress) now() time.Time { return p.sc.ClockOrSystem().Now() }

// Add counts n more items and reports when itemProgressEvery has passed.
func (p *ItemProgress) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += int64(n)
	if now := p.now(); now.Sub(p.last) >= itemProgressEvery {
		p.last = now
		p.send(now, false)
	}
}

// Finish reports the final count: done of done, so bars end full.
func (p *ItemProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.send(p.now(), true)
}

// send emits the progress event; the caller holds p.mu.
func (p *ItemProgress) send(now time.Time, final bool) {
	if p.sc.Progress == nil {
		return
	}
	total := p.total
	if final || (total > 0 && p.done > total) {
		total = p.done // the size was approximate
	}
	rate := 0.0
	if s := now.Sub(p.start).Seconds(); s > 0 {
		rate = float64(p.done) / s
	}
	var eta int64
	if rate > 0 && total > p.done {
		eta = int64(float64(total-p.done) / rate * 1000)
	}
	p.sc.Progress(NewEvent(p.sc.Step.ID, Progress{Done: p.done, Total: total, Scanned: p.done,
		Rate: round1(rate), ItemsPerSec: round1(rate), ETAms: eta}))
}

// Counting returns st with its scans counted into p, so the shared scan
// helpers (ScanAll) report progress without knowing of it.
func (p *ItemProgress) Counting(st Store) Store { return countingStore{st, p} }

// countingStore counts the items its scans return into an ItemProgress.
type countingStore struct {
	Store

	p *ItemProgress
}

// Scan reads a page and counts its items.
func (c countingStore) Scan(ctx context.Context, req ScanRequest) (Page, error) {
	page, err := c.Store.Scan(ctx, req)
	if err == nil {
		c.p.Add(len(page.Items))
	}
	return page, err
}

// round1 rounds f to one decimal, for figures shown to the operator.
func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
