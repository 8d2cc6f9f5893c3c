package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestUpdateBatch drives one transaction of guarded updates with applied,
// refused and missing rows, duplicate keys, a text key in an integer
// column, and a cancelled context (nothing applied).
func TestUpdateBatch(t *testing.T) {
	var seed []engine.Item
	for i := range 50 {
		it := engine.Item{"id": engine.Number(fmt.Sprint(i)), "address": fmt.Sprintf("%d Main St", i)}
		if i%10 == 0 {
			it["v"] = engine.Number("5") // already past the target
		}
		seed = append(seed, it)
	}
	st := newTable(t, "CREATE TABLE items (id INTEGER PRIMARY KEY, address TEXT, city TEXT, v INTEGER)", seed)
	ctx := context.Background()
	up := func(id any, addr string) engine.Update {
		return engine.Update{Key: engine.Item{"id": id}, Set: engine.Attrs(map[string]any{"city": "Paris"}), Version: 2,
			Guard: engine.Guard{VersionAttr: "v", Below: 2, Unchanged: engine.Attrs(map[string]any{"address": addr})}}
	}
	var us []engine.Update
	for i := range 50 {
		addr := fmt.Sprintf("%d Main St", i)
		if i%7 == 0 {
			addr = "stale read"
		}
		us = append(us, up(engine.Number(fmt.Sprint(i)), addr))
	}
	us = append(us, up(engine.Number("999"), "x")) // missing
	errs := st.UpdateBatch(ctx, us)
	for i, u := range us {
		id := u.Key["id"].(engine.Number)
		var n int
		fmt.Sscan(string(id), &n)
		switch {
		case n == 999:
			if !errors.Is(errs[i], engine.ErrConditionFailed) || !strings.Contains(errs[i].Error(), "no such item") {
				t.Errorf("missing item: %v, want ErrConditionFailed (no such item)", errs[i])
			}
		case n%10 == 0 || n%7 == 0:
			if !errors.Is(errs[i], engine.ErrConditionFailed) || !strings.Contains(errs[i].Error(), "guard") {
				t.Errorf("item %d: %v, want ErrConditionFailed (guard)", n, errs[i])
			}
		default:
			if errs[i] != nil {
				t.Errorf("item %d: %v, want applied", n, errs[i])
			}
		}
		if n == 999 {
			continue
		}
		got, _, _ := st.Get(ctx, u.Key)
		applied := got["city"] == "Paris"
		if applied != (errs[i] == nil) {
			t.Errorf("item %d: applied=%v but error %v", n, applied, errs[i])
		}
	}
	// A duplicate key and a key bound as text.
	errs = st.UpdateBatch(ctx, []engine.Update{
		{Key: engine.Item{"id": engine.Number("1")}, Set: engine.Attrs(map[string]any{"city": "Lyon"})},
		{Key: engine.Item{"id": engine.Number("1")}, Set: engine.Attrs(map[string]any{"city": "Nice"})},
		{Key: engine.Item{"id": "2"}, Set: engine.Attrs(map[string]any{"city": "Rome"})},
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("fallback update %d: %v", i, err)
		}
	}
	if got, _, _ := st.Get(ctx, engine.Item{"id": engine.Number("1")}); got["city"] != "Nice" {
		t.Errorf("duplicate keys: city=%v, want the last write (Nice)", got["city"])
	}
	if got, _, _ := st.Get(ctx, engine.Item{"id": engine.Number("2")}); got["city"] != "Rome" {
		t.Errorf("text key: city=%v, want Rome", got["city"])
	}
	// Cancelled before it starts: every update fails and none applies.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	errs = st.UpdateBatch(cctx, []engine.Update{
		{Key: engine.Item{"id": engine.Number("3")}, Set: engine.Attrs(map[string]any{"city": "Oslo"})},
		{Key: engine.Item{"id": engine.Number("4")}, Set: engine.Attrs(map[string]any{"city": "Oslo"})},
	})
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled update %d: %v, want context.Canceled", i, err)
		}
	}
	for _, id := range []string{"3", "4"} {
		if got, _, _ := st.Get(ctx, engine.Item{"id": engine.Number(id)}); got["city"] == "Oslo" {
			t.Errorf("item %s was updated by a cancelled batch", id)
		}
	}
}

// TestUpdateBatchMixedShapes: one batch whose rows alternate between
// shapes that differ only in what the SQL text now holds (the version
// written and checked, a guard on NULL against one on a value) gets
// each row's own statement: a shape reused from the row before would
// write the wrong version or check the wrong guard.
func TestUpdateBatchMixedShapes(t *testing.T) {
	var seed []engine.Item
	for i := range 12 {
		it := engine.Item{"id": engine.Number(fmt.Sprint(i))}
		if i%3 == 1 {
			it["city"] = "Oslo"
		}
		seed = append(seed, it)
	}
	st := newTable(t, "CREATE TABLE items (id INTEGER PRIMARY KEY, address TEXT, city TEXT, v INTEGER)", seed)
	ctx := context.Background()
	var us []engine.Update
	for i := range 12 {
		// Rows 0-5 go to version 2, 6-11 to 3, below 3 for all: the
		// shapes differ only in the version written.
		version := int64(2 + i/6)
		// The guard reads city as NULL: true for rows 0, 2 (mod 3),
		// stale for rows 1 (mod 3) except the odd ones, guarded on
		// Oslo, each right after a row of its version guarded on NULL.
		var city any
		if i%3 == 1 && i%2 == 1 {
			city = "Oslo"
		}
		us = append(us, engine.Update{Key: engine.Item{"id": engine.Number(fmt.Sprint(i))},
			Set: engine.Attrs(map[string]any{"address": fmt.Sprintf("%d Main St", i)}), Version: version,
			Guard: engine.Guard{VersionAttr: "v", Below: 3, Unchanged: []engine.Attr{{Name: "city", Value: city, Absent: city == nil}}}})
	}
	errs := st.UpdateBatch(ctx, us)
	for i, u := range us {
		wantApplied := i%3 != 1 || i%2 == 1
		if got := errs[i] == nil; got != wantApplied {
			t.Errorf("row %d: error %v, want applied=%v", i, errs[i], wantApplied)
		}
		got, _, err := st.Get(ctx, u.Key)
		if err != nil {
			t.Fatalf("Get(%d)=%v", i, err)
		}
		wantV := any(nil)
		if wantApplied {
			wantV = engine.Number(fmt.Sprint(u.Version))
		}
		if got["v"] != wantV {
			t.Errorf("row %d: v=%v, want %v", i, got["v"], wantV)
		}
	}
	// The version guard, now in the SQL text, still refuses a row at or
	// above it.
	us[0].Version, us[0].Guard.Below = 2, 2
	us[0].Guard.Unchanged = nil
	if errs := st.UpdateBatch(ctx, us[:1]); !errors.Is(errs[0], engine.ErrConditionFailed) {
		t.Errorf("row 0 at version 2 below 2: %v, want ErrConditionFailed", errs[0])
	}
}
