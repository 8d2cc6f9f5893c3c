package storetest

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

func (s *suite) testUpdate(t *testing.T) {
	seed := []engine.Item{
		{KeyAttr: "fresh", "name": "a", "n": engine.Number("1"), "note": "keep"},
		{KeyAttr: "v1", "v": engine.Number("1"), "name": "b", "note": "keep"},
		{KeyAttr: "v3", "v": engine.Number("3"), "name": "c"},
		{KeyAttr: "v2", "v": engine.Number("2"), "name": "d", "city": "Paris"},
		{KeyAttr: "race", "v": engine.Number("1"), "name": "e"},
		{KeyAttr: "other", "v": engine.Number("1"), "name": "f", "note": "old"},
		{KeyAttr: "absent", "name": "g"},
	}
	st := s.new(t, seed)
	forward := func(id string, set map[string]any, unchanged map[string]any) engine.Update {
		return engine.Update{
			Key: key(id), Set: engine.Attrs(set), Version: 2,
			Guard: engine.Guard{VersionAttr: "v", Below: 2, Unchanged: engine.Attrs(unchanged)},
		}
	}
	apply := func(t *testing.T, u engine.Update) {
		t.Helper()
		if err := st.Update(ctx(t), u); err != nil {
			t.Fatalf("Update(%v)=%v, want nil", u.Key, err)
		}
	}
	refuse := func(t *testing.T, u engine.Update) {
		t.Helper()
		before, existed, _ := st.Get(ctx(t), u.Key)
		err := st.Update(ctx(t), u)
		if !errors.Is(err, engine.ErrConditionFailed) {
			t.Fatalf("Update(%v)=%v, want ErrConditionFailed", u.Key, err)
		}
		after, exists, _ := st.Get(ctx(t), u.Key)
		if exists != existed {
			t.Fatalf("refused Update(%v) changed existence: %v → %v", u.Key, existed, exists)
		}
		if d := Diff(after, before); existed && d != "" {
			t.Errorf("refused Update(%v) changed the item:%s", u.Key, d)
		}
	}
	expect := func(t *testing.T, id string, want engine.Item) {
		t.Helper()
		if d := Diff(mustGet(t, st, id), want); d != "" {
			t.Errorf("item %s:%s", id, d)
		}
	}

	t.Run("applies to an item without version", func(t *testing.T) {
		apply(t, forward("fresh", map[string]any{"name": "A", "city": "Lyon"}, map[string]any{"name": "a"}))
		expect(t, "fresh", engine.Item{KeyAttr: "fresh", "v": engine.Number("2"), "name": "A", "city": "Lyon", "n": engine.Number("1"), "note": "keep"})
	})
	t.Run("applies below target", func(t *testing.T) {
		apply(t, forward("v1", map[string]any{"name": "B"}, map[string]any{"name": "b"}))
		expect(t, "v1", engine.Item{KeyAttr: "v1", "v": engine.Number("2"), "name": "B", "note": "keep"})
	})
	t.Run("refused at target", func(t *testing.T) {
		refuse(t, forward("v1", map[string]any{"name": "BB"}, map[string]any{"name": "B"}))
		refuse(t, forward("v2", map[string]any{"name": "x"}, nil))
	})
	t.Run("refused above target", func(t *testing.T) {
		refuse(t, forward("v3", map[string]any{"name": "x"}, map[string]any{"name": "c"}))
	})
	t.Run("refused when a read attribute changed", func(t *testing.T) {
		read := mustGet(t, st, "race")
		// The application writes concurrently, between read and write.
		apply(t, engine.Update{Key: key("race"), Set: engine.Attrs(map[string]any{"name": "app"})})
		refuse(t, forward("race", map[string]any{"name": "migrated"}, map[string]any{"name": read["name"]}))
		expect(t, "race", engine.Item{KeyAttr: "race", "v": engine.Number("1"), "name": "app"})
	})
	t.Run("absent attribute guard", func(t *testing.T) {
		// note is absent: a guard on it being absent holds …
		apply(t, engine.Update{Key: key("absent"), Set: engine.Attrs(map[string]any{"city": "Nice"}),
			Guard: engine.Guard{Unchanged: engine.Attrs(map[string]any{"note": nil})}})
		apply(t, engine.Update{Key: key("absent"), Set: engine.Attrs(map[string]any{"note": "now"})})
		// … and fails once it is set.
		refuse(t, engine.Update{Key: key("absent"), Set: engine.Attrs(map[string]any{"city": "Nantes"}),
			Guard: engine.Guard{Unchanged: engine.Attrs(map[string]any{"note": nil})}})
		expect(t, "absent", engine.Item{KeyAttr: "absent", "name": "g", "city": "Nice", "note": "now"})
	})
	t.Run("only changed attributes are touched", func(t *testing.T) {
		read := mustGet(t, st, "other")
		// The application changes an attribute the transform did not read.
		apply(t, engine.Update{Key: key("other"), Set: engine.Attrs(map[string]any{"note": "app wrote"})})
		apply(t, forward("other", map[string]any{"city": "Rome"}, map[string]any{"name": read["name"]}))
		expect(t, "other", engine.Item{KeyAttr: "other", "v": engine.Number("2"), "name": "f", "note": "app wrote", "city": "Rome"})
	})
	t.Run("refused on a missing item", func(t *testing.T) {
		refuse(t, forward("ghost", map[string]any{"name": "x"}, nil))
		refuse(t, engine.Update{Key: key("ghost"), Set: engine.Attrs(map[string]any{"name": "x"})})
		if _, ok, _ := st.Get(ctx(t), key("ghost")); ok {
			t.Error("Update created a missing item")
		}
	})
	t.Run("rollback with Equals", func(t *testing.T) {
		back := engine.Update{Key: key("v2"), Remove: []string{"city"}, Version: 1,
			Guard: engine.Guard{VersionAttr: "v", Equals: 2}}
		apply(t, back)
		expect(t, "v2", engine.Item{KeyAttr: "v2", "v": engine.Number("1"), "name": "d"})
		refuse(t, back)
		// Rolling back to version 0 removes the version attribute.
		apply(t, engine.Update{Key: key("v2"), Guard: engine.Guard{VersionAttr: "v", Equals: 1}})
		expect(t, "v2", engine.Item{KeyAttr: "v2", "name": "d"})
	})
	t.Run("remove", func(t *testing.T) {
		apply(t, engine.Update{Key: key("fresh"), Remove: []string{"note", "never-there"}, Version: 3,
			Guard: engine.Guard{VersionAttr: "v", Below: 3}})
		expect(t, "fresh", engine.Item{KeyAttr: "fresh", "v": engine.Number("3"), "name": "A", "city": "Lyon", "n": engine.Number("1")})
	})
	t.Run("set to null and numbers", func(t *testing.T) {
		apply(t, engine.Update{Key: key("v3"), Set: engine.Attrs(map[string]any{"city": nil, "n": engine.Number("-12.5")}),
			Guard: engine.Guard{Unchanged: engine.Attrs(map[string]any{"n": nil})}})
		got := mustGet(t, st, "v3")
		if !engine.EqualValues(got["n"], engine.Number("-12.5")) || got["city"] != nil {
			t.Errorf("item v3=%v, want n=-12.5, city nil", got)
		}
		// A guard on a number holds whatever its decimal spelling.
		apply(t, engine.Update{Key: key("v3"), Set: engine.Attrs(map[string]any{"name": "C"}),
			Guard: engine.Guard{Unchanged: engine.Attrs(map[string]any{"n": engine.Number("-12.50")})}})
	})
	t.Run("a key holding other attributes", func(t *testing.T) {
		// Migrate passes the scanned item as the key: only the key
		// attributes select the item; the others are not conditions.
		read := mustGet(t, st, "other")
		read["name"], read["note"] = "stale", nil
		apply(t, engine.Update{Key: read, Set: engine.Attrs(map[string]any{"city": "Milan"})})
		expect(t, "other", engine.Item{KeyAttr: "other", "v": engine.Number("2"), "name": "f", "note": "app wrote", "city": "Milan"})
		read[KeyAttr] = "ghost"
		refuse(t, engine.Update{Key: read, Set: engine.Attrs(map[string]any{"city": "x"})})
	})
	t.Run("guards every value type as read", s.testGuardValues)
}

