package fleet

import (
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// census counts a fleet's segments by state and its workers alive, as
// the session sees them across polls. A worker is alive while one of
// its claims moved (claim counter or beat) within the last lease by the
// session's own clock: the rule by which a worker takes a claim over
// (choose), so no two machines' clocks are compared. A claim first
// seen counts as alive until a lease passes without it moving.
type census struct {
	lease time.Duration
	seen  map[int]observation
}

func newCensus(lease time.Duration) *census {
	return &census{lease: lease, seen: map[int]observation{}}
}

// count fills p's fleet fields from segs read at now.
func (c *census) count(p *engine.Progress, segs []Segment, now time.Time) {
	alive := map[string]bool{}
	p.Segments, p.SegmentsDone, p.SegmentsClaimed, p.SegmentsLeft = len(segs), 0, 0, 0
	for _, s := range segs {
		switch s.State {
		case StateDone, StateFailed:
			p.SegmentsDone++
			delete(c.seen, s.N)
			continue
		case StateClaimed:
			p.SegmentsClaimed++
		default:
			p.SegmentsLeft++
			delete(c.seen, s.N)
			continue
		}
		o, ok := c.seen[s.N]
		if !ok || o.claim != s.Claim || o.beat != s.Beat {
			o = observation{claim: s.Claim, beat: s.Beat, since: now}
			c.seen[s.N] = o
		}
		if now.Sub(o.since) < c.lease {
			alive[s.Owner] = true
		}
	}
	p.WorkersAlive = len(alive)
}
