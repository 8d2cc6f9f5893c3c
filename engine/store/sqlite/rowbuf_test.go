package sqlite_test

import (
	"context"
	"maps"
	"reflect"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestScanRefillsReusableItems: a scan offered maps to reuse
// (engine.ScanRequest.Reuse) returns them, cleared and refilled with its
// own rows only (no attribute of the row they held before, none its
// projection leaves out), and makes new maps for the rows beyond them;
// values read earlier out of those maps keep what they were.
func TestScanRefillsReusableItems(t *testing.T) {
	st := newTable(t, "CREATE TABLE items (id INTEGER PRIMARY KEY, s TEXT, n INTEGER, b BLOB)", []engine.Item{
		{"id": engine.Number("1"), "s": "one", "n": engine.Number("10"), "b": []byte("x")},
		{"id": engine.Number("2"), "s": "two", "n": engine.Number("20"), "b": []byte("y")},
		{"id": engine.Number("3"), "s": "three", "n": nil, "b": nil},
		{"id": engine.Number("4"), "s": nil, "n": engine.Number("40"), "b": []byte("z")},
	})
	ctx := context.Background()
	first, err := st.Scan(ctx, engine.ScanRequest{TotalSegments: 1, Limit: 1})
	if err != nil {
		t.Fatalf("Scan()=%v", err)
	}
	old := first.Items[0]
	kept, keptB := old["s"], old["b"].([]byte)
	old["stale"] = "from before" // the previous owner's attribute
	next, err := st.Scan(ctx,
		engine.ScanRequest{TotalSegments: 1, Cursor: first.Next, Limit: 3, Attrs: []string{"s", "b"}, Reuse: []engine.Item{old}})
	if err != nil {
		t.Fatalf("Scan() with reusable items=%v", err)
	}
	want := []engine.Item{
		{"id": engine.Number("2"), "s": "two", "b": []byte("y")},
		{"id": engine.Number("3"), "s": "three", "b": nil},
		{"id": engine.Number("4"), "s": nil, "b": []byte("z")},
	}
	if len(next.Items) != len(want) {
		t.Fatalf("Scan() read %d items, want %d", len(next.Items), len(want))
	}
	for i, it := range next.Items {
		if !maps.EqualFunc(it, want[i], reflect.DeepEqual) {
			t.Errorf("item %d = %v, want %v", i, it, want[i])
		}
	}
	if same := reflect.ValueOf(next.Items[0]).UnsafePointer() == reflect.ValueOf(old).UnsafePointer(); !same {
		t.Errorf("the first row was read into a new map, want the one offered")
	}
	if reflect.ValueOf(next.Items[1]).UnsafePointer() == reflect.ValueOf(old).UnsafePointer() {
		t.Errorf("two rows share one map")
	}
	if kept != "one" || string(keptB) != "x" {
		t.Errorf("values read before the map was reused are %q, %q; want one, x", kept, keptB)
	}
}
