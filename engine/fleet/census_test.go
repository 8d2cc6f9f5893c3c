package fleet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/internal/dynalite"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestCensusCountsSegmentsAndWorkersAlive plays three workers against a
// real control table (dynalite): segments in each state are counted, and
// a worker whose claim stops moving for a lease is no longer alive while
// one renewing its claim stays alive.
func TestCensusCountsSegmentsAndWorkersAlive(t *testing.T) {
	ctx := context.Background()
	c, err := dynamo.NewClient(ctx, &runbook.StoreSpec{Region: "us-east-1", Endpoint: dynalite.Shared(t)})
	if err != nil {
		t.Fatal(err)
	}
	ft := dynamo.NewFleetTable(c, fmt.Sprintf("fleet-census-%d", time.Now().UnixNano()))
	rb := []byte("lockstep: 1\n")
	const lease = 10 * time.Second
	rec := fleet.Record{ID: "f1", Runbook: rb, SHA256: fleet.SHA256(rb), Step: "fill", Env: "staging", Session: "s1",
		Mode: "live", Segments: 6, Workers: 3, Lease: lease, Created: time.Unix(100, 0)}
	if err := ft.Create(ctx, rec); err != nil {
		t.Fatalf("Create() = %v", err)
	}
	clock := enginetest.NewFakeClock(time.Unix(1000, 0))
	segs := func() []fleet.Segment {
		t.Helper()
		s, err := ft.Segments(ctx, rec.ID)
		if err != nil {
			t.Fatalf("Segments() = %v", err)
		}
		return s
	}
	claim := func(n int, owner string) fleet.Segment {
		t.Helper()
		s, err := ft.Claim(ctx, rec.ID, segs()[n], owner, clock.Now())
		if err != nil {
			t.Fatalf("Claim(%d, %s) = %v", n, owner, err)
		}
		return s
	}
	// w1 holds 0 and finished 1; w2 holds 2; w3 holds 3 and failed 4; 5 is open.
	s0 := claim(0, "w1")
	s1 := claim(1, "w1")
	if err := ft.Finish(ctx, rec.ID, fleet.Checkpoint{N: 1, Claim: s1.Claim, At: clock.Now()}, fleet.StateDone, ""); err != nil {
		t.Fatalf("Finish(1) = %v", err)
	}
	claim(2, "w2")
	claim(3, "w3")
	s4 := claim(4, "w3")
	if err := ft.Finish(ctx, rec.ID, fleet.Checkpoint{N: 4, Claim: s4.Claim, At: clock.Now()}, fleet.StateFailed, "bad item"); err != nil {
		t.Fatalf("Finish(4) = %v", err)
	}
	count := fleet.Census(lease)
	want := func(step string, p engine.Progress, alive int) {
		t.Helper()
		got := [5]int{p.Segments, p.SegmentsDone, p.SegmentsClaimed, p.SegmentsLeft, p.WorkersAlive}
		if w := [5]int{6, 2, 3, 1, alive}; got != w {
			t.Errorf("%s: segments/done/claimed/left/alive = %v, want %v", step, got, w)
		}
	}
	want("first poll", count(segs(), clock.Now()), 3) // every claim just seen: alive
	for _, step := range []string{"half a lease", "a lease"} {
		clock.Advance(lease / 2)
		if err := ft.Renew(ctx, rec.ID, 0, s0.Claim, clock.Now()); err != nil { // only w1 renews
			t.Fatalf("Renew(0) = %v", err)
		}
		alive := 3
		if step == "a lease" {
			alive = 1 // w2's and w3's claims went a whole lease unchanged
		}
		want(step, count(segs(), clock.Now()), alive)
	}
	clock.Advance(lease) // w1 stopped renewing too
	want("after w1 stopped", count(segs(), clock.Now()), 0)
}

// TestSessionProgressCarriesTheCensus: the session's progress events for
// a fleet step carry its segments by state and workers alive.
func TestSessionProgressCarriesTheCensus(t *testing.T) {
	ctx := context.Background()
	rb, err := runbook.Parse("rb.yaml", []byte(`lockstep: 1
name: fl
title: Fleet
version: 2
environments:
  staging:
    store: {kind: dynamodb, table: t, region: us-east-1}
    fleet: {segments: 4, workers: 2}
phases:
  - name: run
    steps:
      - {id: fill, kind: migrate, with: {set: {x: "1"}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := dynamo.NewClient(ctx, &runbook.StoreSpec{Region: "us-east-1", Endpoint: dynalite.Shared(t)})
	if err != nil {
		t.Fatal(err)
	}
	ft := dynamo.NewFleetTable(c, fmt.Sprintf("fleet-census-s-%d", time.Now().UnixNano()))
	progress := make(chan engine.Progress, 1000)
	sc := &engine.StepContext{Step: rb.Step("fill"), Runbook: rb, Env: rb.Env("staging"), Session: engine.SessionInfo{ID: "s1"},
		Mode: engine.ModeLive, Attempt: 1, Emit: func(engine.Event) error { return nil },
		Progress: func(ev engine.Event) {
			if p, err := engine.DecodeAs[engine.Progress](ev); err == nil {
				select {
				case progress <- p:
				default:
				}
			}
		}}
	ex := fleet.Executor{Poll: 10 * time.Millisecond,
		Open: func(context.Context, *engine.StepContext, *runbook.FleetSpec) (fleet.Control, error) { return ft, nil },
		Launch: func(context.Context, *engine.StepContext, *runbook.FleetSpec, fleet.Record) (fleet.Workers, error) {
			return fleet.Workers{}, nil
		}}
	errc := make(chan error, 1)
	go func() { _, err := ex.Execute(ctx, sc); errc <- err }()
	id, _ := fleet.ID(ctx, sc)
	wait := func(what string, ok func(engine.Progress) bool) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case p := <-progress:
				if ok(p) {
					return
				}
			case err := <-errc:
				t.Fatalf("Execute() ended early: %v", err)
			case <-timeout:
				t.Fatalf("no progress with %s", what)
			}
		}
	}
	wait("4 segments left", func(p engine.Progress) bool { return p.Segments == 4 && p.SegmentsLeft == 4 })
	segs, err := ft.Segments(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	held := make([]fleet.Segment, len(segs))
	for i, s := range segs {
		if held[i], err = ft.Claim(ctx, id, s, fmt.Sprintf("w%d", i%2), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := ft.Finish(ctx, id, fleet.Checkpoint{N: 0, Claim: held[0].Claim, Cursor: migrate.SegmentDoneCursor()}, fleet.StateDone, ""); err != nil {
		t.Fatal(err)
	}
	wait("1 done, 3 claimed by 2 workers alive", func(p engine.Progress) bool {
		return p.Segments == 4 && p.SegmentsDone == 1 && p.SegmentsClaimed == 3 && p.SegmentsLeft == 0 && p.WorkersAlive == 2
	})
	for _, s := range held[1:] {
		if err := ft.Finish(ctx, id, fleet.Checkpoint{N: s.N, Claim: s.Claim, Cursor: migrate.SegmentDoneCursor()}, fleet.StateDone, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("Execute() = %v", err)
	}
}
