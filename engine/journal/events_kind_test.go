package journal_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// TestEventsOfKind checks that EventsOfKind returns exactly a session's
// events of the kinds asked for, in order and as Events returns them, and
// none of another session's.
func TestEventsOfKind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	j, _ := openTemp(t)
	s := createSession(t, j, sessionInfo("staging", "split-address", engine.ModeLive, time.Time{}))
	other := createSession(t, j, sessionInfo("staging", "split-address", engine.ModeLive, time.Time{}))
	kinds := []engine.EventKind{engine.EvSessionStart, engine.EvNote, engine.EvProgress, engine.EvProgress, engine.EvNote, engine.EvWarning, engine.EvNote}
	for i, k := range kinds {
		for _, id := range []string{s.ID, other.ID} {
			ev := engine.Event{SessionID: id, Operator: "bob", Kind: k, Data: json.RawMessage(`{"text":"` + id + string(rune('a'+i)) + `"}`)}
			if _, err := j.Append(ctx, ev); err != nil {
				t.Fatalf("Append: %v", err)
			}
		}
	}
	all, err := j.Events(ctx, s.ID)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	tests := []struct {
		name string
		ask  []engine.EventKind
	}{
		{"one kind", []engine.EventKind{engine.EvNote}},
		{"two kinds", []engine.EventKind{engine.EvWarning, engine.EvNote}},
		{"a kind the session lacks", []engine.EventKind{engine.EvAbort}},
		{"no kind: every event", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := j.EventsOfKind(ctx, s.ID, tt.ask...)
			if err != nil {
				t.Fatalf("EventsOfKind: %v", err)
			}
			want := slices.DeleteFunc(slices.Clone(all), func(ev engine.Event) bool {
				return len(tt.ask) > 0 && !slices.Contains(tt.ask, ev.Kind)
			})
			if len(got) != len(want) {
				t.Fatalf("EventsOfKind(%v) = %d events, want %d", tt.ask, len(got), len(want))
			}
			for i := range got {
				if got[i].Seq != want[i].Seq || got[i].Hash != want[i].Hash || string(got[i].Data) != string(want[i].Data) || !got[i].Time.Equal(want[i].Time) {
					t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
	if _, err := j.EventsOfKind(ctx, "nope", engine.EvNote); err == nil {
		t.Error("EventsOfKind of an unknown session: no error")
	}
}
