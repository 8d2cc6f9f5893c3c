package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

func TestManualChecklist(t *testing.T) {
	t.Parallel()
	src := rig.Header + `
phases:
  - name: p
    steps:
      - {id: deploy, kind: manual, text: Deploy it., checklist: [Deployed, Error rate normal, Paged nobody]}
`
	tests := []struct {
		name    string
		replies []rig.Reply
		want    engine.Outcome
		ticks   int
	}{
		{"all at once", []rig.Reply{{Ans: engine.Answer{Checked: []int{0, 1, 2}}}}, engine.OutcomeCompleted, 3},
		{"in two rounds", []rig.Reply{{Ans: engine.Answer{Checked: []int{1}}}, {Ans: engine.Answer{Checked: []int{0, 2}}}}, engine.OutcomeCompleted, 3},
		// An answer that never completes the checklist is bad input: the
		// session stops resumably, with the ticks given so far journaled.
		{"never complete", []rig.Reply{{Ans: engine.Answer{Checked: []int{0}}}}, engine.OutcomeStopped, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := rig.Answers(map[string][]rig.Reply{"deploy:checklist": tt.replies})
			h := rig.NewHarness(t, src, p)
			h.MustRunOrStop(tt.want)
			ticks := h.Find(engine.EvCheck, "deploy")
			if len(ticks) != tt.ticks {
				t.Fatalf("check.tick events = %d, want %d", len(ticks), tt.ticks)
			}
			var d struct {
				Index int
				Item  string
			}
			_ = ticks[0].Decode(&d)
			if d.Item != []string{"Deployed", "Error rate normal", "Paged nobody"}[d.Index] {
				t.Errorf("tick = %+v: item does not match index", d)
			}
		})
	}
}

// TestManualChecklistTicksBeforeSkipOrQuit: the items ticked before a skip
// or a quit are journaled (check.tick) before the skip or the stop, and a
// resumed checklist does not journal them twice.
func TestManualChecklistTicksBeforeSkipOrQuit(t *testing.T) {
	t.Parallel()
	src := rig.Header + `
phases:
  - name: p
    steps:
      - {id: deploy, kind: manual, checklist: [Deployed, Error rate normal, Paged nobody]}
`
	kinds := func(h *rig.Harness) string {
		var got []string
		for _, ev := range h.Events() {
			switch ev.Kind {
			case engine.EvCheck:
				var d struct{ Index int }
				_ = ev.Decode(&d)
				got = append(got, fmt.Sprintf("%s#%d", ev.Kind, d.Index))
			case engine.EvStepSkip, engine.EvStepEnd:
				got = append(got, string(ev.Kind))
			}
		}
		return strings.Join(got, " ")
	}
	t.Run("skip", func(t *testing.T) {
		h := rig.NewHarness(t, src, rig.Answers(map[string][]rig.Reply{"deploy:checklist": {
			{Ans: engine.Answer{Action: engine.ActionSkip, Reason: "nobody on call", Checked: []int{2, 0}}}}}))
		h.MustRun(engine.OutcomeCompleted)
		if got, want := kinds(h), "check.tick#2 check.tick#0 step.skip step.end"; got != want {
			t.Errorf("events = %s, want %s\n%s", got, want, h.Dump())
		}
	})
	t.Run("quit then resume", func(t *testing.T) {
		h := rig.NewHarness(t, src, rig.Answers(map[string][]rig.Reply{"deploy:checklist": {
			{Ans: engine.Answer{Checked: []int{1}}, Err: engine.ErrQuit},
			{Ans: engine.Answer{Checked: []int{0, 1, 2}}}}}))
		h.MustRun(engine.OutcomeStopped)
		if got, want := kinds(h), "check.tick#1 step.end"; got != want {
			t.Errorf("events after the quit = %s, want %s\n%s", got, want, h.Dump())
		}
		s, err := engine.Resume(context.Background(), h.Cfg, h.S.ID())
		if err != nil {
			t.Fatalf("Resume: %v", err)
		}
		h.S = s
		if out, err := s.Run(context.Background()); out != engine.OutcomeCompleted || err != nil {
			t.Fatalf("Run() = %s, %v\n%s", out, err, h.Dump())
		}
		if got, want := kinds(h), "check.tick#1 step.end check.tick#0 check.tick#2 step.end"; got != want {
			t.Errorf("events = %s, want %s (item 1 journaled once)\n%s", got, want, h.Dump())
		}
	})
}

