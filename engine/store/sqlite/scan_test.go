package sqlite_test

import (
	"context"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestScanReadsIntegersAsTheirText: a page's integers (their text is cut
// from one string per page) read back as the Numbers written, each in
// its own row and column, across pages, with NULL and non-integer
// columns among them.
func TestScanReadsIntegersAsTheirText(t *testing.T) {
	want := map[string]engine.Item{
		"1": {"id": engine.Number("1"), "n": engine.Number("0"), "m": engine.Number("-7"), "s": "x"},
		"2": {"id": engine.Number("2"), "n": engine.Number("9223372036854775807"), "m": nil, "s": "12"},
		"3": {"id": engine.Number("3"), "n": engine.Number("-9223372036854775808"), "m": engine.Number("2.5"), "s": nil},
		"4": {"id": engine.Number("4"), "n": nil, "m": engine.Number("1000"), "s": "y"},
		"5": {"id": engine.Number("5"), "n": engine.Number("42"), "m": engine.Number("123456789"), "s": ""},
	}
	var seed []engine.Item
	for _, it := range want {
		seed = append(seed, it)
	}
	st := newTable(t, "CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER, m NUMERIC, s TEXT)", seed)
	got := map[string]engine.Item{}
	var cur []byte
	for {
		p, err := st.Scan(context.Background(), engine.ScanRequest{TotalSegments: 1, Cursor: cur, Limit: 2})
		if err != nil {
			t.Fatalf("Scan()=%v", err)
		}
		for _, it := range p.Items {
			got[string(it["id"].(engine.Number))] = it
		}
		if cur = p.Next; cur == nil {
			break
		}
	}
	for id, w := range want {
		g := got[id]
		for c, v := range w {
			if gv, ok := g[c]; !ok || !engine.EqualValues(gv, v) || gv != v && v != nil {
				t.Errorf("row %s column %s=%#v (present %v), want %#v", id, c, gv, ok, v)
			}
		}
	}
}
