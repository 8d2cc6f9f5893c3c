package sqlite_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestRolledBackWrites checks the estimate's probe mode on both write
// paths: the statements run and report their outcome — written, or
// refused by the guard — yet the table keeps every row as it was.
func TestRolledBackWrites(t *testing.T) {
	guard := engine.Guard{VersionAttr: "v", Below: 2}
	up := func(id, name string) engine.Update {
		return engine.Update{Key: engine.Item{"id": id}, Set: []engine.Attr{{Name: "name", Value: name}}, Version: 2, Guard: guard}
	}
	tests := []struct {
		name  string
		write func(ctx context.Context, st engine.Store) []error
	}{
		{"Update", func(ctx context.Context, st engine.Store) []error {
			return []error{st.Update(ctx, up("a", "ANN")), st.Update(ctx, up("b", "BOB"))}
		}},
		{"UpdateBatch", func(ctx context.Context, st engine.Store) []error {
			return st.(engine.BatchUpdater).UpdateBatch(ctx, []engine.Update{up("a", "ANN"), up("b", "BOB")})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newTable(t, "CREATE TABLE items (id TEXT PRIMARY KEY, name TEXT, v INTEGER)", []engine.Item{
				{"id": "a", "name": "Ann", "v": int64(1)}, {"id": "b", "name": "Bob", "v": int64(2)}})
			before := rows(t, st)
			errs := tt.write(engine.WithRolledBackWrites(context.Background()), st)
			if errs[0] != nil || !errors.Is(errs[1], engine.ErrConditionFailed) {
				t.Errorf("writes = %v, want nil then a failed condition", errs)
			}
			if after := rows(t, st); !reflect.DeepEqual(after, before) {
				t.Errorf("rows after the probe = %v, want %v", after, before)
			}
			tt.write(context.Background(), st)
			if got := rows(t, st)["a"]["name"]; got != "ANN" {
				t.Errorf("name of a after a real write = %v, want ANN", got)
			}
		})
	}
}

func rows(t *testing.T, st engine.Store) map[string]engine.Item {
	t.Helper()
	p, err := st.Scan(context.Background(), engine.ScanRequest{TotalSegments: 1, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]engine.Item{}
	for _, it := range p.Items {
		out[it["id"].(string)] = it
	}
	return out
}
