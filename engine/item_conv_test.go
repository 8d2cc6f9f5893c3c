package engine_test

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

func TestToExpr(t *testing.T) {
	t.Parallel()
	it := engine.Item{
		"i":    engine.Number("42"),
		"neg":  engine.Number("-7"),
		"one":  engine.Number("1.0"),
		"f":    engine.Number("1.5"),
		"big":  engine.Number("123456789012345678901234567890"),
		"s":    "x",
		"b":    []byte{1, 2},
		"t":    true,
		"z":    nil,
		"ss":   engine.StringSet{"a", "b"},
		"ns":   engine.NumberSet{"1", "2.5"},
		"bs":   engine.BinarySet{{1}},
		"l":    []any{engine.Number("3"), "y", []any{engine.Number("0.5")}},
		"m":    map[string]any{"n": engine.Number("9"), "in": map[string]any{"k": engine.StringSet{"q"}}},
		"item": engine.Item{"n": engine.Number("2")},
	}
	want := map[string]any{
		"i":    42,
		"neg":  -7,
		"one":  1,
		"f":    1.5,
		"big":  engine.Number("123456789012345678901234567890"),
		"s":    "x",
		"b":    []byte{1, 2},
		"t":    true,
		"z":    nil,
		"ss":   []any{"a", "b"},
		"ns":   []any{1, 2.5},
		"bs":   []any{[]byte{1}},
		"l":    []any{3, "y", []any{0.5}},
		"m":    map[string]any{"n": 9, "in": map[string]any{"k": []any{"q"}}},
		"item": map[string]any{"n": 2},
	}
	got := engine.ToExpr(it)
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("ToExpr()[%q]=%#v, want %#v", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("ToExpr() has %d keys, want %d", len(got), len(want))
	}
}

