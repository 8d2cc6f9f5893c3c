package engine_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// twoEnvs declares a protected environment prod beside the rig's test.
const twoEnvs = `  prod:
    protected: true
    store: {kind: sqlite, path: prod.db, table: users, key: [id]}`

// TestRegistryOfOtherEnvironments holds docs/registry.md: before a
// session, lockstep reads its environment's registry and "for a live run
// in a protected environment only — read-only, the registry of every
// other environment the runbook declares (a run elsewhere never reaches
// another environment's store)", and "reading a store that has none
// writes nothing". Each environment is its own SQLite file; the opener
// records which ones a session opens.
func TestRegistryOfOtherEnvironments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env        string
		wantOpened []string // files opened, sorted
	}{
		{"test", []string{"data.db"}},
		{"prod", []string{"data.db", "prod.db"}},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rb := rig.DataRunbook(t, 1, twoEnvs, rig.CounterSteps)
			files := map[string]string{
				"data.db": filepath.Join(rig.NewSQLite(t, rb, 20).Dir, "data.db"),
				"prod.db": filepath.Join(rig.NewSQLite(t, rb, 20).Dir, "data.db"),
			}
			var mu sync.Mutex
			var opened []string
			cfg := rig.SQLiteSessionConfig(t, rb, files["data.db"])
			cfg.Env = tt.env
			cfg.Stores = func(_ context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
				name := filepath.Base(spec.Path)
				mu.Lock()
				if !slices.Contains(opened, name) {
					opened = append(opened, name)
				}
				mu.Unlock()
				s := *spec
				s.Path = files[name]
				return sqlite.Open(&s)
			}
			cfg.Prompter = rig.Answers(map[string][]rig.Reply{
				"confirm_env": {{Ans: engine.Answer{Value: "prod"}}},
				"reason":      {{Ans: engine.Answer{Reason: "first run: no rehearsal of this runbook yet"}}},
			})
			s, err := engine.Start(ctx, cfg)
			if err != nil {
				t.Fatalf("Start() = %v", err)
			}
			if out, err := s.Run(ctx); out != engine.OutcomeCompleted || err != nil {
				t.Fatalf("Run() = %s, %v; want completed", out, err)
			}
			slices.Sort(opened)
			if !slices.Equal(opened, tt.wantOpened) {
				t.Errorf("stores opened %v, want %v", opened, tt.wantOpened)
			}
			evs, err := cfg.Journal.Events(ctx, s.ID())
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.Kind == engine.EvWarning && strings.Contains(string(ev.Data), "registry") {
					t.Errorf("journaled %s", ev.Data)
				}
			}
			own := map[string]string{"test": "data.db", "prod": "prod.db"}[tt.env]
			for name, path := range files {
				db := openSQL(t, path)
				var tables int
				if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'lockstep_registry'`).Scan(&tables); err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{true: 1, false: 0}[name == own]; tables != want {
					t.Errorf("%s holds %d registry tables after a %s run, want %d: only the run's own store is written", name, tables, tt.env, want)
				}
			}
		})
	}
}

// openSQL opens a SQLite file read-only with the plain driver, closed
// when the test ends.
func openSQL(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
