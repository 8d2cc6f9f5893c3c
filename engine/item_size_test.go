package engine_test

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

func TestItemSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		it   engine.Item
		want int
	}{
		{"empty", engine.Item{}, 0},
		{"string", engine.Item{"name": "héllo"}, 4 + 6},
		{"number small", engine.Item{"n": engine.Number("7")}, 1 + 2},
		{"number digits", engine.Item{"n": engine.Number("12345")}, 1 + 4},
		{"number zeros trimmed", engine.Item{"n": engine.Number("0012.3400")}, 1 + 3},
		{"number integer trailing zeros", engine.Item{"n": engine.Number("1000000")}, 1 + 2},
		{"number exponent", engine.Item{"n": engine.Number("-1.5e10")}, 1 + 2},
		{"number zero", engine.Item{"n": engine.Number("0")}, 1 + 1},
		{"binary", engine.Item{"b": []byte{1, 2, 3}}, 1 + 3},
		{"bool and null", engine.Item{"t": true, "z": nil}, 2 + 2},
		{"string set", engine.Item{"ss": engine.StringSet{"ab", "c"}}, 2 + 3},
		{"number set", engine.Item{"ns": engine.NumberSet{"1", "22"}}, 2 + 4},
		{"binary set", engine.Item{"bs": engine.BinarySet{{1}, {2, 3}}}, 2 + 3},
		{"list", engine.Item{"l": []any{"ab", nil}}, 1 + 3 + (1 + 2) + (1 + 1)},
		{"empty map", engine.Item{"m": map[string]any{}}, 1 + 3},
		{"map", engine.Item{"m": map[string]any{"k": "vv"}}, 1 + 3 + 1 + 1 + 2},
		{"nested item", engine.Item{"m": engine.Item{"k": "vv"}}, 1 + 3 + 1 + 1 + 2},
		{"go int", engine.Item{"n": 12345}, 1 + 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := engine.ItemSize(tt.it); got != tt.want {
				t.Errorf("ItemSize(%v)=%d, want %d", tt.it, got, tt.want)
			}
		})
	}
}

func TestItemSizeOneKB(t *testing.T) {
	t.Parallel()
	it := engine.Item{"pk": "user#1", "data": strings.Repeat("x", 1012)}
	if got, want := engine.ItemSize(it), 1024; got != want {
		t.Errorf("ItemSize()=%d, want %d", got, want)
	}
}
