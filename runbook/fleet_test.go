package runbook_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// fleetBase has a DynamoDB environment and one migrate step; cases
// replace ENVFLEET and STEPFLEET.
const fleetBase = `lockstep: 1
name: fl
title: Fleet
version: 2
environments:
  staging:
    store: {kind: dynamodb, table: t, region: eu-west-1}
ENVFLEET
phases:
  - name: run
    steps:
      - {id: fill, kind: migrate, with: {set: {x: "1"}STEPFLEET}}
`

func fleetSrc(env, step string) string {
	if env != "" {
		env = "    fleet: " + env
	}
	if step != "" {
		step = ", fleet: " + step
	}
	return strings.NewReplacer("ENVFLEET\n", env+"\n", "STEPFLEET", step).Replace(fleetBase)
}

func TestFleetParse(t *testing.T) {
	tests := []struct {
		name      string
		env, step string
		want      *runbook.FleetSpec // the step's fleet in staging
	}{
		{"none", "", "", nil},
		{"env defaults", "{}", "", &runbook.FleetSpec{Segments: 64, Workers: 4, Launcher: "local", Lease: time.Minute, Table: "lockstep-fleet"}},
		{"env", "{segments: 1024, workers: 32, launcher: batch, lease: 90s, image: img, queue: q, table: ctl}", "",
			&runbook.FleetSpec{Segments: 1024, Workers: 32, Launcher: "batch", Lease: 90 * time.Second, Table: "ctl", Image: "img", Queue: "q"}},
		{"step overrides env", "{workers: 2}", "{segments: 8, workers: 8, launcher: kubernetes, image: img}",
			&runbook.FleetSpec{Segments: 8, Workers: 8, Launcher: "kubernetes", Lease: time.Minute, Table: "lockstep-fleet", Image: "img"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb, err := runbook.Parse("rb.yaml", []byte(fleetSrc(tt.env, tt.step)))
			if err != nil {
				t.Fatalf("Parse(): %v", err)
			}
			got := runbook.FleetOf(rb.Steps()[0], rb.Environments[0])
			if got != nil {
				got.Pos = runbook.Pos{}
			}
			switch {
			case got == nil && tt.want == nil:
			case got == nil || tt.want == nil || *got != *tt.want:
				t.Errorf("FleetOf() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFleetParseErrors(t *testing.T) {
	tests := []struct {
		name, env, step, want string
	}{
		{"unknown key", "{worker: 2}", "", "did you mean workers?"},
		{"unknown launcher", "{launcher: batchh}", "", `unknown fleet launcher "batchh"`},
		{"more workers than segments", "", "{segments: 2, workers: 3}", "3 workers for 2 segments"},
		{"batch without queue", "{launcher: batch, image: img}", "", "launcher batch needs a queue"},
		{"kubernetes without image", "", "{launcher: kubernetes}", "launcher kubernetes needs an image"},
		{"bad lease", "{lease: soon}", "", `fleet lease: invalid duration "soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runbook.Parse("rb.yaml", []byte(fleetSrc(tt.env, tt.step)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
