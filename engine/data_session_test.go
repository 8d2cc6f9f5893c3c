package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestMigrateSessionEndToEnd runs every data step kind through the real
// session loop on SQLite and checks each step's journaled result.
func TestMigrateSessionEndToEnd(t *testing.T) {
	t.Parallel()
	steps := `      - {id: size, kind: estimate, with: {where: "item.address != nil", sample: 100, margin: 20%}}
      - {id: snapshot, kind: backup}
      - {id: drill, kind: restore-drill, with: {from: snapshot}}
      - {id: take, kind: lock}
` + rig.SplitSteps + `      - {id: all-done, kind: verify, with: {expect_none: "item.address != nil && item.v < 3", sample: 100, assert: 'item.address == nil || item.street_name != nil', backup: snapshot}}
      - {id: give, kind: unlock}
`
	rb := rig.DataRunbook(t, 3, "    max_write_rate: 100000", steps)
	r := rig.NewSQLite(t, rb, 300) // creates data.db
	dbPath := filepath.Join(r.Dir, "data.db")
	cfg := rig.SQLiteSessionConfig(t, rb, dbPath)
	j := cfg.Journal
	s, err := engine.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	out, err := s.Run(context.Background())
	evs, _ := j.Events(context.Background(), s.ID())
	if err != nil || out != engine.OutcomeCompleted {
		for _, ev := range evs {
			t.Logf("%s %s %s", ev.Step, ev.Kind, ev.Data)
		}
		t.Fatalf("Run() = %q, %v; want completed", out, err)
	}
	results := map[string]map[string]any{}
	for _, ev := range evs {
		var end struct {
			Status string         `json:"status"`
			Result map[string]any `json:"result"`
		}
		if ev.Kind == engine.EvStepEnd && ev.Decode(&end) == nil && end.Status == "done" {
			results[ev.Step] = end.Result
		}
	}
	checks := []struct{ step, field, want string }{
		{"size", "migration_set", "240"},
		{"snapshot", "item_count", "300"},
		{"drill", "match", "true"},
		{"take", "lease.holder", "alice"},
		{"backfill", "migrated", "240"},
		{"all-done", "passed", "true"},
		{"give", "released.0.holder", "alice"},
	}
	for _, c := range checks {
		if got := field(results[c.step], c.field); got != c.want {
			b, _ := json.Marshal(results[c.step])
			t.Errorf("%s result %s = %q, want %q (%s)", c.step, c.field, got, c.want, b)
		}
	}
	if n := len(s.HeldLeases()); n != 0 {
		t.Errorf("%d leases held after the session", n)
	}
}

// field reads a dotted path (numbers index lists) from a decoded result.
func field(m any, path string) string {
	cur := m
	for _, p := range strings.Split(path, ".") {
		switch x := cur.(type) {
		case map[string]any:
			cur = x[p]
		case []any:
			var i int
			if _, err := fmt.Sscan(p, &i); err != nil || i >= len(x) {
				return ""
			}
			cur = x[i]
		default:
			return ""
		}
	}
	if cur == nil {
		return ""
	}
	return fmt.Sprint(cur)
}