func (s *suite) testUpdateBatch(t *testing.T) {
	seed := Seed(6) // item-000 has no version; 001 v2, 002 v1, 003 none, 004 v1, 005 v2
	st := s.new(t, seed)
	bu, ok := st.(engine.BatchUpdater)
	if !ok {
		t.Skip("store is not an engine.BatchUpdater")
	}
	var us []engine.Update
	for _, it := range seed {
		us = append(us, engine.Update{Key: key(it[KeyAttr].(string)), Set: engine.Attrs(map[string]any{"city": "batch"}), Version: 2,
			Guard: engine.Guard{VersionAttr: "v", Below: 2, Unchanged: engine.Attrs(map[string]any{"name": it["name"]})}})
	}
	us = append(us, engine.Update{Key: key("ghost"), Set: engine.Attrs(map[string]any{"city": "x"}), Version: 2,
		Guard: engine.Guard{VersionAttr: "v", Below: 2}})
	errs := bu.UpdateBatch(ctx(t), us)
	if len(errs) != len(us) {
		t.Fatalf("UpdateBatch returned %d errors for %d updates", len(errs), len(us))
	}
	for i, u := range us {
		id := u.Key[KeyAttr].(string)
		wantFail := id == "ghost" || id == "item-001" || id == "item-005"
		if wantFail != errors.Is(errs[i], engine.ErrConditionFailed) || (!wantFail && errs[i] != nil) {
			t.Errorf("UpdateBatch[%s]=%v, want failed=%v", id, errs[i], wantFail)
		}
		if id == "ghost" {
			continue
		}
		got := mustGet(t, st, id)
		if (got["city"] == "batch") == wantFail {
			t.Errorf("item %s city=%v after batch, want applied=%v", id, got["city"], !wantFail)
		}
	}
}

