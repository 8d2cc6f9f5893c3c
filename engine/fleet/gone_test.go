package fleet_test

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
	"github.com/lockstep-run/lockstep/runbook"
)

// TestSessionEndsWhenItsWorkersAreGone: when every worker the session
// launched has stopped for good (restarts spent) with segments not done,
// the step fails with ErrWorkersGone instead of waiting for ever; when
// the last worker finished the last segment just before it exited, the
// step completes.
func TestSessionEndsWhenItsWorkersAreGone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		finish int // segments the "workers" finish before they are gone
		want   error
	}{
		{"segments left", 1, fleet.ErrWorkersGone},
		{"all done", 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rb, err := runbook.Parse("rb.yaml", []byte(`lockstep: 1
name: fl
title: Fleet
version: 2
environments:
  staging:
    store: {kind: dynamodb, table: t, region: us-east-1}
    fleet: {segments: 2, workers: 1}
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
			ft := dynamo.NewFleetTable(c, fmt.Sprintf("fleet-gone-%d", time.Now().UnixNano()))
			sc := &engine.StepContext{Step: rb.Step("fill"), Runbook: rb, Env: rb.Env("staging"), Session: engine.SessionInfo{ID: "s1"},
				Mode: engine.ModeLive, Attempt: 1, Emit: func(engine.Event) error { return nil }}
			gone := make(chan struct{})
			launched := make(chan fleet.Record, 1)
			ex := fleet.Executor{Poll: 20 * time.Millisecond,
				Open: func(context.Context, *engine.StepContext, *runbook.FleetSpec) (fleet.Control, error) { return ft, nil },
				Launch: func(_ context.Context, _ *engine.StepContext, _ *runbook.FleetSpec, rec fleet.Record) (fleet.Workers, error) {
					launched <- rec
					return fleet.Workers{Gone: gone}, nil
				}}
			errc := make(chan error, 1)
			go func() { _, err := ex.Execute(ctx, sc); errc <- err }()
			rec := <-launched
			// Play the workers: finish tc.finish segments, then be gone.
			segs, err := ft.Segments(ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range segs[:tc.finish] {
				held, err := ft.Claim(ctx, rec.ID, s, "w0", time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if err := ft.Finish(ctx, rec.ID, fleet.Checkpoint{N: s.N, Claim: held.Claim, Cursor: migrate.SegmentDoneCursor()}, fleet.StateDone, ""); err != nil {
					t.Fatal(err)
				}
			}
			close(gone)
			select {
			case err := <-errc:
				if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Fatalf("Execute() = %v, want %v", err, tc.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the session still waits 30s after its workers were gone")
			}
		})
	}
}
