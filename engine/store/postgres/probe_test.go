package postgres_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestRolledBackWrites checks the estimate's probe mode: UpdateBatch runs
// every statement and reports each one's outcome — written, or refused by
// its guard — yet the table keeps every row as it was.
func TestRolledBackWrites(t *testing.T) {
	t.Parallel()
	st := newTable(t, "CREATE TABLE items (id text PRIMARY KEY, name text, v bigint)", []engine.Item{
		{"id": "a", "name": "Ann", "v": int64(1)}, {"id": "b", "name": "Bob", "v": int64(2)}})
	before := all(t, st)
	guard := engine.Guard{VersionAttr: "v", Below: 2}
	errs := st.UpdateBatch(engine.WithRolledBackWrites(t.Context()), []engine.Update{
		{Key: engine.Item{"id": "a"}, Set: []engine.Attr{{Name: "name", Value: "ANN"}}, Version: 2, Guard: guard},
		{Key: engine.Item{"id": "b"}, Set: []engine.Attr{{Name: "name", Value: "BOB"}}, Version: 2, Guard: guard},
	})
	if errs[0] != nil || !errors.Is(errs[1], engine.ErrConditionFailed) {
		t.Errorf("UpdateBatch() = %v, want nil then a failed condition", errs)
	}
	if after := all(t, st); !reflect.DeepEqual(after, before) {
		t.Errorf("rows after the probe = %v, want %v", after, before)
	}
	// The same store still commits without the probe's context.
	if err := st.Update(t.Context(), engine.Update{Key: engine.Item{"id": "a"}, Set: []engine.Attr{{Name: "name", Value: "ANN"}}, Version: 2, Guard: guard}); err != nil {
		t.Fatal(err)
	}
	if got := all(t, st)["a"]["name"]; got != "ANN" {
		t.Errorf("name of a after a real update = %v, want ANN", got)
	}
}

func all(t *testing.T, st engine.Store) map[string]engine.Item {
	t.Helper()
	p, err := st.Scan(t.Context(), engine.ScanRequest{TotalSegments: 1, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]engine.Item{}
	for _, it := range p.Items {
		out[it["id"].(string)] = it
	}
	return out
}
