package dynamo

import (
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// BenchmarkRenderUpdate renders the split-address write migrate sends
// per item (bench/'s workload): three attributes set, the version, the
// address read and the written attributes guarded.
func BenchmarkRenderUpdate(b *testing.B) {
	s := &Store{table: "users", key: []string{"id"}, versionAttr: "v"}
	u := engine.Update{
		Key: engine.Item{"id": "u0000001", "address": "12 Main St, Paris, 17919", "name": "user 1"},
		Set: []engine.Attr{{Name: "city", Value: "Paris"}, {Name: "postcode", Value: "17919"}, {Name: "street_name", Value: "12 Main St"}},
		Guard: engine.Guard{Below: 2, Unchanged: []engine.Attr{{Name: "address", Value: "12 Main St, Paris, 17919"},
			{Name: "city", Absent: true}, {Name: "postcode", Absent: true}, {Name: "street_name", Absent: true}}},
		Version: 2,
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.renderUpdate(s.table, u); err != nil {
			b.Fatal(err)
		}
	}
}
