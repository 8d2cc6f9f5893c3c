package journal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

func TestSaveCheckpointUpsertsAndAppends(t *testing.T) {
	ctx := context.Background()
	j, path := openTemp(t)
	s := createSession(t, j, sessionInfo("staging", "r", engine.ModeLive, time.Time{}))
	resumed := engine.Event{SessionID: s.ID, Kind: engine.EvSessionResume, Operator: "carol"}
	if _, err := j.Append(ctx, resumed); err != nil {
		t.Fatal(err)
	}
	saves := []struct {
		segment int
		cursor  string
		data    any
	}{
		{0, "a1", map[string]int{"scanned": 100}},
		{1, "b1", nil},
		{0, "a2", map[string]any{"scanned": 200, "segment": 99}}, // segment in data must not win
		{2, "c1", 42},
	}
	for _, sv := range saves {
		if err := j.SaveCheckpoint(ctx, s.ID, "backfill", sv.segment, []byte(sv.cursor), sv.data); err != nil {
			t.Fatalf("SaveCheckpoint(%d): %v", sv.segment, err)
		}
	}
	got, err := j.Checkpoints(ctx, s.ID, "backfill")
	if err != nil {
		t.Fatalf("Checkpoints: %v", err)
	}
	want := map[int]string{0: "a2", 1: "b1", 2: "c1"}
	if len(got) != len(want) {
		t.Errorf("Checkpoints() = %v, want %v", got, want)
	}
	for seg, cur := range want {
		if string(got[seg]) != cur {
			t.Errorf("Checkpoints()[%d] = %q, want %q", seg, got[seg], cur)
		}
	}
	if other, _ := j.Checkpoints(ctx, s.ID, "other-step"); len(other) != 0 {
		t.Errorf("Checkpoints(other step) = %v, want empty", other)
	}

	evs, _ := j.Events(ctx, s.ID)
	if len(evs) != 1+len(saves) {
		t.Fatalf("got %d events, want %d", len(evs), 1+len(saves))
	}
	tests := []struct {
		seq     int
		segment int
		cursor  []byte
		scanned float64
		data    float64
	}{
		{2, 0, []byte("a1"), 100, 0},
		{3, 1, []byte("b1"), 0, 0},
		{4, 0, []byte("a2"), 200, 0},
		{5, 2, []byte("c1"), 0, 42},
	}
	for _, tt := range tests {
		ev := evs[tt.seq-1]
		var d struct {
			Segment int     `json:"segment"`
			Cursor  []byte  `json:"cursor"`
			Scanned float64 `json:"scanned"`
			Data    float64 `json:"data"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatalf("event %d data %s: %v", tt.seq, ev.Data, err)
		}
		if ev.Kind != engine.EvCheckpoint || ev.Step != "backfill" || ev.Operator != "carol" ||
			d.Segment != tt.segment || string(d.Cursor) != string(tt.cursor) || d.Scanned != tt.scanned || d.Data != tt.data {
			t.Errorf("event %d = %s %s %s %s, want checkpoint of segment %d cursor %q by carol",
				tt.seq, ev.Kind, ev.Step, ev.Operator, ev.Data, tt.segment, tt.cursor)
		}
	}
	// Atomicity: when appending the event fails (a trigger refuses it),
	// the cursor upsert is rolled back with it.
	if _, err := rawDB(t, path).Exec(`CREATE TRIGGER refuse BEFORE INSERT ON events
		BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	if err := j.SaveCheckpoint(ctx, s.ID, "backfill", 0, []byte("a3"), nil); err == nil {
		t.Fatal("SaveCheckpoint succeeded although its event was refused")
	}
	if cps, _ := j.Checkpoints(ctx, s.ID, "backfill"); string(cps[0]) != "a2" {
		t.Errorf("after failed save, segment 0 = %q, want a2", cps[0])
	}
	if evs2, _ := j.Events(ctx, s.ID); len(evs2) != len(evs) {
		t.Errorf("after failed save, %d events, want %d", len(evs2), len(evs))
	}
}

func TestSaveCheckpointUnknownSession(t *testing.T) {
	j, _ := openTemp(t)
	err := j.SaveCheckpoint(context.Background(), "nope", "s", 0, nil, nil)
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("SaveCheckpoint(unknown) error = %v, want ErrNotFound", err)
	}
}

// TestSaveCheckpointConcurrent saves checkpoints from many goroutines at
// once (they are committed in groups): every caller's checkpoint is
// durable when it returns, each segment ends at its last cursor, the
// chain verifies, and a request for an unknown session fails alone.
func TestSaveCheckpointConcurrent(t *testing.T) {
	ctx := context.Background()
	j, _ := openTemp(t)
	s := createSession(t, j, sessionInfo("staging", "r", engine.ModeLive, time.Time{}))
	const segments, pages = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, segments*pages+1)
	for seg := range segments {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range pages {
				cur := fmt.Sprintf("s%d-p%d", seg, p)
				if err := j.SaveCheckpoint(ctx, s.ID, "backfill", seg, []byte(cur), map[string]int{"page": p}); err != nil {
					errs <- err
					return
				}
				got, err := j.Checkpoints(ctx, s.ID, "backfill")
				if err != nil || string(got[seg]) != cur {
					errs <- fmt.Errorf("segment %d after saving %q: Checkpoints() = %q, %v", seg, cur, got[seg], err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := j.SaveCheckpoint(ctx, "no-such-session", "backfill", 0, []byte("x"), nil); err == nil {
			errs <- errors.New("a checkpoint of an unknown session was saved")
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := j.Checkpoints(ctx, s.ID, "backfill")
	if err != nil {
		t.Fatal(err)
	}
	for seg := range segments {
		if want := fmt.Sprintf("s%d-p%d", seg, pages-1); string(got[seg]) != want {
			t.Errorf("segment %d ends at %q, want %q", seg, got[seg], want)
		}
	}
	evs, err := j.Events(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != segments*pages {
		t.Errorf("%d checkpoint events, want %d", len(evs), segments*pages)
	}
	if rep, err := j.Verify(ctx, s.ID); err != nil || !rep.OK {
		t.Errorf("Verify() = %+v, %v", rep, err)
	}
}
