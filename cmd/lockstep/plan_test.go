package main

import (
	"bytes"
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
