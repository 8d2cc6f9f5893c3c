package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestPlanWindow: plan says a window is enforced only where the engine
// enforces it: a protected environment, outside a dry-run.
func TestPlanWindow(t *testing.T) {
	rb, err := runbook.Parse("w.yaml", []byte(`lockstep: 1
name: w
title: w
version: 1
roles: {responsible: [a]}
environments:
  staging: {window: {from: "22:00", to: "02:00", tz: UTC}}
  production: {protected: true, window: {days: [tue], from: "22:00", to: "02:00", tz: Europe/Paris}}
phases: [{name: p, steps: [{id: s, kind: shell, with: {run: "true"}}]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env  string
		mode engine.Mode
		want string
	}{
		{"staging", engine.ModeLive, "  window: 22:00–02:00 UTC (used by wait steps and estimates)\n"},
		{"production", engine.ModeLive, "  window: tue 22:00–02:00 Europe/Paris (enforced: the session refuses to start outside it)\n"},
		{"production", engine.ModeDryRun, "  window: tue 22:00–02:00 Europe/Paris (used by wait steps and estimates)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.env+" "+string(tt.mode), func(t *testing.T) {
			var b bytes.Buffer
			writePlan(&b, buildPlan(rb, rb.Env(tt.env), tt.mode))
			if !strings.Contains(b.String(), tt.want) {
				t.Errorf("plan lacks %q:\n%s", tt.want, b.String())
			}
		})
	}
}

// TestPlanFleet: plan describes a migrate step's fleet (the step's own
// over the environment's), in text and JSON, and says a dry-run reads
// locally; a step without a fleet has none.
func TestPlanFleet(t *testing.T) {
	rb, err := runbook.Parse("f.yaml", []byte(`lockstep: 1
name: f
title: f
version: 1
environments:
  staging:
    store: {kind: dynamodb, table: t, region: us-east-1}
    fleet: {segments: 128, workers: 8, lease: 45s}
  production:
    store: {kind: dynamodb, table: t, region: us-east-1}
phases:
  - name: p
    steps:
      - {id: env-fleet, kind: migrate, with: {set: {x: "1"}}}
      - id: own-fleet
        kind: migrate
        with:
          set: {y: "2"}
          fleet: {segments: 1024, workers: 32, launcher: batch, queue: q1, image: reg/lockstep:1, table: ctl}
      - {id: sh, kind: shell, with: {run: "true"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env   string
		mode  engine.Mode
		want  []string
		fleet map[string]*planFleet // by step id, in the JSON plan
	}{
		{"staging", engine.ModeLive, []string{
			" 1. env-fleet (migrate): migrates: set x (guarded conditional writes, rate-limited, checkpointed)\n" +
				"      fleet: 128 segments, 8 local workers, lease 45s, control table lockstep-fleet\n",
			"      fleet: 1024 segments, 32 batch workers, lease 1m0s, control table ctl, image reg/lockstep:1, queue q1\n"},
			map[string]*planFleet{
				"env-fleet": {Segments: 128, Workers: 8, Launcher: "local", Lease: "45s", Table: "lockstep-fleet"},
				"own-fleet": {Segments: 1024, Workers: 32, Launcher: "batch", Lease: "1m0s", Table: "ctl", Image: "reg/lockstep:1", Queue: "q1"},
			}},
		{"staging", engine.ModeDryRun, []string{
			"      fleet: 128 segments, 8 local workers, lease 45s, control table lockstep-fleet (not in a dry-run: the session reads locally)\n"},
			map[string]*planFleet{
				"env-fleet": {Segments: 128, Workers: 8, Launcher: "local", Lease: "45s", Table: "lockstep-fleet", Local: true},
				"own-fleet": {Segments: 1024, Workers: 32, Launcher: "batch", Lease: "1m0s", Table: "ctl", Image: "reg/lockstep:1", Queue: "q1", Local: true},
			}},
		{"production", engine.ModeLive, []string{
			" 1. env-fleet (migrate): migrates: set x (guarded conditional writes, rate-limited, checkpointed)\n 2. own-fleet",
			"      fleet: 1024 segments, 32 batch workers"},
			map[string]*planFleet{
				"own-fleet": {Segments: 1024, Workers: 32, Launcher: "batch", Lease: "1m0s", Table: "ctl", Image: "reg/lockstep:1", Queue: "q1"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.env+" "+string(tt.mode), func(t *testing.T) {
			d := buildPlan(rb, rb.Env(tt.env), tt.mode)
			var b bytes.Buffer
			writePlan(&b, d)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("plan lacks %q:\n%s", w, b.String())
				}
			}
			if strings.Count(b.String(), "fleet:") != len(tt.fleet) {
				t.Errorf("plan has %d fleet lines, want %d:\n%s", strings.Count(b.String(), "fleet:"), len(tt.fleet), b.String())
			}
			js, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var back planDoc
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			for _, st := range back.Phases[0].Steps {
				if want := tt.fleet[st.ID]; !reflect.DeepEqual(st.Fleet, want) {
					t.Errorf("JSON step %s fleet = %+v, want %+v", st.ID, st.Fleet, want)
				}
			}
			if !strings.Contains(string(js), `"fleet":{"segments":1024,"workers":32,"launcher":"batch","lease":"1m0s","control_table":"ctl"`) {
				t.Errorf("JSON plan lacks own-fleet's fleet: %s", js)
			}
		})
	}
}
