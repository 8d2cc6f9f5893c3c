package integration_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/internal/dynalite"
	"github.com/lockstep-run/lockstep/runbook"
)

const createRunbook = `lockstep: 1
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
`

// dyingAPI is a control table client whose process dies (every call
// fails, none retryable) once puts PutItems went through.
type dyingAPI struct {
	*dynamodb.Client
	puts atomic.Int64
}

var errDied = errors.New("injected: the session died")

func (d *dyingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if d.puts.Add(-1) < 0 {
		return nil, errDied
	}
	return d.Client.PutItem(ctx, in, opts...)
}

// TestFleetSessionDiedCreatingItsFleetResumes: a session that died while
// it wrote its fleet to the control table (two PutItems in) is resumed;
// the resumed session's fleet has every segment row, and its step ends
// only once all of them are done, with their totals.
func TestFleetSessionDiedCreatingItsFleetResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("dynalite tests are not short")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rb, err := runbook.Parse("rb.yaml", []byte(createRunbook))
	if err != nil {
		t.Fatal(err)
	}
	client, err := dynamo.NewClient(ctx, &runbook.StoreSpec{Region: "us-east-1", Endpoint: dynalite.Shared(t)})
	if err != nil {
		t.Fatal(err)
	}
	table := fmt.Sprintf("fleet_create_%d", dynamoTables.Add(1))
	session := func(ft fleet.Control, resumed bool) (any, error) {
		sc := &engine.StepContext{Step: rb.Step("fill"), Runbook: rb, Env: rb.Env("staging"), Session: engine.SessionInfo{ID: "s1"},
			Mode: engine.ModeLive, Attempt: 1, Resumed: resumed, Emit: func(engine.Event) error { return nil }}
		ex := fleet.Executor{Poll: 10 * time.Millisecond,
			Open: func(context.Context, *engine.StepContext, *runbook.FleetSpec) (fleet.Control, error) { return ft, nil },
			Launch: func(context.Context, *engine.StepContext, *runbook.FleetSpec, fleet.Record) (fleet.Workers, error) {
				return fleet.Workers{}, nil // the test plays the workers
			}}
		return ex.Execute(ctx, sc)
	}
	dying := &dyingAPI{Client: client}
	dying.puts.Store(2)
	if _, err := session(dynamo.NewFleetTable(dying, table), false); !errors.Is(err, errDied) {
		t.Fatalf("the dying session's step = %v, want %v", err, errDied)
	}

	ft := dynamo.NewFleetTable(client, table)
	type outcome struct {
		res any
		err error
	}
	done := make(chan outcome, 1)
	go func() { res, err := session(ft, true); done <- outcome{res, err} }()
	const id = "s1-fill-1"
	var segs []fleet.Segment
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := ft.Record(ctx, id); err == nil {
			if segs, err = ft.Segments(ctx, id); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(end) {
			t.Fatal("the resumed session wrote no fleet record")
		}
	}
	if len(segs) != 4 {
		t.Errorf("the resumed fleet has %d segment rows, want 4", len(segs))
	}
	for _, s := range segs { // the workers
		c, err := ft.Claim(ctx, id, s, "w", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		cp := fleet.Checkpoint{N: s.N, Claim: c.Claim, Cursor: migrate.SegmentDoneCursor(), At: time.Now(),
			Counts: engine.MigrateCounts{Scanned: 10, Migrated: 10}}
		if err := ft.Finish(ctx, id, cp, fleet.StateDone, ""); err != nil {
			t.Fatal(err)
		}
	}
	out := <-done
	if out.err != nil {
		t.Fatalf("the resumed session's step = %v", out.err)
	}
	if res := out.res.(migrate.Result); res.Migrated != 40 || res.Scanned != 40 {
		t.Errorf("result = scanned %d, migrated %d; want 40, 40 (4 segments)", res.Scanned, res.Migrated)
	}
}

// hidingControl is a control table that lost the last segment row (as
// an older lockstep could leave one).
type hidingControl struct{ fleet.Control }

func (h hidingControl) Segments(ctx context.Context, id string) ([]fleet.Segment, error) {
	segs, err := h.Control.Segments(ctx, id)
	if len(segs) > 0 {
		segs = segs[:len(segs)-1]
	}
	return segs, err
}

// TestFleetSessionRefusesAFleetMissingRows: a fleet whose control table
// lacks a segment row never ends its step as completed.
func TestFleetSessionRefusesAFleetMissingRows(t *testing.T) {
	if testing.Short() {
		t.Skip("dynalite tests are not short")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rb, err := runbook.Parse("rb.yaml", []byte(createRunbook))
	if err != nil {
		t.Fatal(err)
	}
	client, err := dynamo.NewClient(ctx, &runbook.StoreSpec{Region: "us-east-1", Endpoint: dynalite.Shared(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctl := hidingControl{dynamo.NewFleetTable(client, fmt.Sprintf("fleet_create_%d", dynamoTables.Add(1)))}
	sc := &engine.StepContext{Step: rb.Step("fill"), Runbook: rb, Env: rb.Env("staging"), Session: engine.SessionInfo{ID: "s1"},
		Mode: engine.ModeLive, Attempt: 1, Emit: func(engine.Event) error { return nil }}
	ex := fleet.Executor{Poll: 10 * time.Millisecond,
		Open: func(context.Context, *engine.StepContext, *runbook.FleetSpec) (fleet.Control, error) { return ctl, nil },
		Launch: func(context.Context, *engine.StepContext, *runbook.FleetSpec, fleet.Record) (fleet.Workers, error) {
			return fleet.Workers{}, nil
		}}
	if _, err := ex.Execute(ctx, sc); !errors.Is(err, fleet.ErrIncomplete) {
		t.Errorf("Execute() = %v, want ErrIncomplete", err)
	}
}