// testGuardValues checks that a guard holds on every value type as the
// store reads it back (migrate guards each attribute it reads or writes
// with its value at the read), whether one attribute is guarded or all at
// once, and fails once the attribute changed.
func (s *suite) testGuardValues(t *testing.T) {
	seed := RoundTripItems(s.scalarsOnly)[:7]
	if !s.scalarsOnly {
		seed = RoundTripItems(false)[:12]
		seed = append(seed,
			engine.Item{KeyAttr: "nset", "doc": engine.NumberSet{"3", "1", "2.5"}},
			engine.Item{KeyAttr: "sset", "doc": engine.StringSet{"b", "a", "c"}},
			engine.Item{KeyAttr: "bset", "doc": engine.BinarySet{{2}, {1}}},
		)
	}
	st := s.new(t, seed)
	for _, it := range seed {
		id := it[KeyAttr].(string)
		read := mustGet(t, st, id)
		all := map[string]any{}
		for _, a := range slices.Sorted(maps.Keys(read)) {
			if a == KeyAttr {
				continue
			}
			all[a] = read[a]
			one := engine.Update{Key: key(id), Set: engine.Attrs(map[string]any{"city": "guard " + a}),
				Guard: engine.Guard{Unchanged: []engine.Attr{{Name: a, Value: read[a]}}}}
			if err := st.Update(ctx(t), one); err != nil {
				t.Errorf("item %s: guard on %s = %#v as read: Update()=%v, want nil", id, a, read[a], err)
			}
		}
		read = mustGet(t, st, id) // city changed
		all["city"] = read["city"]
		guardAll := engine.Update{Key: key(id), Set: engine.Attrs(map[string]any{"note": "guarded"}),
			Guard: engine.Guard{Unchanged: engine.Attrs(all)}}
		if err := st.Update(ctx(t), guardAll); err != nil {
			t.Errorf("item %s: guard on every attribute as read: Update()=%v, want nil", id, err)
		}
		for _, a := range engine.Attrs(all) {
			if a.Name == "note" || a.Name == "city" || a.Name == "v" {
				continue
			}
			if err := st.Update(ctx(t), engine.Update{Key: key(id), Set: engine.Attrs(map[string]any{a.Name: changedValue(a.Value)})}); err != nil {
				t.Fatalf("item %s: set %s: %v", id, a.Name, err)
			}
			stale := engine.Update{Key: key(id), Set: engine.Attrs(map[string]any{"city": "stale"}),
				Guard: engine.Guard{Unchanged: []engine.Attr{a}}}
			if err := st.Update(ctx(t), stale); !errors.Is(err, engine.ErrConditionFailed) {
				t.Errorf("item %s: guard on %s = %#v after it changed: Update()=%v, want ErrConditionFailed", id, a.Name, a.Value, err)
			}
		}
	}
}

// changedValue is another value of v's type (a typed SQL column holds no
// other): a number for a number or an absent value (every column type
// of the suite casts a number), bytes for bytes, else a string.
func changedValue(v any) any {
	switch v.(type) {
	case engine.Number, nil:
		return engine.Number("424242")
	case []byte:
		return []byte("changed")
	}
	return "changed"
}
