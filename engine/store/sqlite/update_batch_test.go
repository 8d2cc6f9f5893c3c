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
