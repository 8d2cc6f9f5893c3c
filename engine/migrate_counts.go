package engine

// MigrateCounts are the figures of a migrate step, per segment in
// checkpoints and summed in progress events and the result.
type MigrateCounts struct {
	Scanned    int64 `json:"scanned"`     // items read
	Migrated   int64 `json:"migrated"`    // items written (dry-run: would be written)
	Already    int64 `json:"already"`     // skipped: at/above the target version (rollback, contract step: not at it)
	NotMatched int64 `json:"not_matched"` // skipped: where is false
	Unchanged  int64 `json:"unchanged"`   // the transform changed nothing: only the version written (forward), or skipped
	Conflicts  int64 `json:"conflicts"`   // failed conditions, each re-read and retried
	Unresolved int64 `json:"unresolved"`  // items given up after max_retries conflicts
	Throttles  int64 `json:"throttles"`   // throttled writes (each retried)
	Failures   int64 `json:"failures"`    // per-item failures (count against error_budget)
	Bytes      int64 `json:"bytes"`       // sum of scanned items' sizes
	// Recovered items were written by an interrupted attempt after its
	// last checkpoint and found at the target version by the resume: they
	// are counted in Migrated (the attempt that wrote them), not Already.
	Recovered int64 `json:"recovered,omitempty"`
}

// Skipped is the number of items read and not migrated (an unchanged
// item may have had its version written).
func (c MigrateCounts) Skipped() int64 { return c.Already + c.NotMatched + c.Unchanged }

// Settled is the number of items whose fate is known: written, skipped,
// failed, or given up on after conflicts.
func (c MigrateCounts) Settled() int64 { return c.Migrated + c.Skipped() + c.Failures + c.Unresolved }

// Add adds o's counts to c: a step's totals are the sum over its
// segments (a fleet's over its workers' segments).
func (c *MigrateCounts) Add(o MigrateCounts) {
	c.Scanned += o.Scanned
	c.Migrated += o.Migrated
	c.Already += o.Already
	c.NotMatched += o.NotMatched
	c.Unchanged += o.Unchanged
	c.Conflicts += o.Conflicts
	c.Unresolved += o.Unresolved
	c.Throttles += o.Throttles
	c.Failures += o.Failures
	c.Bytes += o.Bytes
	c.Recovered += o.Recovered
}
