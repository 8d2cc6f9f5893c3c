package migrate

import (
	"context"
	"fmt"
	"sync"

	"github.com/lockstep-run/lockstep/engine"
)

// The journal is a write-ahead gate for a migrate step's writes: a page
// is written only once its intent — the cursor it starts at, the counts
// so far and the keys it plans to write — is a durable checkpoint, so
// only while every earlier checkpoint of its segment is durable, and
// only while no journal write of the step has failed. A journal that
// fails (a full disk) thus stops every segment before its next page:
// at most the page in flight per segment is written beyond the last
// durable checkpoint, and a resume redoes exactly that page.

// journalGate is the state shared by the segments of one step: the first
// journal failure, after which no segment starts another page.
type journalGate struct {
	mu  sync.Mutex
	err error
}

// fail closes the gate for good with err (the first failure wins) and
// returns the error every segment reports.
func (g *journalGate) fail(err error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		g.err = err
	}
	return g.err
}

// closed returns the failure that closed the gate, nil while it is open.
func (g *journalGate) closed() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// journalFailed turns a failed journal write of the step into the error
// that stops the session resumably: it names the journal file and the
// cause, and says how to go on.
func (m *migrator) journalFailed(err error) error {
	return m.gate.fail(engine.NewJournalFailure(m.sc.Journal, m.sc.Session.ID, err))
}

// saveCheckpoint makes seg's cursor, counts and the intent of the page
// about to be written durable. It returns the journal failure that stops
// the step when it cannot.
func (m *migrator) saveCheckpoint(ctx context.Context, seg int, cursor []byte, in *pageIntent) error {
	if m.dry || m.sc.Journal == nil && m.sink == nil {
		return nil
	}
	if err := m.gate.closed(); err != nil {
		return err
	}
	data := checkpointData{MigrateCounts: m.segs[seg].snapshot(), Segments: len(m.segs), Intent: in}
	if m.sink != nil { // a fleet worker's segment (migrate_fleet.go)
		if err := m.sink(context.WithoutCancel(ctx), seg, cursor, data); err != nil {
			return m.gate.fail(fmt.Errorf("segment %d: checkpoint: %w", seg, err))
		}
		return nil
	}
	// The journal commits a checkpoint it has begun whatever happens to
	// ctx: the page before it was written, and is worth recording.
	if err := m.sc.Journal.SaveCheckpoint(context.WithoutCancel(ctx), m.sc.Session.ID, m.sc.Step.ID, seg, cursor, data); err != nil {
		return m.journalFailed(fmt.Errorf("segment %d: %w", seg, err))
	}
	m.noteThrottles()
	return nil
}

// writeAhead is the migrator's write-ahead state: the gate, and on
// resume the intent of the page each segment redoes first.
type writeAhead struct {
	gate    journalGate
	intents map[int]intentKeys // by segment; read by that segment only
	sink    segmentSink        // checkpoints outside a session (a fleet worker); nil: the journal
}
