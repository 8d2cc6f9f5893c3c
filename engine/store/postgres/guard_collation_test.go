package postgres_test

import (
	"errors"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestGuardComparesTextByBytes: the per-row path's guard that a text
// attribute still holds the value the transform read compares it byte
// by byte, whatever the column's collation. Under a case-insensitive
// collation, a row whose "abc" another writer made "ABC" since it was
// read would pass a guard comparing in the column's collation, and the
// write computed from "abc" would overwrite it.
func TestGuardComparesTextByBytes(t *testing.T) {
	t.Parallel()
	ddl := "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);" +
		`CREATE TABLE items (id bigint PRIMARY KEY, a text COLLATE ci, e varchar(20) COLLATE "en-US-x-icu", c text COLLATE "C", v int)`
	seed := []engine.Item{{"id": engine.Number("1"), "a": "ABC", "e": "x", "c": "y"}, {"id": engine.Number("2"), "a": "abc", "e": "x", "c": "y"}}
	update := func(id, read string) engine.Update {
		return engine.Update{Key: engine.Item{"id": engine.Number(id)}, Set: []engine.Attr{{Name: "c", Value: "z"}},
			Version: 2, Guard: engine.Guard{VersionAttr: "v", Below: 2, Unchanged: []engine.Attr{{Name: "a", Value: read}, {Name: "e", Value: "x"}}}}
	}
	for _, setBased := range []bool{false, true} {
		st := newTable(t, ddl, seed)
		us := []engine.Update{update("1", "abc"), update("2", "abc")} // row 1 changed since read; row 2 not
		var errs []error
		if setBased {
			var ok bool
			if errs, ok = st.UpdateSetsForTest(t.Context(), us); !ok {
				t.Fatal("UpdateSetsForTest() took the per-row path, want set-based")
			}
		} else {
			for _, u := range us {
				errs = append(errs, st.Update(t.Context(), u))
			}
		}
		if !errors.Is(errs[0], engine.ErrConditionFailed) {
			t.Errorf("set-based %v: update of a row whose a is now %q, read %q: %v, want %v", setBased, "ABC", "abc", errs[0], engine.ErrConditionFailed)
		}
		if errs[1] != nil {
			t.Errorf("set-based %v: update of an unchanged row: %v, want nil", setBased, errs[1])
		}
	}
}

// TestGuardComparesCitextByBytes: citext compares case-insensitively
// whatever the collation named, so the guard compares its text: a row
// whose "abc" another writer made "ABC" fails it, on the per-row path
// and the set-based one.
func TestGuardComparesCitextByBytes(t *testing.T) {
	t.Parallel()
	ddl := "CREATE EXTENSION IF NOT EXISTS citext;" +
		`CREATE TABLE items (id bigint PRIMARY KEY, a citext, c text, v int)`
	seed := []engine.Item{{"id": engine.Number("1"), "a": "ABC", "c": "y"}, {"id": engine.Number("2"), "a": "abc", "c": "y"}}
	update := func(id string) engine.Update {
		return engine.Update{Key: engine.Item{"id": engine.Number(id)}, Set: []engine.Attr{{Name: "c", Value: "z"}},
			Version: 2, Guard: engine.Guard{VersionAttr: "v", Below: 2, Unchanged: []engine.Attr{{Name: "a", Value: "abc"}}}}
	}
	for _, setBased := range []bool{false, true} {
		st := newTable(t, ddl, seed)
		us := []engine.Update{update("1"), update("2")} // row 1 changed since read; row 2 not
		var errs []error
		if setBased {
			var ok bool
			if errs, ok = st.UpdateSetsForTest(t.Context(), us); !ok {
				t.Fatal("UpdateSetsForTest() took the per-row path, want set-based")
			}
		} else {
			for _, u := range us {
				errs = append(errs, st.Update(t.Context(), u))
			}
		}
		if !errors.Is(errs[0], engine.ErrConditionFailed) {
			t.Errorf("set-based %v: update of a row whose citext a is now %q, read %q: %v, want %v", setBased, "ABC", "abc", errs[0], engine.ErrConditionFailed)
		}
		if errs[1] != nil {
			t.Errorf("set-based %v: update of an unchanged row: %v, want nil", setBased, errs[1])
		}
	}
}
