package postgres_test

import (
	"errors"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestGuardComparesTextByBytes: the per-row path's guard that a text
// attribute still holds the value the transform read compares it byte
// by byte, whatever the column's collation or type. Under a
// case-insensitive collation, or in a citext column (which folds case
// whatever the collation named), a row whose "abc" another writer made
// "ABC" since it was read would pass a guard comparing as the column
// does, and the write computed from "abc" would overwrite it. Row 1 was
// changed since it was read, row 2 was not; both paths, per row and
// set-based, must refuse the first and write the second.
func TestGuardComparesTextByBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ddl string
		seed      func(id, a string) engine.Item
		unchanged func(read string) []engine.Attr
	}{
		{
			name: "collations",
			ddl: "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);" +
				`CREATE TABLE items (id bigint PRIMARY KEY, a text COLLATE ci, e varchar(20) COLLATE "en-US-x-icu", c text COLLATE "C", v int)`,
			seed: func(id, a string) engine.Item {
				return engine.Item{"id": engine.Number(id), "a": a, "e": "x", "c": "y"}
			},
			unchanged: func(read string) []engine.Attr {
				return []engine.Attr{{Name: "a", Value: read}, {Name: "e", Value: "x"}}
			},
		},
		{
			name: "citext",
			ddl:  "CREATE EXTENSION IF NOT EXISTS citext;" + `CREATE TABLE items (id bigint PRIMARY KEY, a citext, c text, v int)`,
			seed: func(id, a string) engine.Item {
				return engine.Item{"id": engine.Number(id), "a": a, "c": "y"}
			},
			unchanged: func(read string) []engine.Attr { return []engine.Attr{{Name: "a", Value: read}} },
		},
	} {
		update := func(id string) engine.Update {
			return engine.Update{Key: engine.Item{"id": engine.Number(id)}, Set: []engine.Attr{{Name: "c", Value: "z"}},
				Version: 2, Guard: engine.Guard{VersionAttr: "v", Below: 2, Unchanged: tc.unchanged("abc")}}
		}
		for _, setBased := range []bool{false, true} {
			st := newTable(t, tc.ddl, []engine.Item{tc.seed("1", "ABC"), tc.seed("2", "abc")})
			us := []engine.Update{update("1"), update("2")}
			var errs []error
			if setBased {
				var ok bool
				if errs, ok = st.UpdateSetsForTest(t.Context(), us); !ok {
					t.Fatalf("%s: UpdateSetsForTest() took the per-row path, want set-based", tc.name)
				}
			} else {
				for _, u := range us {
					errs = append(errs, st.Update(t.Context(), u))
				}
			}
			if !errors.Is(errs[0], engine.ErrConditionFailed) {
				t.Errorf("%s, set-based %v: update of a row whose a is now %q, read %q: %v, want %v", tc.name, setBased, "ABC", "abc", errs[0], engine.ErrConditionFailed)
			}
			if errs[1] != nil {
				t.Errorf("%s, set-based %v: update of an unchanged row: %v, want nil", tc.name, setBased, errs[1])
			}
		}
	}
}