func TestManualAcknowledge(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps: [{id: look, kind: manual, text: Look at the dashboard.}]
`, rig.Answers(map[string][]rig.Reply{"look:manual": {{Ans: engine.Answer{Confirm: true}}}}))
	h.MustRun(engine.OutcomeCompleted)
	if got := h.P.Asked[0].Text; got != "Look at the dashboard." {
		t.Errorf("manual prompt text = %q", got)
	}
}

func TestDecision(t *testing.T) {
	t.Parallel()
	src := rig.Header + `
phases:
  - name: p
    steps: [{id: strat, kind: decision, with: {choices: [big-bang, multi-step]}}]
`
	tests := []struct {
		name    string
		replies []rig.Reply
		want    engine.Outcome
		choice  string
	}{
		{"valid", []rig.Reply{{Ans: engine.Answer{Choice: "multi-step", Reason: "no downtime"}}}, engine.OutcomeCompleted, "multi-step"},
		{"bad choice then valid", []rig.Reply{{Ans: engine.Answer{Choice: "yolo", Reason: "x"}}, {Ans: engine.Answer{Choice: "big-bang", Reason: "small table"}}},
			engine.OutcomeCompleted, "big-bang"},
		{"empty rationale rejected", []rig.Reply{{Ans: engine.Answer{Choice: "big-bang"}}}, engine.OutcomeStopped, ""},
		{"skip with reason", []rig.Reply{{Ans: engine.Answer{Action: engine.ActionSkip, Reason: "decided offline"}}}, engine.OutcomeCompleted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := rig.Answers(map[string][]rig.Reply{"strat:decision": tt.replies})
			h := rig.NewHarness(t, src, p)
			h.MustRunOrStop(tt.want)
			decisions := h.Find(engine.EvDecision, "strat")
			if tt.choice == "" {
				if len(decisions) != 0 {
					t.Errorf("decision journaled: %s", decisions[0].Data)
				}
				return
			}
			var d struct{ Choice, Reason string }
			_ = decisions[0].Decode(&d)
			if d.Choice != tt.choice || d.Reason == "" {
				t.Errorf("decision = %+v, want %s with a reason", d, tt.choice)
			}
		})
	}
}

func TestApproval(t *testing.T) {
	t.Parallel()
	src := rig.Header + `
phases:
  - name: p
    steps: [{id: go, kind: approval, with: {role: accountable}}]
`
	tests := []struct {
		name string
		ans  engine.Answer
		want engine.Outcome
	}{
		{"holder with reason", engine.Answer{Approver: "carol", Reason: "window ok"}, engine.OutcomeCompleted},
		{"not a holder", engine.Answer{Approver: "mallory", Reason: "trust me"}, engine.OutcomeStopped},
		{"no reason", engine.Answer{Approver: "bob"}, engine.OutcomeStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := rig.NewHarness(t, src, rig.Answers(map[string][]rig.Reply{"go:approval": {{Ans: tt.ans}}}))
			h.MustRunOrStop(tt.want)
			if got := h.P.Asked[0].Holders; strings.Join(got, ",") != "bob,carol" {
				t.Errorf("approval holders = %v", got)
			}
			if ok := len(h.Find(engine.EvApproval, "go")) == 1; ok != (tt.want == engine.OutcomeCompleted) {
				t.Errorf("approval journaled = %v", ok)
			}
		})
	}
}

func TestNotifyChannels(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Text string }
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		mu.Lock()
		got = append(got, body.Text)
		w.WriteHeader(status)
		mu.Unlock()
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "notes.txt")
	src := rig.Header + `
vars: {banner: tonight}
phases:
  - name: p
    steps:
      - {id: size, kind: shell, with: {run: "echo sized"}}
      - {id: out, kind: notify, with: {channel: stdout, to: [informed], template: "{{.Title}} in {{.Env}} by {{.Operator}}: {{.Vars.banner}} (exit {{.Steps.size.ExitCode}})"}}
      - {id: file, kind: notify, with: {channel: file, path: "` + file + `", template: "v{{.Version}} {{.Mode}}"}}
      - {id: hook, kind: notify, with: {channel: webhook, url: "${HOOK}", template: "{{.Name}} starts {{.Window.Start}}"}}
`
	h := rig.NewHarness(t, src, nil)
	h.Cfg.Getenv = func(k string) string {
		if k == "HOOK" {
			return srv.URL
		}
		return ""
	}
	h.MustRun(engine.OutcomeCompleted)
	if want := "Test runbook in test by alice: tonight (exit 0)\n"; h.Stdout.String() != want {
		t.Errorf("stdout = %q, want %q", h.Stdout.String(), want)
	}
	if b, _ := os.ReadFile(file); string(b) != "v2 live\n" {
		t.Errorf("file = %q, want %q", b, "v2 live\n")
	}
	if len(got) != 1 || got[0] != "t starts now" {
		t.Errorf("webhook got %q, want [\"t starts now\"]", got)
	}
	var d struct {
		To   []string
		Sent bool
	}
	_ = h.Find(engine.EvNotify, "out")[0].Decode(&d)
	if strings.Join(d.To, ",") != "#ops" || !d.Sent {
		t.Errorf("notify event = %+v, want to [#ops], sent", d)
	}

	t.Run("webhook non-2xx fails", func(t *testing.T) {
		mu.Lock()
		status = http.StatusInternalServerError
		mu.Unlock()
		h2 := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps: [{id: hook, kind: notify, with: {channel: webhook, url: "`+srv.URL+`", template: "hi"}}]
`, rig.Answers(map[string][]rig.Reply{"hook:failed": {{Ans: engine.Answer{Action: engine.ActionAbort}}}}))
		h2.MustRun(engine.OutcomeAborted)
		if e := h2.EndOf("hook")["error"]; !strings.Contains(e.(string), "HTTP 500") {
			t.Errorf("error = %v, want HTTP 500", e)
		}
	})
}

