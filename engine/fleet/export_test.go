package fleet

import (
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// Census exposes the session's census to the external tests: each call
// of the returned function is one poll.
func Census(lease time.Duration) func(segs []Segment, now time.Time) engine.Progress {
	c := newCensus(lease)
	return func(segs []Segment, now time.Time) engine.Progress {
		var p engine.Progress
		c.count(&p, segs, now)
		return p
	}
}
