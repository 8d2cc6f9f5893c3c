package engine_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

func sampleItem() engine.Item {
	return engine.Item{
		"pk":    "user#1",
		"n":     engine.Number("1.50"),
		"big":   engine.Number("123456789012345678901234567890.000001"),
		"neg":   engine.Number("-0.5e-10"),
		"b":     []byte{0, 1, 2, 255},
		"empty": []byte{},
		"t":     true,
		"f":     false,
		"z":     nil,
		"ss":    engine.StringSet{"b", "a", "<&>"},
		"ns":    engine.NumberSet{"10", "9.5", "-1"},
		"bs":    engine.BinarySet{{3}, {1, 2}},
		"l":     []any{"x", engine.Number("2"), nil, []any{true}, map[string]any{"k": engine.NumberSet{"1"}}},
		"m":     map[string]any{"street": "1 Main St", "geo": map[string]any{"lat": engine.Number("48.8566"), "tags": []any{}}},
		"uni":   "héllo \"wörld\"\n\t\u2028",
	}
}

func TestMarshalItemRoundTrip(t *testing.T) {
	t.Parallel()
	it := sampleItem()
	b, err := engine.MarshalItem(it)
	if err != nil {
		t.Fatalf("MarshalItem() error: %v", err)
	}
	got, err := engine.UnmarshalItem(b)
	if err != nil {
		t.Fatalf("UnmarshalItem(%s) error: %v", b, err)
	}
	// Sets come back in the encoded (sorted) order; EqualValues ignores it.
	for k, v := range it {
		if !engine.EqualValues(got[k], v) {
			t.Errorf("round trip [%q]=%#v, want %#v", k, got[k], v)
		}
	}
	if len(got) != len(it) {
		t.Errorf("round trip has %d attributes, want %d", len(got), len(it))
	}
	// Exact representation kept: numbers are not normalised.
	if got["n"] != engine.Number("1.50") || got["big"] != engine.Number("123456789012345678901234567890.000001") {
		t.Errorf("numbers changed: n=%v big=%v", got["n"], got["big"])
	}
	if _, ok := got["empty"].([]byte); !ok {
		t.Errorf("empty binary came back as %T", got["empty"])
	}
	again, err := engine.MarshalItem(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, b) {
		t.Errorf("re-marshal differs:\n%s\n%s", again, b)
	}
}

func TestMarshalItemDeterministic(t *testing.T) {
	t.Parallel()
	a := engine.Item{"b": "2", "a": "1", "s": engine.StringSet{"y", "x"}, "m": map[string]any{"z": nil, "a": true}}
	b := engine.Item{"m": map[string]any{"a": true, "z": nil}, "s": engine.StringSet{"x", "y"}, "a": "1", "b": "2"}
	want := `{"a":{"S":"1"},"b":{"S":"2"},"m":{"M":{"a":{"BOOL":true},"z":{"NULL":true}}},"s":{"SS":["x","y"]}}`
	for i := 0; i < 20; i++ {
		for _, it := range []engine.Item{a, b} {
			got, err := engine.MarshalItem(it)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want {
				t.Fatalf("MarshalItem()=%s, want %s", got, want)
			}
		}
	}
}

func TestMarshalItemFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		it   engine.Item
		want string
	}{
		{"number", engine.Item{"n": engine.Number("1.50")}, `{"n":{"N":"1.50"}}`},
		{"binary", engine.Item{"b": []byte("hi")}, `{"b":{"B":"aGk="}}`},
		{"list", engine.Item{"l": []any{"a", nil}}, `{"l":{"L":[{"S":"a"},{"NULL":true}]}}`},
		{"number set sorted numerically", engine.Item{"ns": engine.NumberSet{"10", "9", "-1.5"}}, `{"ns":{"NS":["-1.5","9","10"]}}`},
		{"binary set", engine.Item{"bs": engine.BinarySet{{2}, {1}}}, `{"bs":{"BS":["AQ==","Ag=="]}}`},
		{"go int becomes N", engine.Item{"i": 7}, `{"i":{"N":"7"}}`},
		{"go float becomes N", engine.Item{"f": 0.1}, `{"f":{"N":"0.1"}}`},
		{"nested item", engine.Item{"m": engine.Item{"k": false}}, `{"m":{"M":{"k":{"BOOL":false}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := engine.MarshalItem(tt.it)
			if err != nil {
				t.Fatalf("MarshalItem() error: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("MarshalItem()=%s, want %s", got, tt.want)
			}
		})
	}
}

func TestMarshalItemErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		it   engine.Item
		want string
	}{
		{"bad number", engine.Item{"n": engine.Number("abc")}, `attribute "n": invalid number`},
		{"nan number", engine.Item{"n": engine.Number("NaN")}, "invalid number"},
		{"inf number", engine.Item{"n": engine.Number("Inf")}, "invalid number"},
		{"bad in set", engine.Item{"ns": engine.NumberSet{"1", "x"}}, "in set"},
		{"nested", engine.Item{"m": map[string]any{"l": []any{struct{}{}}}}, `attribute "m": attribute "l": element 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := engine.MarshalItem(tt.it)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("MarshalItem() error=%v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestUnmarshalItem(t *testing.T) {
	t.Parallel()
	got, err := engine.UnmarshalItem([]byte(`{"a":{"S":"x"},"n":{"N":"1e3"},"ns":{"NS":["1","2"]},"bs":{"BS":["AQ=="]},"nul":{"NULL":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Item{"a": "x", "n": engine.Number("1e3"), "ns": engine.NumberSet{"1", "2"}, "bs": engine.BinarySet{{1}}, "nul": nil}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnmarshalItem()=%#v, want %#v", got, want)
	}
}

func TestUnmarshalItemErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"not json", `{`, "unmarshal item"},
		{"not object", `null`, "not a JSON object"},
		{"array", `[]`, "unmarshal item"},
		{"two tags", `{"a":{"S":"x","N":"1"}}`, "exactly one type tag"},
		{"no tag", `{"a":{}}`, "exactly one type tag"},
		{"unknown tag", `{"a":{"Q":1}}`, `unknown type tag "Q"`},
		{"bad number", `{"a":{"N":"1.2.3"}}`, "invalid number"},
		{"bad set number", `{"a":{"NS":["1","z"]}}`, "invalid number"},
		{"bad base64", `{"a":{"B":"!!"}}`, `attribute "a"`},
		{"bad list element", `{"a":{"L":[{"S":1}]}}`, "element 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := engine.UnmarshalItem([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("UnmarshalItem(%s) error=%v, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}
