// Package storetest is the conformance suite every engine.Store passes:
// segmented, resumable scans; guarded conditional updates; Get; Describe;
// Put (export/import round trips); and, when the store has them, scratch
// tables and migration leases. Store packages call Run from their tests
// against a real backend.
//
// It may import the standard library and engine only.
package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// KeyAttr is the key (partition key only) of the suite's tables; its
// values are strings.
const KeyAttr = "id"

// Column is an attribute the suite's items may have, with the SQL type a
// SQL store should give its column.
type Column struct {
	Name    string
	SQLType string
}

// Columns are every attribute the suite writes, key first, so a SQL
// backend can create its table: CREATE TABLE t (id TEXT PRIMARY KEY, …).
var Columns = []Column{
	{KeyAttr, "TEXT PRIMARY KEY"},
	{"v", "INTEGER"},
	{"name", "TEXT"},
	{"n", "NUMERIC"},
	{"data", "BLOB"},
	{"note", "TEXT"},
	{"city", "TEXT"},
	{"flag", "INTEGER"},
	{"doc", "TEXT"}, // rich values (maps, lists, sets) where supported
}

// NewStore creates a store on a fresh table holding seed.
type NewStore func(t *testing.T, seed []engine.Item) engine.Store

// Option adjusts the suite to a backend.
type Option func(*config)

type config struct {
	scalarsOnly bool
	reopen      func(t *testing.T, s engine.Store) engine.Store
}

// ScalarsOnly limits value round trips to strings, numbers, binary and
// null (SQL stores: no maps, lists, sets or bools).
func ScalarsOnly() Option { return func(c *config) { c.scalarsOnly = true } }

// WithReopen gives the suite a way to open a second, independent handle on
// the same table as s, used to resume scans from a cursor in a "new
// process". Without it resumes use the same handle.
func WithReopen(f func(t *testing.T, s engine.Store) engine.Store) Option {
	return func(c *config) { c.reopen = f }
}

// Run runs the conformance suite against the stores newStore makes.
func Run(t *testing.T, newStore NewStore, opts ...Option) {
	c := &config{}
	for _, o := range opts {
		o(c)
	}
	s := &suite{new: newStore, config: c}
	t.Run("Scan", s.testScan)
	t.Run("ScanResume", s.testScanResume)
	t.Run("Get", s.testGet)
	t.Run("Describe", s.testDescribe)
	t.Run("Update", s.testUpdate)
	t.Run("UpdateBatch", s.testUpdateBatch)
	t.Run("PutRoundTrip", s.testPutRoundTrip)
	t.Run("Scratch", s.testScratch)
	t.Run("Lease", s.testLease)
	t.Run("TakeLease", s.testTakeLease)
	t.Run("SetFlag", s.testSetFlag)
}

type suite struct {
	new NewStore
	*config
}

func (s *suite) reopenStore(t *testing.T, st engine.Store) engine.Store {
	if s.reopen == nil {
		return st
	}
	return s.reopen(t, st)
}

// Seed returns n items with ids item-000…, of which every third has no
// version, the others version 1 or 2.
func Seed(n int) []engine.Item {
	items := make([]engine.Item, n)
	for i := range items {
		it := engine.Item{
			KeyAttr: fmt.Sprintf("item-%03d", i),
			"name":  fmt.Sprintf("name %d", i),
			"n":     engine.Number(fmt.Sprint(i * 7)),
		}
		if i%3 != 0 {
			it["v"] = engine.Number(fmt.Sprint(1 + i%2))
		}
		items[i] = it
	}
	return items
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// key is the key of the item with id.
func key(id string) engine.Item { return engine.Item{KeyAttr: id} }

// SameItem reports whether got and want hold the same values, an absent
// attribute counting as nil (SQL rows have every column).
func SameItem(got, want engine.Item) bool {
	for _, k := range slices.Collect(maps.Keys(merge(got, want))) {
		if !engine.EqualValues(got[k], want[k]) {
			return false
		}
	}
	return true
}

// Diff describes how got differs from want, "" when SameItem.
func Diff(got, want engine.Item) string {
	var out string
	for _, k := range slices.Sorted(maps.Keys(merge(got, want))) {
		if !engine.EqualValues(got[k], want[k]) {
			out += fmt.Sprintf(" %s: got %#v, want %#v;", k, got[k], want[k])
		}
	}
	return out
}

func merge(a, b engine.Item) engine.Item {
	m := maps.Clone(a)
	if m == nil {
		m = engine.Item{}
	}
	maps.Copy(m, b)
	return m
}

func mustGet(t *testing.T, st engine.Store, id string) engine.Item {
	t.Helper()
	it, ok, err := st.Get(ctx(t), key(id))
	if err != nil || !ok {
		t.Fatalf("Get(%s)=_, %v, %v; want the item", id, ok, err)
	}
	return it
}

// ScanAll reads every segment of a total-segment scan to the end with
// pages of limit items and returns the items by id, failing the test on
// a duplicate.
func ScanAll(t *testing.T, st engine.Store, total, limit int) map[string]engine.Item {
	t.Helper()
	seen := map[string]engine.Item{}
	for seg := range total {
		var cur []byte
		for pages := 0; ; pages++ {
			if pages > 10000 {
				t.Fatalf("segment %d does not end", seg)
			}
			p, err := st.Scan(ctx(t), engine.ScanRequest{Segment: seg, TotalSegments: total, Cursor: cur, Limit: limit})
			if err != nil {
				t.Fatalf("Scan(segment %d/%d)=%v", seg, total, err)
			}
			if len(p.Items) > limit {
				t.Fatalf("Scan(limit %d) returned %d items", limit, len(p.Items))
			}
			for _, it := range p.Items {
				id, _ := it[KeyAttr].(string)
				if prev, dup := seen[id]; dup {
					t.Fatalf("item %q returned twice (segment %d/%d): %v and %v", id, seg, total, prev, it)
				}
				seen[id] = it
			}
			if p.Next == nil {
				break
			}
			cur = p.Next
		}
	}
	return seen
}

// checkAll fails unless got holds exactly the want items.
func checkAll(t *testing.T, got map[string]engine.Item, want []engine.Item) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("scan returned %d items, want %d", len(got), len(want))
	}
	for _, w := range want {
		id := w[KeyAttr].(string)
		g, ok := got[id]
		if !ok {
			t.Errorf("scan missed item %q", id)
			continue
		}
		if d := Diff(g, w); d != "" {
			t.Errorf("item %q:%s", id, d)
		}
	}
}
