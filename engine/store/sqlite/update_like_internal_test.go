package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestRenderLikeAgrees is a property test of UpdateBatch's fast path:
// for generated sequences of updates (shapes often repeated, values of
// every kind, some that do not bind, keys missing, columns the table
// lacks), whenever renderLike renders an update after the one before it,
// it gives exactly renderMemo's statement and arguments, and renderMemo
// renders it without error.
func TestRenderLikeAgrees(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE items (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c INTEGER, v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, err := Open(&runbook.StoreSpec{Kind: "sqlite", Path: path, Table: "items", Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 9))
	var like int
	for range 300 {
		var prev engine.Update
		var prevR rendered
		shape := genShape(r)
		for i := range 30 {
			if r.IntN(6) == 0 {
				shape = genShape(r)
			}
			u := withValues(r, mutate(r, shape))
			full := st.renderMemo(ctx, u, nil, nil, nil)
			if i > 0 {
				got, ok := st.renderLike(ctx, &prev, &prevR, &u, nil)
				if ok {
					like++
					if full.err != nil || got.q != full.q || !reflect.DeepEqual(got.args, full.args) {
						t.Fatalf("after %+v\nupdate %+v:\nrenderLike %q %#v\nrenderMemo %q %#v (%v)", prev, u, got.q, got.args, full.q, full.args, full.err)
					}
				}
			}
			prev, prevR = u, full
		}
	}
	if like < 1000 {
		t.Errorf("renderLike rendered %d updates: the generator misses shared shapes", like)
	}
}

// genShape returns an update's names and versions, without values.
func genShape(r *rand.Rand) engine.Update {
	names := []string{"a", "b", "c", "zz", "id"}
	var u engine.Update
	for _, n := range names[:3] {
		if r.IntN(2) == 0 {
			u.Set = append(u.Set, engine.Attr{Name: n})
		}
	}
	if r.IntN(8) == 0 { // the key, or a column the table lacks: an error
		u.Set = append(u.Set, engine.Attr{Name: names[3+r.IntN(2)]})
	}
	if r.IntN(3) == 0 {
		u.Remove = []string{names[r.IntN(4)]}
	}
	for _, n := range names[:4] {
		if r.IntN(2) == 0 {
			u.Guard.Unchanged = append(u.Guard.Unchanged, engine.Attr{Name: n, Value: r.IntN(2) == 0})
		}
	}
	u.Guard.VersionAttr = "v"
	switch r.IntN(3) {
	case 0:
		u.Guard.Below, u.Version = 2, 2
	case 1:
		u.Guard.Equals, u.Version = 2, 3
	}
	return u
}

// mutate returns shape, or now and then shape with one difference: a
// guarded value nil or not, another version, another attribute removed
// or set.
func mutate(r *rand.Rand, shape engine.Update) engine.Update {
	u := shape
	switch r.IntN(12) {
	case 0:
		if n := len(u.Guard.Unchanged); n > 0 {
			u.Guard.Unchanged = append([]engine.Attr(nil), u.Guard.Unchanged...)
			i := r.IntN(n)
			u.Guard.Unchanged[i].Value = u.Guard.Unchanged[i].Value != true
		}
	case 1:
		u.Version++
	case 2:
		u.Guard.Below, u.Guard.Equals = u.Guard.Equals, u.Guard.Below
	case 3:
		u.Remove = []string{[]string{"a", "b", "c", "zz"}[r.IntN(4)]}
	case 4:
		if n := len(u.Set); n > 0 {
			u.Set = append([]engine.Attr(nil), u.Set...)
			u.Set[r.IntN(n)].Name = []string{"a", "b", "c"}[r.IntN(3)]
		}
	}
	return u
}

// withValues fills shape's values: a guarded attribute shape marks true
// holds a value, the others nil; the key is sometimes missing.
func withValues(r *rand.Rand, shape engine.Update) engine.Update {
	u := shape
	u.Key = engine.Item{"id": engine.Number(fmt.Sprint(r.IntN(1000)))}
	if r.IntN(40) == 0 {
		u.Key = engine.Item{"other": "x"}
	}
	u.Set = make([]engine.Attr, len(shape.Set))
	for i, a := range shape.Set {
		u.Set[i] = engine.Attr{Name: a.Name, Value: genBindValue(r)}
	}
	u.Guard.Unchanged = make([]engine.Attr, len(shape.Guard.Unchanged))
	for i, a := range shape.Guard.Unchanged {
		u.Guard.Unchanged[i] = engine.Attr{Name: a.Name}
		if a.Value == true {
			u.Guard.Unchanged[i].Value = genBindValue(r)
			for u.Guard.Unchanged[i].Value == nil {
				u.Guard.Unchanged[i].Value = genBindValue(r)
			}
		}
	}
	return u
}

// genBindValue is a value of any kind, some SQLite cannot hold.
func genBindValue(r *rand.Rand) any {
	switch r.IntN(10) {
	case 0:
		return nil
	case 1:
		return engine.Number("1.5")
	case 2:
		return engine.Number("12345678901234567890.123456789") // does not bind
	case 3:
		return true
	case 4:
		return []byte("xy")
	case 5:
		return engine.StringSet{"a", "b"}
	case 6:
		return engine.Number(fmt.Sprint(r.IntN(100000)))
	}
	return fmt.Sprintf("%d Main St", r.IntN(100))
}
