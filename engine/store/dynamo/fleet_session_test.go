package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/internal/dynalite"
	"github.com/lockstep-run/lockstep/runbook"
)

const fleetSessionRunbook = `lockstep: 1
name: fl
title: Fleet
version: 2
environments:
  staging:
    store: {kind: dynamodb, table: t, region: us-east-1}
    max_write_rate: 800
    fleet: {segments: 4, workers: 2}
phases:
  - name: run
    steps:
      - {id: fill, kind: migrate, with: {set: {x: "1"}}}
`

// operatorControl is the operator's side of engine.Control, as the TUI
// drives it: Checkpoint blocks while paused.
type operatorControl struct {
	mu     sync.Mutex
	paused bool
	abort  bool
	rate   int
}

func (c *operatorControl) Checkpoint(ctx context.Context) error {
	for {
		c.mu.Lock()
		paused, abort := c.paused, c.abort
		c.mu.Unlock()
		switch {
		case abort:
			return engine.ErrAborted
		case !paused:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (c *operatorControl) Rate() int { c.mu.Lock(); defer c.mu.Unlock(); return c.rate }

func (c *operatorControl) set(f func(c *operatorControl)) { c.mu.Lock(); defer c.mu.Unlock(); f(c) }

// fleetSession starts a fleet step's executor as a session would, with
// no workers launched: the test plays them through the control table.
func fleetSession(t *testing.T, ctl *operatorControl) (*dynamo.FleetTable, string, *[]engine.Event, chan error, chan any) {
	t.Helper()
	rb, err := runbook.Parse("rb.yaml", []byte(fleetSessionRunbook))
	if err != nil {
		t.Fatal(err)
	}
	ft := dynamo.NewFleetTable(adminClient(t, dynalite.Shared(t)), fmt.Sprintf("fleet-s-%d", tableSeq.Add(1)))
	var mu sync.Mutex
	var evs []engine.Event
	sc := &engine.StepContext{Step: rb.Step("fill"), Runbook: rb, Env: rb.Env("staging"), Session: engine.SessionInfo{ID: "s1"},
		Mode: engine.ModeLive, Attempt: 1, Control: ctl,
		Emit: func(ev engine.Event) error { mu.Lock(); defer mu.Unlock(); evs = append(evs, ev); return nil }}
	ex := fleet.Executor{Poll: 10 * time.Millisecond,
		Open: func(context.Context, *engine.StepContext, *runbook.FleetSpec) (fleet.Control, error) { return ft, nil },
		Launch: func(context.Context, *engine.StepContext, *runbook.FleetSpec, fleet.Record) (fleet.Workers, error) {
			return fleet.Workers{}, nil
		}}
	errc, resc := make(chan error, 1), make(chan any, 1)
	go func() {
		res, err := ex.Execute(context.Background(), sc)
		resc <- res
		errc <- err
	}()
	id, err := fleet.ID(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the fleet record", func() bool { _, err := ft.Record(context.Background(), id); return err == nil })
	return ft, id, &evs, errc, resc
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestFleetSessionControlsAndTotals: the operator's pause and rate reach
// the fleet record; the step's totals are the sum over the segment rows
// and each finished segment is journaled once, with its worker.
func TestFleetSessionControlsAndTotals(t *testing.T) {
	ctx := context.Background()
	op := &operatorControl{}
	ft, id, evs, errc, resc := fleetSession(t, op)
	rec, _ := ft.Record(ctx, id)
	if rec.Rate != 800 || rec.Segments != 4 || rec.Workers != 2 || rec.Step != "fill" || rec.Check() != nil {
		t.Fatalf("fleet record = %+v", rec)
	}
	flags := func() fleet.Flags { r, _ := ft.Record(ctx, id); return r.Flags }
	op.set(func(c *operatorControl) { c.paused = true })
	waitFor(t, "paused in the record", func() bool { return flags().Paused })
	op.set(func(c *operatorControl) { c.paused, c.rate = false, 300 })
	waitFor(t, "resumed at rate 300", func() bool { f := flags(); return !f.Paused && f.Rate == 300 })

	segs, _ := ft.Segments(ctx, id)
	for _, s := range segs { // two attempts at segment 0: counted once
		owner := fmt.Sprintf("w%d", s.N%2)
		c, err := ft.Claim(ctx, id, s, owner, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if s.N == 0 {
			if c, err = ft.Claim(ctx, id, c, "w9", time.Now()); err != nil {
				t.Fatal(err)
			}
			owner = "w9"
		}
		cp := fleet.Checkpoint{N: s.N, Claim: c.Claim, Cursor: migrate.SegmentDoneCursor(), At: time.Now(),
			Counts: engine.MigrateCounts{Scanned: 100, Migrated: int64(10 * (s.N + 1)), Already: 5}}
		if err := ft.Finish(ctx, id, cp, fleet.StateDone, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	res := (<-resc).(migrate.Result)
	if res.Scanned != 400 || res.Migrated != 100 || res.Already != 20 || res.Segments != 4 {
		t.Errorf("result = scanned %d, migrated %d, already %d, segments %d; want 400, 100, 20, 4", res.Scanned, res.Migrated, res.Already, res.Segments)
	}
	seen := map[int]string{}
	for _, ev := range *evs {
		if ev.Kind != engine.EvFleetSegment {
			continue
		}
		p, err := engine.DecodeAs[engine.FleetSegment](ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := seen[p.Segment]; dup {
			t.Errorf("segment %d journaled twice", p.Segment)
		}
		seen[p.Segment] = p.Worker
	}
	if len(seen) != 4 || seen[0] != "w9" || seen[1] != "w1" {
		t.Errorf("fleet.segment events by segment: %v, want 4 with segment 0 by w9", seen)
	}
}

func TestFleetSessionAbortCancelsTheFleet(t *testing.T) {
	ctx := context.Background()
	op := &operatorControl{}
	ft, id, _, errc, _ := fleetSession(t, op)
	op.set(func(c *operatorControl) { c.abort = true })
	if err := <-errc; !errors.Is(err, engine.ErrAborted) {
		t.Errorf("Execute() = %v, want ErrAborted", err)
	}
	if r, _ := ft.Record(ctx, id); !r.Cancelled {
		t.Errorf("record flags = %+v, want cancelled", r.Flags)
	}
}
