package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// Faults in the environment's registry, injected in the real SQLite file:
// a lockstep_registry table of another shape (unreadable), or triggers
// that refuse its inserts (the start cannot be recorded) or its updates
// (the end cannot be recorded).
const (
	registryUnreadable = `CREATE TABLE lockstep_registry (x INTEGER)`
	registryDenyInsert = `CREATE TRIGGER deny_start BEFORE INSERT ON lockstep_registry BEGIN SELECT RAISE(ABORT, 'registry insert denied'); END`
	registryDenyUpdate = `CREATE TRIGGER deny_end BEFORE UPDATE ON lockstep_registry BEGIN SELECT RAISE(ABORT, 'registry update denied'); END`
)

// faultyRegistry is a 20-row SQLite table under the counter steps, in an
// environment with envExtra, its registry created first when created
// (a readable one), then the faults injected; it returns the session's
// config, the table's database and its file.
func faultyRegistry(t *testing.T, envExtra string, created bool, faults []string) (engine.Config, *sql.DB, string) {
	t.Helper()
	rb := rig.DataRunbook(t, 1, envExtra, rig.CounterSteps)
	r := rig.NewSQLite(t, rb, 20)
	dbPath := filepath.Join(r.Dir, "data.db")
	if created {
		createRegistry(t, dbPath)
	}
	db := r.SQLDB(t)
	execAll(t, db, faults)
	return rig.SQLiteSessionConfig(t, rb, dbPath), db, dbPath
}

// TestProtectedRefusedWhenRegistryFails holds docs/registry.md: "a
// protected environment whose store or registry cannot be read, or whose
// start cannot be recorded, is refused (its rules cannot be checked)".
// The refused session writes no item.
func TestProtectedRefusedWhenRegistryFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		faults  []string
		created bool // the registry table is created first (a readable registry)
		wantMsg string
	}{
		{"registry unreadable", []string{registryUnreadable}, false, "read the registry of test"},
		{"start not recorded", []string{registryDenyInsert}, true, "record the session's start in the test registry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg, db, _ := faultyRegistry(t, "    protected: true", tt.created, tt.faults)
			cfg.Prompter = rig.Answers(map[string][]rig.Reply{
				"confirm_env": {{Ans: engine.Answer{Value: "test"}}},
				"reason":      {{Ans: engine.Answer{Reason: "first run of a new runbook"}}},
			})
			s, err := engine.Start(ctx, cfg)
			if err == nil {
				out, rerr := s.Run(ctx)
				t.Fatalf("Start() succeeded (Run() = %s, %v), want the protected environment refused", out, rerr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Start() error = %v, want it to say %q", err, tt.wantMsg)
			}
			if n := bumped(t, db); n != 0 {
				t.Errorf("%d items migrated by a refused session, want 0", n)
			}
		})
	}
}

// TestUnprotectedGoesOnWhenRegistryFails holds docs/registry.md: for an
// environment that is not protected, an unreadable registry is a
// journaled warning and the session goes on; and "a failure to record the
// end does not change the outcome: lockstep warns, and the registry shows
// the session as running" (the front end's warning is the AnchorError).
func TestUnprotectedGoesOnWhenRegistryFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		faults       []string
		created      bool
		wantWarnings []string // substrings of journaled warnings
		wantRunning  bool     // the registry still shows the session running
	}{
		{"registry unreadable", []string{registryUnreadable}, false,
			[]string{"registry not read: test", "registry: record the session's start in the test registry"}, false},
		{"end not recorded", []string{registryDenyUpdate}, true, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg, db, dbPath := faultyRegistry(t, "", tt.created, tt.faults)
			s, err := engine.Start(ctx, cfg)
			if err != nil {
				t.Fatalf("Start() = %v, want the session to go on", err)
			}
			out, err := s.Run(ctx)
			if out != engine.OutcomeCompleted {
				t.Fatalf("Run() = %s, %v; want completed whatever the registry", out, err)
			}
			var ae *engine.AnchorError
			if !errors.As(err, &ae) {
				t.Errorf("Run() error = %v, want an AnchorError (the front end's warning that the end was not recorded)", err)
			}
			if n := bumped(t, db); n != 20 {
				t.Errorf("%d of 20 items migrated, want all", n)
			}
			evs, err := cfg.Journal.Events(ctx, s.ID())
			if err != nil {
				t.Fatal(err)
			}
			var warnings []string
			for _, ev := range evs {
				if ev.Kind == engine.EvWarning {
					warnings = append(warnings, string(ev.Data))
				}
			}
			for _, want := range tt.wantWarnings {
				if !slicesContain(warnings, want) {
					t.Errorf("journaled warnings %q, want one saying %q", warnings, want)
				}
			}
			if ended := engine.EndedOutcome(evs); ended != engine.OutcomeCompleted {
				t.Errorf("journaled outcome %s, want completed", ended)
			}
			if tt.wantRunning {
				st := openStore(t, dbPath)
				recs, err := st.Registry(ctx, "test")
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) != 1 || recs[0].SessionID != s.ID() || recs[0].Outcome != engine.OutcomeRunning {
					t.Errorf("Registry() = %+v, want this session still running", recs)
				}
			}
		})
	}
}

// createRegistry creates the store's registry table as lockstep does,
// by recording and removing nothing: a record of another environment.
func createRegistry(t *testing.T, dbPath string) {
	t.Helper()
	st := openStore(t, dbPath)
	if err := st.RecordStart(context.Background(), engine.RegistryRecord{Runbook: "other", Version: 1, SHA256: "00",
		Env: "elsewhere", Mode: engine.ModeLive, Outcome: engine.OutcomeRunning, SessionID: "s0", Operator: "o", Host: "h"}); err != nil {
		t.Fatal(err)
	}
}

func openStore(t *testing.T, dbPath string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: dbPath, Table: "users", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func execAll(t *testing.T, db *sql.DB, qs []string) {
	t.Helper()
	for _, q := range qs {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// bumped counts the rows CounterSteps migrated (count = id + 1, at v 1).
func bumped(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM users WHERE count = id + 1 AND v = 1`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func slicesContain(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
