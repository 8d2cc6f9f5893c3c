package dynamo

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lockstep-run/lockstep/engine"
)

// TestGuardConditionIsShort: the condition of a guarded update says no
// more than its meaning needs: an attribute absent when read is guarded
// by attribute_not_exists alone (the type test that an explicit null
// would need costs dynalite's expression parser as much again per
// write), and "NULL" and the target version, which a forward write sets
// and guards below, are sent once each.
func TestGuardConditionIsShort(t *testing.T) {
	s := &Store{table: "t", key: []string{"id"}, versionAttr: "v"}
	split := engine.Update{Key: engine.Item{"id": "a"},
		Set:     []engine.Attr{{Name: "city", Value: "c"}, {Name: "postcode", Value: "p"}, {Name: "street", Value: "s"}},
		Version: 2,
	}
	tests := []struct {
		name      string
		unchanged []engine.Attr
		want      string
		values    int
	}{
		{"absent when read",
			[]engine.Attr{{Name: "address", Value: "1 Main"}, {Name: "city", Absent: true}, {Name: "postcode", Absent: true}, {Name: "street", Absent: true}},
			"attribute_exists(#n4) AND (attribute_not_exists(#n3) OR #n3 < :v3) AND #n5 = :v4 AND attribute_not_exists(#n0) AND attribute_not_exists(#n1) AND attribute_not_exists(#n2)",
			5},
		{"null or absent (the caller does not say)",
			[]engine.Attr{{Name: "city"}, {Name: "street"}},
			"attribute_exists(#n4) AND (attribute_not_exists(#n3) OR #n3 < :v3) AND (attribute_not_exists(#n0) OR attribute_type(#n0, :v4)) AND (attribute_not_exists(#n2) OR attribute_type(#n2, :v4))",
			5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := split
			u.Guard = engine.Guard{VersionAttr: "v", Below: 2, Unchanged: tt.unchanged}
			in, err := s.buildUpdate("t", u)
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(in.ConditionExpression); got != tt.want {
				t.Errorf("ConditionExpression=\n%s\nwant\n%s", got, tt.want)
			}
			if got := len(in.ExpressionAttributeValues); got != tt.values {
				t.Errorf("len(ExpressionAttributeValues)=%d, want %d", got, tt.values)
			}
		})
	}
}
