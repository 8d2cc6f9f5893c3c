package engine_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/journal"
)

// afterCheckpoint calls do once, right after the first page checkpoint is
// saved: time moves while the migration is in the middle of its table.
type afterCheckpoint struct {
	engine.Journal
	once sync.Once
	do   func()
}

func (j *afterCheckpoint) SaveCheckpoint(ctx context.Context, s, step string, seg int, cur []byte, data any) error {
	err := j.Journal.SaveCheckpoint(ctx, s, step, seg, cur, data)
	// The write-ahead gate checkpoints each segment's start before any
	// write: act once a checkpoint counts a written page.
	var d struct {
		Migrated int64 `json:"migrated"`
	}
	if b, jerr := json.Marshal(data); jerr == nil && json.Unmarshal(b, &d) == nil && d.Migrated > 0 {
		j.once.Do(j.do)
	}
	return err
}

// windowRig is a live migrate session in a protected environment whose
// window (tue-thu 22:00-02:00 Europe/Paris) closes after the migration's
// first page: the clock moves from Tuesday 23:00 to Wednesday 02:00:30.
type windowRig struct {
	cfg    engine.Config
	clock  *enginetest.FakeClock
	db     string
	prompt *rig.TablePrompter
}

const windowRows = 400

func newWindowRig(t *testing.T, replies map[string][]rig.Reply) *windowRig {
	t.Helper()
	steps := `      - id: bump
        kind: migrate
        with: {set: {count: "item.count + 1"}, batch_size: 20, segments: 3}
`
	rb := rig.DataRunbook(t, 2, `    protected: true
    window: {days: [tue, wed, thu], from: "22:00", to: "02:00", tz: Europe/Paris}`, steps)
	r := rig.NewSQLite(t, rb, windowRows)
	w := &windowRig{clock: enginetest.NewFakeClock(paris(t, "2026-11-24 23:00")), db: filepath.Join(r.Dir, "data.db"),
		prompt: rig.Answers(replies)}
	w.cfg = rig.SQLiteSessionConfig(t, rb, w.db)
	recordRehearsal(t, w.cfg.Journal.(*journal.Journal), rb.Name, rb.Version, rb.SHA256, engine.OutcomeCompleted) // no unrehearsed prompt
	closedTime := paris(t, "2026-11-25 02:00").Add(30 * time.Second)
	w.cfg.Journal = &afterCheckpoint{Journal: w.cfg.Journal, do: func() { w.clock.Set(closedTime) }}
	w.cfg.Clock, w.cfg.Prompter = w.clock, w.prompt
	return w
}

