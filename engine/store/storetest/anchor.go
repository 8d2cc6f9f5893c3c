package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// Anchors checks a store's engine.Anchorer: recording an anchor twice is
// a no-op, another head for the same session and events count fails with
// engine.ErrAnchorConflict, a later end of the session adds an anchor,
// and Anchors lists those of one runbook and environment (in no set
// order). read returns the Anchorer to read back with: a (or the store
// reopened, to check the anchors outlive the connection).
func Anchors(t *testing.T, a engine.Anchorer, read func() engine.Anchorer) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	first := engine.Anchor{SessionID: "s1", Runbook: "rb", Env: "prod", Head: "aaaa", Events: 12, Time: at}
	later := engine.Anchor{SessionID: "s1", Runbook: "rb", Env: "prod", Head: "cccc", Events: 20, Time: at}
	tests := []struct {
		name    string
		anchor  engine.Anchor
		wantErr error
	}{
		{"first", first, nil},
		{"same again", first, nil},
		{"another head", engine.Anchor{SessionID: "s1", Runbook: "rb", Env: "prod", Head: "bbbb", Events: 12, Time: at}, engine.ErrAnchorConflict},
		{"a later end of the session", later, nil},
		{"another env", engine.Anchor{SessionID: "s2", Runbook: "rb", Env: "staging", Head: "dddd", Events: 3, Time: at}, nil},
	}
	for _, tt := range tests {
		if err := a.RecordAnchor(ctx, tt.anchor); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: RecordAnchor() = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	r := read()
	got, err := r.Anchors(ctx, "rb", "prod")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(x, y engine.Anchor) int { return int(x.Events - y.Events) })
	want := []engine.Anchor{first, later}
	if len(got) != len(want) {
		t.Fatalf("Anchors(rb, prod) = %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) {
			t.Errorf("Anchors()[%d].Time = %v, want %v", i, got[i].Time, want[i].Time)
		}
		got[i].Time = want[i].Time
		if got[i] != want[i] {
			t.Errorf("Anchors()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if none, err := r.Anchors(ctx, "other", "prod"); err != nil || len(none) != 0 {
		t.Errorf("Anchors(other, prod) = %v, %v; want none", none, err)
	}
}
