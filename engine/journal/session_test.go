package journal_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
)

func TestListSessionsFilters(t *testing.T) {
	ctx := context.Background()
	j, _ := openTemp(t)
	base := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	infos := []engine.SessionInfo{
		sessionInfo("staging", "split-address", engine.ModeRehearsal, base),
		sessionInfo("production", "split-address", engine.ModeLive, base.Add(time.Hour)),
		sessionInfo("staging", "rename-sku", engine.ModeDryRun, base.Add(2*time.Hour)),
		sessionInfo("staging", "split-address", engine.ModeRehearsal, base.Add(3*time.Hour)),
	}
	var ids []string
	for _, in := range infos {
		ids = append(ids, createSession(t, j, in).ID)
	}
	if err := j.EndSession(ctx, ids[0], engine.OutcomeCompleted); err != nil {
		t.Fatal(err)
	}
	if err := j.EndSession(ctx, ids[1], engine.OutcomeAborted); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter engine.SessionFilter
		want   []int
	}{
		{"all newest first", engine.SessionFilter{}, []int{3, 2, 1, 0}},
		{"env", engine.SessionFilter{Env: "staging"}, []int{3, 2, 0}},
		{"runbook", engine.SessionFilter{Runbook: "split-address"}, []int{3, 1, 0}},
		{"mode", engine.SessionFilter{Mode: engine.ModeRehearsal}, []int{3, 0}},
		{"outcome", engine.SessionFilter{Outcome: engine.OutcomeAborted}, []int{1}},
		{"combined", engine.SessionFilter{Env: "staging", Runbook: "split-address", Outcome: engine.OutcomeCompleted}, []int{0}},
		{"limit", engine.SessionFilter{Env: "staging", Limit: 2}, []int{3, 2}},
		{"none", engine.SessionFilter{Env: "dev"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := j.ListSessions(ctx, tt.filter)
			if err != nil {
				t.Fatalf("ListSessions: %v", err)
			}
			var gotIDs, wantIDs []string
			for _, s := range got {
				gotIDs = append(gotIDs, s.ID)
			}
			for _, i := range tt.want {
				wantIDs = append(wantIDs, ids[i])
			}
			if len(gotIDs) != len(wantIDs) {
				t.Fatalf("ListSessions(%+v) = %v, want %v", tt.filter, gotIDs, wantIDs)
			}
			for i := range gotIDs {
				if gotIDs[i] != wantIDs[i] {
					t.Errorf("ListSessions(%+v) = %v, want %v", tt.filter, gotIDs, wantIDs)
					break
				}
			}
			latest, err := j.LatestSession(ctx, tt.filter)
			switch {
			case len(wantIDs) == 0 && !errors.Is(err, engine.ErrNotFound):
				t.Errorf("LatestSession() error = %v, want ErrNotFound", err)
			case len(wantIDs) > 0 && (err != nil || latest.ID != wantIDs[0] || len(latest.RunbookSource) == 0):
				t.Errorf("LatestSession() = %s (%d source bytes), %v; want %s with its source",
					latest.ID, len(latest.RunbookSource), err, wantIDs[0])
			}
		})
	}
}

func TestCreateSession(t *testing.T) {
	ctx := context.Background()
	j, _ := openTemp(t)
	started := time.Date(2026, 11, 23, 19, 37, 2, 999, time.UTC)
	tests := []struct {
		name    string
		info    engine.SessionInfo
		wantErr error
		wantID  string
	}{
		{"generated id", sessionInfo("staging", "r", engine.ModeLive, started), nil, ""},
		{"given id", func() engine.SessionInfo {
			i := sessionInfo("staging", "r", engine.ModeLive, started)
			i.ID = "custom-1"
			return i
		}(), nil, "custom-1"},
		{"no operator", engine.SessionInfo{Runbook: "r", Env: "staging"}, journal.ErrNoOperator, ""},
		{"sha mismatch", engine.SessionInfo{Runbook: "r", Operator: "a", RunbookSource: []byte("x"), RunbookSHA256: "00"},
			journal.ErrSourceMismatch, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := j.CreateSession(ctx, tt.info)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CreateSession() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if tt.wantID != "" && got.ID != tt.wantID {
				t.Errorf("ID = %q, want %q", got.ID, tt.wantID)
			}
			if tt.wantID == "" && got.ID[:15] != "20261123T193702" {
				t.Errorf("ID = %q, want the start time 20261123T193702-xxxx", got.ID)
			}
			if got.RunbookSHA256 == "" || !got.Started.Equal(started.Truncate(time.Microsecond)) {
				t.Errorf("CreateSession() = %+v, want sha256 computed and start truncated", got)
			}
			read, err := j.Session(ctx, got.ID)
			if err != nil || read.RunbookSHA256 != got.RunbookSHA256 || read.Title != got.Title || read.Mode != got.Mode {
				t.Errorf("Session() = %+v, %v; want %+v", read, err, got)
			}
		})
	}
	// Many sessions in the same second get distinct ids.
	seen := map[string]bool{}
	for range 50 {
		s := createSession(t, j, sessionInfo("staging", "r", engine.ModeLive, started))
		if seen[s.ID] {
			t.Fatalf("duplicate id %s", s.ID)
		}
		seen[s.ID] = true
	}
}

func TestEndSession(t *testing.T) {
	ctx := context.Background()
	j, _ := openTemp(t)
	s := createSession(t, j, sessionInfo("staging", "r", engine.ModeLive, time.Time{}))
	if err := j.EndSession(ctx, s.ID, engine.OutcomeFailed); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	got, _ := j.Session(ctx, s.ID)
	if got.Outcome != engine.OutcomeFailed || got.Ended.Before(got.Started) {
		t.Errorf("Session() = outcome %q ended %v, want failed after start", got.Outcome, got.Ended)
	}
	if evs, _ := j.Events(ctx, s.ID); len(evs) != 0 {
		t.Errorf("EndSession appended %d events, want 0", len(evs))
	}
	if err := j.EndSession(ctx, "nope", engine.OutcomeFailed); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("EndSession(unknown) error = %v, want ErrNotFound", err)
	}
	if err := j.EndSession(ctx, s.ID, engine.OutcomeRunning); err == nil {
		t.Error("EndSession(running) succeeded, want error")
	}
	if _, err := j.Session(ctx, "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Session(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := j.Events(ctx, "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Events(unknown) error = %v, want ErrNotFound", err)
	}
}
