package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestAnchors records journal anchors in lockstep_anchors (created on
// first use) in the target database: recording one twice is a no-op,
// another head for the same session and count is refused, and listing
// filters by runbook and environment; anchors outlive the store handle.
func TestAnchors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "target.db")
	spec := &runbook.StoreSpec{Kind: "sqlite", Path: path, Table: "items"}
	st, err := sqlite.OpenOrCreate(spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	a := engine.Anchor{SessionID: "s1", Runbook: "rb", Env: "prod", Head: "aaaa", Events: 12, Time: at}
	tests := []struct {
		name    string
		anchor  engine.Anchor
		wantErr error
	}{
		{"first", a, nil},
		{"same again", a, nil},
		{"another head", engine.Anchor{SessionID: "s1", Runbook: "rb", Env: "prod", Head: "bbbb", Events: 12, Time: at}, engine.ErrAnchorConflict},
		{"a later end of the session", engine.Anchor{SessionID: "s1", Runbook: "rb", Env: "prod", Head: "cccc", Events: 20, Time: at}, nil},
		{"another env", engine.Anchor{SessionID: "s2", Runbook: "rb", Env: "staging", Head: "dddd", Events: 3, Time: at}, nil},
	}
	for _, tt := range tests {
		if err := st.RecordAnchor(ctx, tt.anchor); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: RecordAnchor() = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	st.Close()
	st, err = sqlite.Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Anchors(ctx, "rb", "prod")
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Anchor{a, {SessionID: "s1", Runbook: "rb", Env: "prod", Head: "cccc", Events: 20, Time: at}}
	if len(got) != len(want) {
		t.Fatalf("Anchors(rb, prod) = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Anchors()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}
