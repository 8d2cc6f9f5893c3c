package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/internal/dynalite"
)

func newFleet(t *testing.T) (*dynamo.FleetTable, fleet.Record) {
	t.Helper()
	endpoint := dynalite.Shared(t)
	ft := dynamo.NewFleetTable(adminClient(t, endpoint), fmt.Sprintf("fleet-%d", tableSeq.Add(1)))
	rb := []byte("lockstep: 1\n")
	r := fleet.Record{ID: "f1", Runbook: rb, SHA256: fleet.SHA256(rb), Path: "rb.yaml", Step: "fill", Env: "staging",
		Session: "s1", Mode: "live", ExprEnv: []byte(`{"vars":{"a":"b"}}`), Segments: 3, Workers: 2, Lease: 30 * time.Second,
		Created: time.Unix(100, 0), Flags: fleet.Flags{Rate: 50}}
	if err := ft.Create(context.Background(), r); err != nil {
		t.Fatalf("Create() = %v", err)
	}
	return ft, r
}

func TestFleetRecordRoundTrip(t *testing.T) {
	ctx := context.Background()
	ft, want := newFleet(t)
	got, err := ft.Record(ctx, "f1")
	if err != nil {
		t.Fatalf("Record() = %v", err)
	}
	if got.SHA256 != want.SHA256 || string(got.Runbook) != string(want.Runbook) || got.Step != "fill" || got.Segments != 3 ||
		got.Lease != want.Lease || got.Rate != 50 || string(got.ExprEnv) != string(want.ExprEnv) || !got.Created.Equal(want.Created) {
		t.Errorf("Record() = %+v, want %+v", got, want)
	}
	if err := got.Check(); err != nil {
		t.Errorf("Check() = %v", err)
	}
	if err := ft.Create(ctx, want); !errors.Is(err, fleet.ErrExists) {
		t.Errorf("Create() again = %v, want ErrExists", err)
	}
	if _, err := ft.Record(ctx, "nope"); !errors.Is(err, fleet.ErrNotFound) {
		t.Errorf("Record(nope) = %v, want ErrNotFound", err)
	}
	if err := ft.SetFlags(ctx, "f1", fleet.Flags{Rate: 7, Paused: true}); err != nil {
		t.Fatalf("SetFlags() = %v", err)
	}
	if got, _ := ft.Record(ctx, "f1"); got.Flags != (fleet.Flags{Rate: 7, Paused: true}) {
		t.Errorf("Flags = %+v after SetFlags", got.Flags)
	}
	segs, err := ft.Segments(ctx, "f1")
	if err != nil || len(segs) != 3 {
		t.Fatalf("Segments() = %v, %v, want 3 rows", segs, err)
	}
	for i, s := range segs {
		if s.N != i || s.State != fleet.StateOpen || s.Claim != 0 {
			t.Errorf("segment %d = %+v, want open, claim 0", i, s)
		}
	}
}

// TestFleetClaimFencing: once a segment is claimed again, the earlier
// holder can neither renew, checkpoint nor finish it, and a claim made
// from a stale observation fails.
func TestFleetClaimFencing(t *testing.T) {
	ctx := context.Background()
	ft, _ := newFleet(t)
	segs, _ := ft.Segments(ctx, "f1")
	now := time.Unix(200, 0)
	a, err := ft.Claim(ctx, "f1", segs[1], "worker-a", now)
	if err != nil || a.Claim != 1 || a.Owner != "worker-a" || a.State != fleet.StateClaimed {
		t.Fatalf("Claim(a) = %+v, %v", a, err)
	}
	if _, err := ft.Claim(ctx, "f1", segs[1], "worker-b", now); !errors.Is(err, fleet.ErrClaimLost) {
		t.Fatalf("Claim from a stale observation = %v, want ErrClaimLost", err)
	}
	cp := fleet.Checkpoint{N: 1, Claim: a.Claim, Cursor: []byte("k1"), Data: []byte(`{"x":1}`),
		Counts: engine.MigrateCounts{Scanned: 10, Migrated: 4}, At: now}
	if err := ft.Save(ctx, "f1", cp); err != nil {
		t.Fatalf("Save(a) = %v", err)
	}
	if err := ft.Renew(ctx, "f1", 1, a.Claim, now); err != nil {
		t.Fatalf("Renew(a) = %v", err)
	}
	segs, _ = ft.Segments(ctx, "f1")
	if s := segs[1]; string(s.Cursor) != "k1" || string(s.Data) != `{"x":1}` || s.Counts.Migrated != 4 || s.Beat != 3 {
		t.Fatalf("segment after Save and Renew = %+v", s)
	}
	b, err := ft.Claim(ctx, "f1", segs[1], "worker-b", now) // b saw a's row unchanged for a lease
	if err != nil || b.Claim != 2 {
		t.Fatalf("Claim(b) = %+v, %v", b, err)
	}
	for name, call := range map[string]func() error{
		"Renew":  func() error { return ft.Renew(ctx, "f1", 1, a.Claim, now) },
		"Save":   func() error { return ft.Save(ctx, "f1", cp) },
		"Finish": func() error { return ft.Finish(ctx, "f1", cp, fleet.StateDone, "") },
	} {
		if err := call(); !errors.Is(err, fleet.ErrClaimLost) {
			t.Errorf("%s by the earlier holder = %v, want ErrClaimLost", name, err)
		}
	}
	done := fleet.Checkpoint{N: 1, Claim: b.Claim, Cursor: migrate.SegmentDoneCursor(), Counts: engine.MigrateCounts{Scanned: 20, Migrated: 9}, At: now}
	if err := ft.Finish(ctx, "f1", done, fleet.StateDone, ""); err != nil {
		t.Fatalf("Finish(b) = %v", err)
	}
	segs, _ = ft.Segments(ctx, "f1")
	if s := segs[1]; s.State != fleet.StateDone || !migrate.IsSegmentDone(s.Cursor) || s.Counts.Migrated != 9 || s.Owner != "worker-b" {
		t.Errorf("segment after Finish = %+v", s)
	}
	if _, err := ft.Claim(ctx, "f1", segs[1], "worker-c", now); !errors.Is(err, fleet.ErrClaimLost) {
		t.Errorf("Claim of a done segment = %v, want ErrClaimLost", err)
	}
}
