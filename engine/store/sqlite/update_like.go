package sqlite

import (
	"context"

	"github.com/lockstep-run/lockstep/engine"
)

// renderLike renders u, the update after prev in a batch, when prev was
// rendered as r without error and u has prev's shape (sameShape): u's
// statement is then r's, so only u's values are bound, in renderUpdate's
// order, without re-checking its names against the schema or building its
// shape. Migrate's updates of one page nearly all share a shape. ok is
// false when u needs renderMemo: another shape, another schema since
// prev, a key attribute missing or a value that does not bind (its error
// comes from there).
func (s *Store) renderLike(ctx context.Context, prev *engine.Update, r *rendered, u *engine.Update, args []any) (rendered, bool) {
	if r.err != nil || r.sc == nil || !sameShape(prev, u) {
		return rendered{}, false
	}
	sc, err := s.currentSchema(ctx)
	if err != nil || sc != r.sc {
		return rendered{}, false
	}
	start := len(args)
	fail := func() (rendered, bool) {
		clear(args[start:]) // keep none of u's values in the batch's array
		return rendered{}, false
	}
	for _, a := range u.Set {
		b, err := bindValue(a.Value)
		if err != nil {
			return fail()
		}
		args = append(args, b)
	}
	for _, k := range sc.key {
		v, ok := u.Key[k]
		if !ok {
			return fail()
		}
		b, err := bindValue(v)
		if err != nil {
			return fail()
		}
		args = append(args, b)
	}
	for _, a := range u.Guard.Unchanged {
		if a.Value == nil || !sc.has(a.Name) {
			continue // IS NULL, or an absent column: no argument
		}
		b, err := bindValue(a.Value)
		if err != nil {
			return fail()
		}
		args = append(args, b)
	}
	return rendered{sc: sc, key: u.Key, q: r.q, args: args}, true
}

// sameShape reports whether u renders to prev's statement: the same
// version fields, the same attribute names set and removed, and guarded,
// in the same order, each guarded value nil exactly where prev's is (the
// names decide every check renderUpdate makes against the schema).
func sameShape(prev, u *engine.Update) bool {
	if u.Version != prev.Version || u.Guard.Below != prev.Guard.Below || u.Guard.Equals != prev.Guard.Equals ||
		u.Guard.VersionAttr != prev.Guard.VersionAttr || len(u.Set) != len(prev.Set) ||
		len(u.Remove) != len(prev.Remove) || len(u.Guard.Unchanged) != len(prev.Guard.Unchanged) {
		return false
	}
	for i := range u.Set {
		if u.Set[i].Name != prev.Set[i].Name {
			return false
		}
	}
	for i := range u.Remove {
		if u.Remove[i] != prev.Remove[i] {
			return false
		}
	}
	for i, a := range u.Guard.Unchanged {
		p := prev.Guard.Unchanged[i]
		if a.Name != p.Name || (a.Value == nil) != (p.Value == nil) {
			return false
		}
	}
	return true
}