func TestWaitDuration(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps: [{id: settle, kind: wait, with: {duration: 200ms}}]
`, nil)
	clock := enginetest.NewFakeClock(time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC))
	h.Cfg.Clock = clock
	advanceWhenWaiting(t, clock, 200*time.Millisecond)
	h.MustRun(engine.OutcomeCompleted)
	if got := h.EndOf("settle")["result"].(map[string]any)["waited_ms"]; got != float64(200) {
		t.Errorf("waited_ms = %v, want 200", got)
	}
}

// advanceWhenWaiting moves clock d forward once the engine waits on it.
func advanceWhenWaiting(t *testing.T, clock *enginetest.FakeClock, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	t.Cleanup(func() { <-done })
	go func() {
		defer close(done)
		if !clock.BlockUntil(1, 5*time.Second) {
			t.Errorf("the engine never waited on its clock")
			return
		}
		clock.Advance(d)
	}()
}

func TestWaitWindow(t *testing.T) {
	t.Parallel()
	src := `
lockstep: 1
name: t
title: Wait
version: 1
environments:
  test:
    window: {from: "22:00", to: "02:00", tz: UTC}
phases:
  - name: p
    steps: [{id: until, kind: wait, with: {window: true}}]
`
	inside := time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC)
	h := rig.NewHarness(t, src, nil)
	h.Cfg.Clock = rig.FixedClock{T: inside}
	h.MustRun(engine.OutcomeCompleted)
	if got := h.EndOf("until")["result"].(map[string]any)["waited_ms"]; got != float64(0) {
		t.Errorf("waited_ms inside the window = %v, want 0", got)
	}

	// Outside the window the step waits until it opens, on the session's clock.
	h2 := rig.NewHarness(t, src, nil)
	clock := enginetest.NewFakeClock(inside.Add(-3 * time.Hour))
	h2.Cfg.Clock = clock
	advanceWhenWaiting(t, clock, 90*time.Minute)
	h2.MustRun(engine.OutcomeCompleted)
	if !strings.Contains(h2.Output("until"), "waiting 1h30m0s until 2026-11-24T22:00:00Z") {
		t.Errorf("output = %q", h2.Output("until"))
	}
	if got := h2.EndOf("until")["result"].(map[string]any)["waited_ms"]; got != float64(90*time.Minute/time.Millisecond) {
		t.Errorf("waited_ms before the window = %v, want %d", got, 90*time.Minute/time.Millisecond)
	}
}

// TestWaitStopsWithContext: a wait ends when the session's context does,
// and the session stops resumably.
func TestWaitStopsWithContext(t *testing.T) {
	t.Parallel()
	h := rig.NewHarness(t, rig.Header+`
phases:
  - name: p
    steps: [{id: settle, kind: wait, with: {duration: 1h}}]
`, nil)
	clock := enginetest.NewFakeClock(time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC))
	h.Cfg.Clock = clock
	s, err := engine.Start(context.Background(), h.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.S = s
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		if !clock.BlockUntil(1, 5*time.Second) {
			t.Errorf("the wait step never waited on the session's clock")
		}
		cancel()
	}()
	if out, err := s.Run(ctx); out != engine.OutcomeStopped || err != nil {
		t.Fatalf("Run() = %s, %v; want stopped", out, err)
	}
}
