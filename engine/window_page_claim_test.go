package engine_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/journal"
)

// TestWindowCloseWritesAtMostThePageInFlight holds the bound of
// docs/safety.md: when the window closes while a migrate step runs, "the
// step stops at its next page boundary (at most one page per segment in
// flight is written)". TestWindowClosesDuringMigrate checks that it
// stops part-way; here one segment makes the bound exact: the rows
// written when the clock passes the window's end, plus at most one page.
func TestWindowCloseWritesAtMostThePageInFlight(t *testing.T) {
	t.Parallel()
	const batch = 20
	steps := `      - id: bump
        kind: migrate
        with: {set: {count: "item.count + 1"}, batch_size: 20, segments: 1}
`
	rb := rig.DataRunbook(t, 2, `    protected: true
    window: {days: [tue, wed, thu], from: "22:00", to: "02:00", tz: Europe/Paris}`, steps)
	r := rig.NewSQLite(t, rb, windowRows)
	w := &windowRig{clock: enginetest.NewFakeClock(paris(t, "2026-11-24 23:00")), db: filepath.Join(r.Dir, "data.db"),
		prompt: rig.Answers(map[string][]rig.Reply{"confirm_env": {{Ans: engine.Answer{Value: "test"}}}})}
	w.cfg = rig.SQLiteSessionConfig(t, rb, w.db)
	recordRehearsal(t, w.cfg.Journal.(*journal.Journal), rb.Name, rb.Version, rb.SHA256, engine.OutcomeCompleted)
	atClose := -1
	w.cfg.Journal = &afterCheckpoint{Journal: w.cfg.Journal, do: func() {
		atClose, _ = w.counts(t) // committed rows when the window closes
		w.clock.Set(paris(t, "2026-11-25 02:00").Add(30 * time.Second))
	}}
	w.cfg.Clock, w.cfg.Prompter = w.clock, w.prompt
	ctx := context.Background()
	s, err := engine.Start(ctx, w.cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if out, err := s.Run(ctx); out != engine.OutcomeStopped {
		t.Fatalf("Run() = %q, %v; want stopped when the window closes", out, err)
	}
	migrated, twice := w.counts(t)
	t.Logf("%d rows when the window closed, %d when the step stopped", atClose, migrated)
	if atClose < 0 || migrated > atClose+batch || twice != 0 {
		t.Errorf("%d rows migrated (%d twice), %d when the window closed: want at most one more page of %d", migrated, twice, atClose, batch)
	}
}
