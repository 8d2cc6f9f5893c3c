package journal_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/internal/eventtest"
)

func TestConcurrentAppendKeepsChain(t *testing.T) {
	ctx := context.Background()
	j, path := openTemp(t)
	s := createSession(t, j, sessionInfo("staging", "r", engine.ModeLive, time.Time{}))
	// A second Journal on the same file: writes from two handles (as from
	// two processes) must serialise through BEGIN IMMEDIATE.
	j2, err := journal.Open(path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer j2.Close()
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		h := j
		if w%2 == 1 {
			h = j2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				ev := eventtest.Raw(engine.EvNote, "", map[string]string{"text": fmt.Sprintf("w%d-%d", w, i)})
				ev.SessionID, ev.Operator = s.ID, "alice"
				if _, err := h.Append(ctx, ev); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Append: %v", err)
	}
	evs, err := j.Events(ctx, s.ID)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	if len(evs) != workers*each {
		t.Fatalf("got %d events, want %d", len(evs), workers*each)
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: not dense", i+1, ev.Seq)
		}
	}
	if res, err := j.Verify(ctx, s.ID); err != nil || !res.OK {
		t.Errorf("Verify() = %+v, %v; want OK", res, err)
	}
}
