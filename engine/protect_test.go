package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/runbook"
)

const protectedRunbook = `
lockstep: 1
name: t
title: Protected
version: 1
environments:
  prod:
    protected: true
    window: {days: [tue, wed, thu], from: "22:00", to: "02:00", tz: Europe/Paris}
phases:
  - name: p
    steps: [{id: a, kind: shell, with: {run: "true"}}]
`

func paris(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestProtectedEnvironment(t *testing.T) {
	t.Parallel()
	inside := "2026-11-24 23:00" // a Tuesday
	tests := []struct {
		name    string
		yes     bool
		typed   string
		now     string
		wantErr error
		msg     string
	}{
		{"right name", false, "prod", inside, nil, ""},
		{"yes refused", true, "prod", inside, engine.ErrProtectedYes, "--yes"},
		{"wrong name", false, "production", inside, engine.ErrEnvConfirm, `typed "production"`},
		{"outside window", false, "prod", "2026-11-23 23:00", engine.ErrOutsideWindow, "next window opens Tue 2026-11-24 22:00 CET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := rig.NewHarness(t, protectedRunbook, rig.Answers(map[string][]rig.Reply{"confirm_env": {{Ans: engine.Answer{Value: tt.typed}}}}))
			h.Cfg.Env, h.Cfg.Yes, h.Cfg.Clock = "prod", tt.yes, rig.FixedClock{T: paris(t, tt.now)}
			recordRehearsal(t, h.J, "t", 1, h.Cfg.Runbook.SHA256, engine.OutcomeCompleted)
			s, err := engine.Start(context.Background(), h.Cfg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Start() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("error %q does not mention %q", err, tt.msg)
				}
				if list, _ := h.J.ListSessions(context.Background(), engine.SessionFilter{Env: "prod"}); len(list) != 0 {
					t.Errorf("refused Start created %d sessions", len(list))
				}
				return
			}
			h.S = s
			if out, err := s.Run(context.Background()); out != engine.OutcomeCompleted || err != nil {
				t.Fatalf("Run() = %s, %v", out, err)
			}
			if len(h.Find(engine.EvConfirm, "")) != 1 {
				t.Errorf("env confirmation not journaled")
			}
		})
	}
}

func TestCheckWindow(t *testing.T) {
	t.Parallel()
	w := &runbook.Window{Days: []string{"tue", "wed", "thu"}, From: "22:00", To: "02:00", TZ: "Europe/Paris"}
	tests := []struct {
		now  string
		open bool
		next string
	}{
		{"2026-11-24 22:00", true, ""},
		{"2026-11-25 01:59", true, ""},                  // Tuesday's window, after midnight
		{"2026-11-25 02:00", false, "2026-11-25 22:00"}, // closed until Wednesday night
		{"2026-11-24 21:59", false, "2026-11-24 22:00"},
		{"2026-11-27 01:00", true, ""}, // Thursday's window on Friday morning
		{"2026-11-27 23:00", false, "2026-12-01 22:00"},
	}
	for _, tt := range tests {
		t.Run(tt.now, func(t *testing.T) {
			st, err := engine.CheckWindow(w, paris(t, tt.now))
			if err != nil {
				t.Fatal(err)
			}
			if st.Open != tt.open {
				t.Errorf("Open = %v, want %v", st.Open, tt.open)
			}
			if tt.next != "" && !st.NextOpen.Equal(paris(t, tt.next)) {
				t.Errorf("NextOpen = %s, want %s", st.NextOpen, tt.next)
			}
		})
	}
}

func TestRehearsalDrift(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		sha       string // of the recorded rehearsal; "" = none
		reason    *rig.Reply
		wantErr   bool
		wantEvent string // "confirm" (rehearsal_drift) or "unrehearsed"
	}{
		{"same runbook rehearsed", "self", nil, false, ""},
		{"never rehearsed, reason given", "", &rig.Reply{Ans: engine.Answer{Reason: "first run of the hotfix"}}, false, "unrehearsed"},
		{"never rehearsed, no answer", "", nil, true, ""},
		{"never rehearsed, empty reason", "", &rig.Reply{Ans: engine.Answer{}}, true, ""},
		{"different runbook, reason given", "0123abcd", &rig.Reply{Ans: engine.Answer{Reason: "hotfix to step 3"}}, false, "confirm"},
		{"different runbook, no answer", "0123abcd", nil, true, ""},
		{"different runbook, empty reason", "0123abcd", &rig.Reply{Ans: engine.Answer{}}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := rig.Answers(map[string][]rig.Reply{"confirm_env": {{Ans: engine.Answer{Value: "prod"}}}})
			if tt.reason != nil {
				p.Replies["reason"] = []rig.Reply{*tt.reason}
			}
			h := rig.NewHarness(t, protectedRunbook, p)
			h.Cfg.Env, h.Cfg.Clock = "prod", rig.FixedClock{T: paris(t, "2026-11-24 23:00")}
			if tt.sha != "" {
				sha := tt.sha
				if sha == "self" {
					sha = h.Cfg.Runbook.SHA256
				}
				recordRehearsal(t, h.J, "t", 1, sha, engine.OutcomeCompleted)
			}
			s, err := engine.Start(context.Background(), h.Cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Start() error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if list, _ := h.J.ListSessions(context.Background(), engine.SessionFilter{Env: "prod"}); len(list) != 0 {
					t.Errorf("refused Start created a session")
				}
				return
			}
			h.S = s
			confirms, unrehearsed := 0, 0
			for _, ev := range h.Find(engine.EvConfirm, "") {
				if strings.Contains(string(ev.Data), "rehearsal_drift") {
					confirms++
				}
				if strings.Contains(string(ev.Data), `"unrehearsed"`) {
					unrehearsed++
				}
			}
			if got := map[string]bool{"confirm": confirms == 1 && unrehearsed == 0, "unrehearsed": unrehearsed == 1 && confirms == 0,
				"": confirms == 0 && unrehearsed == 0}[tt.wantEvent]; !got {
				t.Errorf("drift events: %d rehearsal_drift, %d unrehearsed; want %q\n%s", confirms, unrehearsed, tt.wantEvent, h.Dump())
			}
		})
	}
}

