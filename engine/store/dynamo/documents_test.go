package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// TestUpdateGuardsMapsAndListsByValue: a guard on map and list attributes
// as they were read holds (dynalite compares a whole map or list by
// reference, so one `=` on it never would), and fails once any part of
// them changed.
func TestUpdateGuardsMapsAndListsByValue(t *testing.T) {
	ctx := context.Background()
	doc := engine.Item{storetest.KeyAttr: "doc",
		"meta": map[string]any{"labels": engine.StringSet{"x"}, "n": engine.Number("1"), "none": nil, "empty": map[string]any{},
			"nested": map[string]any{"deep": []any{engine.Number("1"), "s", nil, true, []byte("b")}}},
		"list":  []any{map[string]any{"a": engine.Number("1")}, "b", []any{}},
		"empty": []any{},
	}
	st := newTable(t, dynalite.Shared(t), []engine.Item{doc})
	key := engine.Item{storetest.KeyAttr: "doc"}
	read, ok, err := st.Get(ctx, key)
	if err != nil || !ok {
		t.Fatalf("Get()=%v, %v", ok, err)
	}
	guard := func(over map[string]any) []engine.Attr {
		as := []engine.Attr{{Name: "empty", Value: read["empty"]}, {Name: "list", Value: read["list"]}, {Name: "meta", Value: read["meta"]}}
		for i, a := range as {
			if v, ok := over[a.Name]; ok {
				as[i].Value = v
			}
		}
		return as
	}
	update := func(version int64, unchanged []engine.Attr) error {
		return st.Update(ctx, engine.Update{Key: key, Set: []engine.Attr{{Name: "name", Value: fmt.Sprint("v", version)}}, Version: version,
			Guard: engine.Guard{Below: version, Unchanged: unchanged}})
	}
	if err := update(2, guard(nil)); err != nil {
		t.Fatalf("Update() guarded by the values read = %v, want it applied", err)
	}
	tests := []struct {
		name string
		over map[string]any
	}{
		{"nested number", map[string]any{"meta": map[string]any{"labels": engine.StringSet{"x"}, "n": engine.Number("2"), "none": nil, "empty": map[string]any{},
			"nested": map[string]any{"deep": []any{engine.Number("1"), "s", nil, true, []byte("b")}}}}},
		{"key missing from the guard", map[string]any{"meta": map[string]any{"labels": engine.StringSet{"x"}, "n": engine.Number("1"), "none": nil, "empty": map[string]any{}}}},
		{"list element", map[string]any{"list": []any{map[string]any{"a": engine.Number("1")}, "c", []any{}}}},
		{"list longer", map[string]any{"list": []any{map[string]any{"a": engine.Number("1")}, "b", []any{}, "d"}}},
		{"list for a map", map[string]any{"empty": map[string]any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := update(3, guard(tt.over)); !errors.Is(err, engine.ErrConditionFailed) {
				t.Errorf("Update() with a stale guard = %v, want ErrConditionFailed", err)
			}
		})
	}
	got, _, err := st.Get(ctx, key)
	if err != nil || got["name"] != "v2" {
		t.Errorf("after the stale guards: name = %v (%v), want v2", got["name"], err)
	}
}

// TestUpdateGuardOnLargeMapSaysWhyItFails: a map too large to compare part
// by part is compared with one `=`, which holds on DynamoDB but never on
// dynalite, and the failed condition says so.
func TestUpdateGuardOnLargeMapSaysWhyItFails(t *testing.T) {
	ctx := context.Background()
	big := map[string]any{}
	for i := range 100 {
		big[fmt.Sprint("k", i)] = engine.Number(fmt.Sprint(i))
	}
	st := newTable(t, dynalite.Shared(t), []engine.Item{{storetest.KeyAttr: "big", "big": big}})
	key := engine.Item{storetest.KeyAttr: "big"}
	err := st.Update(ctx, engine.Update{Key: key, Set: []engine.Attr{{Name: "name", Value: "x"}}, Version: 2,
		Guard: engine.Guard{Below: 2, Unchanged: []engine.Attr{{Name: "big", Value: big}}}})
	if !errors.Is(err, engine.ErrConditionFailed) || !strings.Contains(err.Error(), "compares big whole") {
		t.Errorf("Update()=%v, want a failed condition naming the map compared whole", err)
	}
}

// TestUpdateEmptySetNamesAttribute: DynamoDB refuses empty sets with
// "ValidationException … for key :v0"; the store names the attribute.
func TestUpdateEmptySetNamesAttribute(t *testing.T) {
	ctx := context.Background()
	st := newTable(t, dynalite.Shared(t), storetest.Seed(1))
	key := engine.Item{storetest.KeyAttr: "item-000"}
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"string set", engine.StringSet{}, "attribute tags: DynamoDB does not allow an empty string set; remove the attribute instead"},
		{"number set", engine.NumberSet{}, "attribute tags: DynamoDB does not allow an empty number set; remove the attribute instead"},
		{"nested binary set", map[string]any{"b": engine.BinarySet{}}, `attribute tags: attribute "b": DynamoDB does not allow an empty binary set`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := st.Update(ctx, engine.Update{Key: key, Set: []engine.Attr{{Name: "tags", Value: tt.value}}, Version: 5, Guard: engine.Guard{Below: 5}})
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, engine.ErrConditionFailed) {
				t.Errorf("Update()=%v, want %q", err, tt.want)
			}
			if err := st.CheckValue("tags", tt.value); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckValue()=%v, want %q", err, tt.want)
			}
		})
	}
	if err := st.CheckValue("tags", engine.StringSet{"a"}); err != nil {
		t.Errorf("CheckValue(non-empty set)=%v, want nil", err)
	}
}
