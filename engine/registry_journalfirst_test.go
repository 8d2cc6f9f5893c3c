package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/journal"
)

// registryOf reads the environment's registry in the SQLite target.
func registryOf(t *testing.T, r *rig.Data) []engine.RegistryRecord {
	t.Helper()
	recs, err := r.St.(engine.Registrar).Registry(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestRegistryWrittenOnlyAfterJournal: the registry row in the target
// says a session runs only once the journal holds it: a start whose
// session.start (or, in a protected environment, the operator's typed
// confirmation) the journal refuses leaves no row, and a resume whose
// session.resume it refuses leaves the row as the stop left it.
func TestRegistryWrittenOnlyAfterJournal(t *testing.T) {
	t.Parallel()
	rb := rig.DataRunbook(t, 2, "", `      - {id: look, kind: manual, text: "look at the graphs"}
`)
	t.Run("start", func(t *testing.T) {
		t.Parallel()
		r := rig.NewSQLite(t, rb, 10)
		cfg := rig.SQLiteSessionConfig(t, rb, filepath.Join(r.Dir, "data.db"))
		j := &refusingJournal{Journal: cfg.Journal.(*journal.Journal), kind: engine.EvSessionStart}
		cfg.Journal = j
		if _, err := engine.Start(context.Background(), cfg); !errors.Is(err, errRefused) {
			t.Fatalf("Start: %v, want the journal's error", err)
		}
		if recs := registryOf(t, r); len(recs) != 0 {
			t.Errorf("registry = %+v after a start the journal refused, want no row", recs)
		}
	})
	t.Run("protected environment confirmation", func(t *testing.T) {
		t.Parallel()
		prb := rig.DataRunbook(t, 2, "    protected: true", `      - {id: look, kind: manual, text: "look at the graphs"}
`)
		r := rig.NewSQLite(t, prb, 10)
		cfg := rig.SQLiteSessionConfig(t, prb, filepath.Join(r.Dir, "data.db"))
		jr := cfg.Journal.(*journal.Journal)
		recordRehearsal(t, jr, prb.Name, prb.Version, prb.SHA256, engine.OutcomeCompleted)
		cfg.Prompter = rig.Answers(map[string][]rig.Reply{"confirm_env": {{Ans: engine.Answer{Value: "test"}}}})
		cfg.Journal = &refusingJournal{Journal: jr, kind: engine.EvConfirm}
		if _, err := engine.Start(context.Background(), cfg); !errors.Is(err, errRefused) {
			t.Fatalf("Start: %v, want the journal's error", err)
		}
		if recs := registryOf(t, r); len(recs) != 0 {
			t.Errorf("registry = %+v after a typed confirmation the journal refused, want no row", recs)
		}
	})
	t.Run("resume", func(t *testing.T) {
		t.Parallel()
		r := rig.NewSQLite(t, rb, 10)
		cfg := rig.SQLiteSessionConfig(t, rb, filepath.Join(r.Dir, "data.db"))
		s, err := engine.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if out, _ := s.Run(context.Background()); out != engine.OutcomeStopped {
			t.Fatalf("first run = %s, want stopped (no answer for the manual step)", out)
		}
		cfg.Journal = &refusingJournal{Journal: cfg.Journal.(*journal.Journal), kind: engine.EvSessionResume}
		if _, err := engine.Resume(context.Background(), cfg, s.ID()); !errors.Is(err, errRefused) {
			t.Fatalf("Resume: %v, want the journal's error", err)
		}
		recs := registryOf(t, r)
		if len(recs) != 1 || recs[0].Outcome != engine.OutcomeStopped {
			t.Errorf("registry = %+v after a resume the journal refused, want the one row, stopped", recs)
		}
	})
}
