package postgres_test

import (
	"fmt"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestIntegerKeySegments: an integer key splits into blocks of 1,024 keys
// dealt round-robin to the segments; negative keys and composite keys
// too; every row is read once whatever the page size.
func TestIntegerKeySegments(t *testing.T) {
	t.Parallel()
	for _, ddl := range []string{
		"CREATE TABLE items (id bigint PRIMARY KEY, tenant text, v int)",
		"CREATE TABLE items (id int, tenant text, v int, PRIMARY KEY (id, tenant))",
	} {
		var seed []engine.Item
		for i := -2000; i < 9000; i += 3 {
			seed = append(seed, engine.Item{"id": engine.Number(fmt.Sprint(i)), "tenant": fmt.Sprintf("t%d", i%3)})
		}
		st := newTable(t, ddl, seed)
		for _, tc := range []struct{ segments, limit int }{{1, 1000}, {4, 100}, {3, 777}} {
			got := 0
			for seg := range tc.segments {
				var cur []byte
				for {
					p, err := st.Scan(t.Context(), engine.ScanRequest{Segment: seg, TotalSegments: tc.segments, Cursor: cur, Limit: tc.limit})
					if err != nil {
						t.Fatal(err)
					}
					got += len(p.Items)
					if p.Next == nil {
						break
					}
					cur = p.Next
				}
			}
			if got != len(seed) {
				t.Errorf("%s: %d segments, pages of %d: read %d rows, want %d", ddl, tc.segments, tc.limit, got, len(seed))
			}
		}
	}
}