func TestFromExpr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"int", 42, engine.Number("42")},
		{"int64 min", int64(math.MinInt64), engine.Number("-9223372036854775808")},
		{"uint64 max", uint64(math.MaxUint64), engine.Number("18446744073709551615")},
		{"int32", int32(-3), engine.Number("-3")},
		{"float", 1.5, engine.Number("1.5")},
		{"float integral", 3.0, engine.Number("3")},
		{"float small", 0.000001, engine.Number("0.000001")},
		{"float big", 1e21, engine.Number("1000000000000000000000")},
		{"float32", float32(0.25), engine.Number("0.25")},
		{"number kept", engine.Number("1.50"), engine.Number("1.50")},
		{"string", "x", "x"},
		{"bool", false, false},
		{"nil", nil, nil},
		{"bytes", []byte{0, 1}, []byte{0, 1}},
		{"string set", engine.StringSet{"a"}, engine.StringSet{"a"}},
		{"list", []any{1, "a", nil, []any{2.5}}, []any{engine.Number("1"), "a", nil, []any{engine.Number("2.5")}}},
		{"map", map[string]any{"a": 1, "m": map[string]any{"b": true}}, map[string]any{"a": engine.Number("1"), "m": map[string]any{"b": true}}},
		{"typed slice", []string{"a", "b"}, []any{"a", "b"}},
		{"int slice", []int{1, 2}, []any{engine.Number("1"), engine.Number("2")}},
		{"typed map", map[string]int{"a": 1}, map[string]any{"a": engine.Number("1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := engine.FromExpr(tt.in)
			if err != nil {
				t.Fatalf("FromExpr(%#v) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromExpr(%#v)=%#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFromExprErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nan", math.NaN(), "NaN"},
		{"inf", math.Inf(1), "Inf"},
		{"nested inf", []any{1, math.Inf(-1)}, "list element 1"},
		{"map nan", map[string]any{"x": math.NaN()}, `map key "x"`},
		{"func", func() {}, "no store representation"},
		{"struct", struct{}{}, "no store representation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := engine.FromExpr(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("FromExpr() error=%v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestToExprNumbers: a Number becomes an int or a float64 only when that
// holds it exactly; any other stays a Number, so no digit is lost.
func TestToExprNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   engine.Number
		want any
	}{
		{"42", 42},
		{"-9223372036854775808", math.MinInt64},
		{"1E+3", 1000},
		{"5.000", 5},
		{"0.1", 0.1},
		{"1.50", 1.5},
		{"-2.5e-3", -0.0025},
		{"123456789.12345679", 123456789.12345679},                    // 17 digits, float64's shortest form
		{"9223372036854775808", engine.Number("9223372036854775808")}, // int64 max + 1
		{"12345678901234567890", engine.Number("12345678901234567890")},
		{"1E+20", engine.Number("1E+20")}, // integral beyond int64: arithmetic would round
		{"123456789.123456789", engine.Number("123456789.123456789")},
		{"12345678901234567890.123456789", engine.Number("12345678901234567890.123456789")},
		{"0.12345678901234567890123456789012345678", engine.Number("0.12345678901234567890123456789012345678")},
		{"1E-130", 1e-130}, // DynamoDB's smallest: float64's shortest form of it is 1e-130
		{"1.0000000000000001E-130", engine.Number("1.0000000000000001E-130")},
		{"not a number", "not a number"},
	}
	for _, tt := range tests {
		t.Run(string(tt.in), func(t *testing.T) {
			got := engine.ToExpr(engine.Item{"n": tt.in})["n"]
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ToExpr(%q)=%#v (%T), want %#v (%T)", tt.in, got, got, tt.want, tt.want)
			}
		})
	}
}

func TestToExprFromExprRoundTrip(t *testing.T) {
	t.Parallel()
	it := engine.Item{"n": engine.Number("12"), "f": engine.Number("0.125"), "l": []any{engine.Number("1")},
		"big": engine.Number("12345678901234567890.123456789"), "long": engine.Number("123456789.123456789"),
		"ns": engine.NumberSet{"1", "99999999999999999999999999999999999999"}}
	for k, v := range engine.ToExpr(it) {
		back, err := engine.FromExpr(v)
		if err != nil {
			t.Fatal(err)
		}
		want := it[k]
		if ns, ok := want.(engine.NumberSet); ok { // expressions see sets as lists
			want = []any{ns[0], ns[1]}
		}
		if !engine.EqualValues(back, want) {
			t.Errorf("round trip of %q: %#v, want %#v", k, back, want)
		}
		if n, ok := it[k].(engine.Number); ok && back != n && len(n) > 15 {
			t.Errorf("round trip of %q: %q, want the same digits %q", k, back, n)
		}
	}
}

func TestEqualValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b any
		want bool
	}{
		{"numbers numerically", engine.Number("1.0"), engine.Number("1"), true},
		{"numbers exponent", engine.Number("1e2"), engine.Number("100"), true},
		{"numbers differ", engine.Number("1.0000000000000000000001"), engine.Number("1"), false},
		{"number and int", engine.Number("3"), 3, true},
		{"number and float", engine.Number("0.5"), 0.5, true},
		{"number and string", engine.Number("3"), "3", false},
		{"strings", "a", "a", true},
		{"strings differ", "a", "b", false},
		{"nil nil", nil, nil, true},
		{"nil vs string", nil, "", false},
		{"bools", true, true, true},
		{"bytes", []byte{1}, []byte{1}, true},
		{"bytes differ", []byte{1}, []byte{2}, false},
		{"string sets any order", engine.StringSet{"a", "b"}, engine.StringSet{"b", "a"}, true},
		{"string sets differ", engine.StringSet{"a", "a"}, engine.StringSet{"a", "b"}, false},
		{"number sets", engine.NumberSet{"1.0", "2"}, engine.NumberSet{"2", "1"}, true},
		{"binary sets", engine.BinarySet{{1}, {2}}, engine.BinarySet{{2}, {1}}, true},
		{"set vs list", engine.StringSet{"a"}, []any{"a"}, false},
		{"lists in order", []any{"a", engine.Number("1")}, []any{"a", engine.Number("1.00")}, true},
		{"lists order matters", []any{"a", "b"}, []any{"b", "a"}, false},
		{"maps", map[string]any{"a": engine.Number("1")}, engine.Item{"a": engine.Number("1.0")}, true},
		{"maps missing key", map[string]any{"a": nil}, map[string]any{"b": nil}, false},
		{"nested", map[string]any{"l": []any{map[string]any{"x": "y"}}}, map[string]any{"l": []any{map[string]any{"x": "y"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := engine.EqualValues(tt.a, tt.b); got != tt.want {
				t.Errorf("EqualValues(%#v, %#v)=%v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := engine.EqualValues(tt.b, tt.a); got != tt.want {
				t.Errorf("EqualValues(%#v, %#v)=%v, want %v", tt.b, tt.a, got, tt.want)
			}
		})
	}
}

func TestCompareNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b engine.Number
		want int
		ok   bool
	}{
		{"1", "2", -1, true},
		{"10", "9.99", 1, true},
		{"1.50", "1.5", 0, true},
		{"-1e3", "-999", -1, true},
		{"x", "1", 0, false},
	}
	for _, tt := range tests {
		got, ok := engine.CompareNumbers(tt.a, tt.b)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CompareNumbers(%s, %s)=%d,%v, want %d,%v", tt.a, tt.b, got, ok, tt.want, tt.ok)
		}
	}
}

func TestKeyOf(t *testing.T) {
	t.Parallel()
	it := engine.Item{"pk": "a", "sk": engine.Number("1"), "x": "y"}
	if got, want := engine.KeyOf(it, []string{"pk", "sk"}), (engine.Item{"pk": "a", "sk": engine.Number("1")}); !reflect.DeepEqual(got, want) {
		t.Errorf("KeyOf()=%v, want %v", got, want)
	}
	if got := engine.KeyOf(it, []string{"missing"}); len(got) != 0 {
		t.Errorf("KeyOf(missing)=%v, want empty", got)
	}
	got := engine.KeyOf(it, []string{"pk"})
	got["pk"] = "changed"
	if it["pk"] != "a" {
		t.Error("KeyOf() shares the item's map")
	}
}

func TestKeyText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  engine.Item
		want string
	}{
		{engine.Item{"id": int64(7)}, "{id=7}"},
		{engine.Item{"sk": "b", "pk": "a"}, "{pk=a, sk=b}"},
		{engine.Item{}, "{}"},
	}
	for _, tt := range tests {
		if got := engine.KeyText(tt.key); got != tt.want {
			t.Errorf("KeyText(%v) = %q, want %q", tt.key, got, tt.want)
		}
	}
}