// counts reads how many rows the migration bumped, and whether any was
// bumped twice.
func (w *windowRig) counts(t *testing.T) (migrated, twice int) {
	t.Helper()
	r := &rig.Data{T: t, Dir: filepath.Dir(w.db)}
	rows, err := r.SQLDB(t).Query(`SELECT id, count, v FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, count int
		var v *int
		if err := rows.Scan(&id, &count, &v); err != nil {
			t.Fatal(err)
		}
		switch {
		case count == id+1 && v != nil && *v == 2:
			migrated++
		case count != id:
			twice++
		}
	}
	return migrated, twice
}

func eventsOf(t *testing.T, j engine.Journal, id string, kind engine.EventKind) []engine.Event {
	t.Helper()
	evs, err := j.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []engine.Event
	for _, ev := range evs {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// TestWindowClosesDuringMigrate: a protected environment's window that
// closes while a migrate runs stops it at the next page boundary,
// resumably, with a journaled warning naming when it closed. A resume in
// the next window, or outside it with the operator's reason (which then
// holds for the run), finishes the table, no item migrated twice.
func TestWindowClosesDuringMigrate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		resumeAt string
		reason   string // outside_window, "" none
	}{
		{"resumed in the next window", "2026-11-25 22:30", ""},
		{"resumed outside the window with a reason", "2026-11-25 02:30", "finish the backfill stopped at 02:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWindowRig(t, map[string][]rig.Reply{"confirm_env": {{Ans: engine.Answer{Value: "test"}}}})
			id := w.runUntilWindowCloses(t)

			w.clock.Set(paris(t, tt.resumeAt))
			cfg := w.cfg
			cfg.Runbook = nil
			w.prompt.Replies["confirm_env"] = []rig.Reply{{Ans: engine.Answer{Value: "test"}}}
			if tt.reason != "" {
				w.prompt.Replies["reason"] = []rig.Reply{{Ans: engine.Answer{Reason: tt.reason}}}
			}
			ctx := context.Background()
			s, err := engine.Resume(ctx, cfg, id)
			if err != nil {
				t.Fatalf("Resume: %v", err)
			}
			if out, err := s.Run(ctx); out != engine.OutcomeCompleted || err != nil {
				t.Fatalf("resumed Run() = %q, %v; want completed", out, err)
			}
			if migrated, twice := w.counts(t); migrated != windowRows || twice != 0 {
				t.Errorf("after the resume: %d of %d rows migrated, %d twice", migrated, windowRows, twice)
			}
			if n := w.asked("extend_window"); n != 1 {
				t.Errorf("extend_window asked %d times, want once (before the stop)", n)
			}
		})
	}
}

// runUntilWindowCloses starts and runs the session and checks that it
// stopped, resumably, part-way through the table when the window closed.
func (w *windowRig) runUntilWindowCloses(t *testing.T) (id string) {
	t.Helper()
	ctx := context.Background()
	s, err := engine.Start(ctx, w.cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	out, err := s.Run(ctx)
	if out != engine.OutcomeStopped {
		t.Fatalf("Run() = %q, %v; want stopped (resumable) when the window closes", out, err)
	}
	migrated, twice := w.counts(t)
	t.Logf("window closed after the first page: %d of %d rows migrated", migrated, windowRows)
	if migrated == 0 || migrated >= windowRows || twice != 0 {
		t.Fatalf("after the window closed: %d of %d rows migrated, %d twice; want some, not all, none twice", migrated, windowRows, twice)
	}
	var closedAt time.Time
	for _, ev := range eventsOf(t, w.cfg.Journal, s.ID(), engine.EvWarning) {
		var d struct {
			WindowClosedAt time.Time `json:"window_closed_at"`
		}
		if ev.Decode(&d) == nil && !d.WindowClosedAt.IsZero() {
			closedAt = d.WindowClosedAt
			if !strings.Contains(engine.WarningText(ev), "closed at Wed 2026-11-25 02:00 CET") || ev.Step != "bump" {
				t.Errorf("warning %s: %q, want it on bump, naming when the window closed", ev.Step, engine.WarningText(ev))
			}
		}
	}
	if want := paris(t, "2026-11-25 02:00"); !closedAt.Equal(want) {
		t.Errorf("journaled window_closed_at = %v, want %v", closedAt, want)
	}
	ends := eventsOf(t, w.cfg.Journal, s.ID(), engine.EvStepEnd)
	if len(ends) != 1 || !strings.Contains(string(ends[0].Data), engine.ErrWindowClosed.Error()) {
		t.Errorf("step.end = %v, want bump interrupted by the closed window", ends)
	}
	return s.ID()
}

// asked counts the prompts asked with key.
func (w *windowRig) asked(key string) int {
	n := 0
	for _, p := range w.prompt.Prompts() {
		if p.Key == key {
			n++
		}
	}
	return n
}

// TestWindowExtendedDuringMigrate: with the operator's reason (answers key
// extend_window) the migration goes on past the window's end, the reason
// journaled once although three segments reach the boundary.
func TestWindowExtendedDuringMigrate(t *testing.T) {
	t.Parallel()
	const why = "backfill nearly done, support agreed"
	w := newWindowRig(t, map[string][]rig.Reply{
		"confirm_env": {{Ans: engine.Answer{Value: "test"}}},
		"reason":      {{Ans: engine.Answer{Reason: why}}},
	})
	ctx := context.Background()
	s, err := engine.Start(ctx, w.cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if out, err := s.Run(ctx); out != engine.OutcomeCompleted || err != nil {
		t.Fatalf("Run() = %q, %v; want completed past the window", out, err)
	}
	if migrated, twice := w.counts(t); migrated != windowRows || twice != 0 {
		t.Errorf("%d of %d rows migrated, %d twice", migrated, windowRows, twice)
	}
	var extends []string
	for _, ev := range eventsOf(t, w.cfg.Journal, s.ID(), engine.EvConfirm) {
		var d struct{ What, Value string }
		if ev.Decode(&d) == nil && d.What == "extend_window" {
			extends = append(extends, d.Value)
		}
	}
	if len(extends) != 1 || extends[0] != why {
		t.Errorf("extend_window confirms = %q, want one with the reason", extends)
	}
	if n := w.asked("extend_window"); n != 1 {
		t.Errorf("extend_window asked %d times, want once", n)
	}
}
