package dynamo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// TestAbsentGuardRefusesAnyWrite: a guard on an attribute absent when
// read (the short attribute_not_exists form) holds while it stays absent
// and fails once anything was written to it, an explicit NULL included;
// a guard on an explicit NULL holds while it stays NULL.
func TestAbsentGuardRefusesAnyWrite(t *testing.T) {
	ctx := context.Background()
	st := newTable(t, dynalite.Shared(t), []engine.Item{
		{storetest.KeyAttr: "value"}, {storetest.KeyAttr: "null"}, {storetest.KeyAttr: "kept"}, {storetest.KeyAttr: "wasnull", "city": nil},
	})
	write := func(id string, guard engine.Attr) error {
		return st.Update(ctx, engine.Update{Key: engine.Item{storetest.KeyAttr: id}, Set: []engine.Attr{{Name: "city", Value: "migrated"}},
			Guard: engine.Guard{Unchanged: []engine.Attr{guard}}})
	}
	app := func(id string, v any) {
		t.Helper()
		if err := st.Update(ctx, engine.Update{Key: engine.Item{storetest.KeyAttr: id}, Set: []engine.Attr{{Name: "city", Value: v}}}); err != nil {
			t.Fatalf("application write: %v", err)
		}
	}
	app("value", "app")
	app("null", nil)
	absent := engine.Attr{Name: "city", Absent: true}
	tests := []struct {
		id    string
		guard engine.Attr
		fails bool
	}{
		{"value", absent, true},
		{"null", absent, true},
		{"kept", absent, false},
		{"wasnull", engine.Attr{Name: "city"}, false},
	}
	for _, tt := range tests {
		err := write(tt.id, tt.guard)
		if got := errors.Is(err, engine.ErrConditionFailed); got != tt.fails || (!tt.fails && err != nil) {
			t.Errorf("item %s: Update()=%v, want condition failed=%t", tt.id, err, tt.fails)
		}
	}
}
