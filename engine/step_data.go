package engine

import "context"

// WriteCeiling returns the step's write-rate ceiling as the operator
// sets it live (or the environment's max_write_rate), for a
// throttle.NewWriteLimiter.
func (sc *StepContext) WriteCeiling() func() int { return stepCeiling(sc) }

// stepCeiling returns the ceiling for sc: the operator's override, else
// the environment's max_write_rate.
func stepCeiling(sc *StepContext) func() int {
	return func() int {
		if sc.Control != nil {
			if r := sc.Control.Rate(); r > 0 {
				return r
			}
		}
		if sc.Env != nil {
			return sc.Env.MaxWriteRate
		}
		return 0
	}
}

// LeaseWriteContext returns the context for one batch of a data step's
// writes to store: fenced by the session's leases (a SQL store checks them
// in the write's transaction) and cancelled as soon as one is lost. stop
// ends it and returns err, replaced by the lease error when that is why
// the writes stopped.
func (sc *StepContext) LeaseWriteContext(ctx context.Context, store Store) (wctx context.Context, stop func(err error) error) {
	return leaseWriteContext(ctx, sc.Leases, store)
}
