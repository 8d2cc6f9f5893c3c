package engine

import "time"

// SetTransformLineTimeout sets how long an external transform may print
// nothing while it owes lines (tests only); restore puts the default back.
func SetTransformLineTimeout(d time.Duration) (restore func()) {
	old := transformLineTimeout
	transformLineTimeout = d
	return func() { transformLineTimeout = old }
}
