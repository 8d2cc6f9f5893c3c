package migrate

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/lockstep-run/lockstep/engine"
)

// segmentsRun is what a migrate step does around its segments, in place
// (migrator) or into another table (copier) alike: on a resumed run,
// load the segments' checkpoints and restore the counts they carry; say
// what runs; then run every unfinished segment in parallel while
// progress is reported, and stop the others once one fails.
type segmentsRun struct {
	sc       *engine.StepContext
	dry      bool
	segments int
	stop     *atomic.Bool // set when a segment fails: the others stop after their page
	emit     func(engine.Event) error
	// resume restores the counts of a resumed run from its checkpoints.
	resume func(ctx context.Context) error
	// intro is what the step prints first (empty lines left out).
	intro func(cursors map[int][]byte) []string
	// report reports progress until its context ends.
	report func(ctx context.Context)
	// segment runs one segment from cursor (nil: its start).
	segment func(ctx context.Context, seg int, cursor []byte) error
}

// run runs the segments and returns each one's error; err is an error
// before any segment ran (checkpoints, counts, the first output).
func (r segmentsRun) run(ctx context.Context) (errs []error, err error) {
	cursors := map[int][]byte{}
	if r.sc.Resumed && !r.dry && r.sc.Journal != nil {
		if cursors, err = r.sc.Journal.Checkpoints(ctx, r.sc.Session.ID, r.sc.Step.ID); err != nil {
			return nil, fmt.Errorf("migrate %s: load checkpoints: %w", r.sc.Step.ID, err)
		}
		if err := r.resume(ctx); err != nil {
			return nil, fmt.Errorf("migrate %s: restore counts: %w", r.sc.Step.ID, err)
		}
	}
	for _, text := range r.intro(cursors) {
		if text == "" {
			continue
		}
		if err := r.emit(engine.NewEvent(r.sc.Step.ID, engine.Output{Stream: "stdout", Text: text})); err != nil {
			return nil, err
		}
	}
	rctx, stopReport := context.WithCancel(ctx)
	reported := make(chan struct{})
	go func() { defer close(reported); r.report(rctx) }()
	errs = make([]error, r.segments)
	var wg sync.WaitGroup
	for seg := range r.segments {
		if IsSegmentDone(cursors[seg]) {
			continue
		}
		wg.Go(func() {
			if errs[seg] = r.segment(ctx, seg, cursors[seg]); errs[seg] != nil {
				r.stop.Store(true)
			}
		})
	}
	wg.Wait()
	stopReport()
	<-reported
	return errs, nil
}
