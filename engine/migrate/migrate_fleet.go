package migrate

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"

	"github.com/lockstep-run/lockstep/engine"
)

// A fleet worker (engine/fleet) runs one scan segment of a migrate step
// at a time, outside any session: the same planner, guarded writes,
// write limiter and lease fencing as a local step, with the segment's
// checkpoints going to the fleet's control table instead of a journal.

// SegmentRun is one segment of a migrate step run by a fleet worker.
type SegmentRun struct {
	Segment  int    // the scan segment to run
	Segments int    // the step's number of scan segments
	Cursor   []byte // where the segment resumes (nil: its start)
	// Saved is the data of the segment's last checkpoint (counts and the
	// intent of the page in flight), as Save got it; nil at first.
	Saved json.RawMessage
	// Save makes a checkpoint durable: the cursor, data to hand back as
	// Saved to the attempt that continues, and the counts so far. It is
	// called before each page is written and once the segment ends
	// (cursor IsSegmentDone); an error stops the segment before its next
	// page, as a failed journal write stops a local step.
	Save func(ctx context.Context, cursor []byte, data json.RawMessage, counts engine.MigrateCounts) error
}

// segmentSink is a migrator's checkpoint destination outside a session.
type segmentSink func(ctx context.Context, seg int, cursor []byte, data checkpointData) error

// RunSegment runs one scan segment of sc's migrate step (sc.Journal and
// sc.Emit may be nil: checkpoints go to r.Save) and returns the
// segment's counts, those restored from r.Saved included.
func (e Executor) RunSegment(ctx context.Context, sc *engine.StepContext, r SegmentRun) (engine.MigrateCounts, error) {
	if r.Save == nil || r.Segments < 1 || r.Segment < 0 || r.Segment >= r.Segments {
		return engine.MigrateCounts{}, fmt.Errorf("migrate %s: segment %d of %d: %w", sc.Step.ID, r.Segment, r.Segments, engine.ErrConfig)
	}
	m, err := newMigrator(ctx, sc)
	if err != nil {
		return engine.MigrateCounts{}, err
	}
	m.lineTimeout = cmp.Or(e.TransformLineTimeout, DefaultTransformLineTimeout)
	m.segs = make([]segCounts, r.Segments)
	m.intents = map[int]intentKeys{}
	if len(r.Saved) > 0 {
		var cp checkpointData
		if err := json.Unmarshal(r.Saved, &cp); err != nil {
			return engine.MigrateCounts{}, fmt.Errorf("migrate %s: segment %d: decode checkpoint: %w", sc.Step.ID, r.Segment, err)
		}
		m.segs[r.Segment].restore(cp.MigrateCounts)
		m.intents[r.Segment] = cp.Intent.keys()
		m.base = m.totals()
	}
	m.sink = func(ctx context.Context, seg int, cursor []byte, data checkpointData) error {
		raw, err := json.Marshal(data)
		if err != nil {
			return err
		}
		return r.Save(ctx, cursor, raw, data.MigrateCounts)
	}
	if IsSegmentDone(r.Cursor) {
		return m.segs[r.Segment].snapshot(), nil
	}
	err = m.runSegment(ctx, r.Segment, r.Cursor)
	return m.segs[r.Segment].snapshot(), err
}

// SegmentDoneCursor returns the cursor of a finished segment.
func SegmentDoneCursor() []byte { return append([]byte(nil), segmentDone...) }
