package engine

// EvFleetSegment is journaled by the session once per segment of a
// fleet migrate step when the control table shows it done or failed: the
// step's totals are the sum of these, each segment counted once.
const EvFleetSegment EventKind = "fleet.segment" // FleetSegment {fleet, segment, state, worker, claim, counts…, error?}

// FleetSegment is the data of fleet.segment: a segment's final counts,
// the worker that finished it and the claim it held (how many claims
// the segment took).
type FleetSegment struct {
	MigrateCounts
	Fleet   string `json:"fleet"`
	Segment int    `json:"segment"`
	State   string `json:"state"` // done | failed
	Worker  string `json:"worker"`
	Claim   int64  `json:"claim"`
	Error   string `json:"error,omitempty"`
}

// Kind is EvFleetSegment.
func (FleetSegment) Kind() EventKind { return EvFleetSegment }