// TestResumeOutsideWindow: a protected session stopped mid-way can be
// resumed after its window closed (to finish, roll back or abort: its
// maintenance flag may be on), but only with the operator's reason, which
// is journaled; without one the resume is refused and nothing is written.
func TestResumeOutsideWindow(t *testing.T) {
	t.Parallel()
	src := strings.Replace(protectedRunbook, `steps: [{id: a, kind: shell, with: {run: "true"}}]`,
		`steps: [{id: a, kind: manual, checklist: [done]}, {id: b, kind: shell, with: {run: "true"}}]`, 1)
	for _, tt := range []struct {
		name, reason string
		wantErr      error
	}{
		{"with a reason", "finish the backfill stopped at 01:58", nil},
		{"without a reason", "", engine.ErrReasonRequired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := rig.NewHarness(t, src, rig.Answers(map[string][]rig.Reply{
				"confirm_env": {{Ans: engine.Answer{Value: "prod"}}, {Ans: engine.Answer{Value: "prod"}}},
				"a:checklist": {{Err: engine.ErrQuit}},
				"reason":      {{Ans: engine.Answer{Reason: tt.reason}}},
			}))
			h.Cfg.Env, h.Cfg.Clock = "prod", rig.FixedClock{T: paris(t, "2026-11-24 23:00")}
			recordRehearsal(t, h.J, "t", 1, h.Cfg.Runbook.SHA256, engine.OutcomeCompleted)
			s, err := engine.Start(context.Background(), h.Cfg)
			if err != nil {
				t.Fatal(err)
			}
			h.S = s
			if out, _ := s.Run(context.Background()); out != engine.OutcomeStopped {
				t.Fatalf("Run() = %s, want stopped", out)
			}
			before := len(h.Events())
			cfg := h.Cfg
			cfg.Clock = rig.FixedClock{T: paris(t, "2026-11-25 09:00")} // the window closed at 02:00
			s, err = engine.Resume(context.Background(), cfg, s.ID())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Resume() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, engine.ErrOutsideWindow) {
					t.Errorf("error %v does not say the window is closed", err)
				}
				if n := len(h.Events()); n != before {
					t.Errorf("a refused resume journaled %d events", n-before)
				}
				return
			}
			h.S = s
			var d struct{ What, Value string }
			confirms := h.Find(engine.EvConfirm, "")
			_ = confirms[len(confirms)-1].Decode(&d)
			if d.What != "outside_window" || d.Value != tt.reason {
				t.Errorf("last confirm = %+v, want the outside_window reason", d)
			}
		})
	}
}

// TestCheckWindowAroundDST: a window whose start falls in the spring-forward
// gap opens when the clock jumps, not an hour later; at fall-back a window
// starting at a time that occurs twice opens at the first.
func TestCheckWindowAroundDST(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	tests := []struct {
		name     string
		from, to string
		at       time.Time
		open     bool
	}{
		// 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
		{"spring gap: open right after the jump", "02:30", "04:00", time.Date(2026, 3, 29, 1, 10, 0, 0, time.UTC), true},
		{"spring gap: closed before it", "02:30", "04:00", time.Date(2026, 3, 29, 0, 50, 0, 0, time.UTC), false},
		// 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00 UTC); 02:15 occurs at 00:15 and 01:15 UTC.
		{"fall back: the first 02:15 is inside", "02:00", "02:30", time.Date(2026, 10, 25, 0, 15, 0, 0, time.UTC), true},
		{"fall back: the second 02:15 is inside too", "02:00", "02:30", time.Date(2026, 10, 25, 1, 15, 0, 0, time.UTC), true},
		{"an ordinary day", "02:00", "02:30", time.Date(2026, 11, 24, 1, 15, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := engine.CheckWindow(&runbook.Window{From: tt.from, To: tt.to, TZ: loc.String()}, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if st.Open != tt.open {
				t.Errorf("open at %s = %v, want %v (next %s)", tt.at.In(loc), st.Open, tt.open, st.NextOpen)
			}
		})
	}
}
