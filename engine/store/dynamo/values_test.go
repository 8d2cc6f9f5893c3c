package dynamo

import (
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
)

func TestValuesRoundTrip(t *testing.T) {
	for _, it := range storetest.RoundTripItems(false) {
		m, err := toAVMap(it)
		if err != nil {
			t.Fatalf("toAVMap(%v)=%v", it, err)
		}
		if got := fromAVMap(m); !storetest.SameItem(got, it) {
			t.Errorf("round trip:%s", storetest.Diff(got, it))
		}
	}
}

func TestToAV(t *testing.T) {
	tests := []struct {
		in   any
		want types.AttributeValue
	}{
		{engine.Number("1.50"), &types.AttributeValueMemberN{Value: "1.50"}},
		{7, &types.AttributeValueMemberN{Value: "7"}},
		{0.5, &types.AttributeValueMemberN{Value: "0.5"}},
		{nil, &types.AttributeValueMemberNULL{Value: true}},
	}
	for _, tt := range tests {
		got, err := toAV(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if !engine.EqualValues(fromAV(got), fromAV(tt.want)) {
			t.Errorf("toAV(%#v)=%#v, want %#v", tt.in, got, tt.want)
		}
	}
	if _, err := toAV(map[string]any{"x": math.NaN()}); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("toAV(NaN)=%v, want an error naming the attribute", err)
	}
}

func TestBuildUpdateExpressions(t *testing.T) {
	s := &Store{table: "t", key: []string{"pk"}, versionAttr: "v"}
	in, err := s.buildUpdate("t", engine.Update{
		Key: engine.Item{"pk": "a"}, Set: engine.Attrs(map[string]any{"name": "x"}), Remove: []string{"status"}, Version: 3,
		Guard: engine.Guard{VersionAttr: "v", Below: 3, Unchanged: engine.Attrs(map[string]any{"name": "old", "gone": nil})},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SET ", "REMOVE ", " = :v"} {
		if !strings.Contains(*in.UpdateExpression, want) {
			t.Errorf("UpdateExpression=%q, want %q", *in.UpdateExpression, want)
		}
	}
	for _, want := range []string{"attribute_exists(#", "attribute_not_exists(#", " < :v", "attribute_type(#"} {
		if !strings.Contains(*in.ConditionExpression, want) {
			t.Errorf("ConditionExpression=%q, want %q", *in.ConditionExpression, want)
		}
	}
	for _, reserved := range []string{"name", "status"} {
		if strings.Contains(*in.UpdateExpression+*in.ConditionExpression, reserved) {
			t.Errorf("expression names %q directly, want a placeholder", reserved)
		}
	}
}
