package migrate

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestExpressionsOnInexactNumbers: a number expressions cannot hold
// exactly is copied untouched and compared with == exactly; arithmetic
// and ordering on it fail with an error naming the attribute and its
// digits, never with a rounded result.
func TestExpressionsOnInexactNumbers(t *testing.T) {
	t.Parallel()
	const digits = "12345678901234567890.123456789"
	it := engine.Item{"amount": engine.Number(digits), "list": []any{engine.Number("1"), engine.Number(digits)}, "small": engine.Number("12.5")}
	tests := []struct {
		src     string
		want    any    // FromExpr of the result when wantErr is empty
		wantErr string // substring of the error
	}{
		{"item.amount", engine.Number(digits), ""},
		{"item.amount ?? 0", engine.Number(digits), ""},
		{"string(item.amount)", digits, ""},
		{"item.amount == nil", false, ""},
		{"item.amount != nil", true, ""},
		{"item.amount == 5", false, ""}, // exact: no int or float64 equals it
		{"item.amount == item.amount", true, ""},
		{"item.small * 2", engine.Number("25"), ""},
		{"item.list", []any{engine.Number("1"), engine.Number(digits)}, ""},
		{"item.amount + 1", nil, "amount=" + digits + " has more digits than expressions compute exactly; copy it as-is or use a transform command"},
		{"item.amount > 0", nil, "amount=" + digits + " has more digits"},
		{"item.amount * 1.5", nil, "amount=" + digits + " has more digits"},
		{"float(item.amount)", nil, "amount=" + digits + " has more digits"},
		{"item.list[1] + 1", nil, "list holds " + digits + " has more digits"},
		{"len(item) > 0 && item.amount < 1", nil, "amount=" + digits + " has more digits"},
		{"item.small + 'x'", nil, "invalid operation"}, // no inexact number read: the error as is
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			e, err := runbook.CompileExpr(tt.src, false)
			if err != nil {
				t.Fatalf("CompileExpr(%q) error: %v", tt.src, err)
			}
			env := newItemEnvFrom(map[string]any{}, e)
			env.bind(it)
			raw, err := env.run(e)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("run(%q) = %#v, %v; want error containing %q", tt.src, raw, err, tt.wantErr)
				}
				if strings.Contains(tt.wantErr, "more digits") != errors.Is(err, ErrInexactNumber) {
					t.Errorf("errors.Is(%v, ErrInexactNumber) = %v", err, !strings.Contains(tt.wantErr, "more digits"))
				}
				return
			}
			if err != nil {
				t.Fatalf("run(%q) error: %v", tt.src, err)
			}
			got, err := engine.FromExpr(raw)
			if err != nil {
				t.Fatalf("FromExpr(%#v) error: %v", raw, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("run(%q) = %#v, want %#v", tt.src, got, tt.want)
			}
		})
	}
}

// TestReadVersion: a version attribute that is not a number is an error
// (a guarded write could never succeed), not version 0.
func TestReadVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v       any
		want    int64
		wantErr string
	}{
		{"absent", nil, 0, ""},
		{"number", engine.Number("3"), 3, ""},
		{"decimal", engine.Number("2.5"), 2, ""},
		{"exponent", engine.Number("1E+2"), 100, ""},
		{"huge", engine.Number("1E+30"), 1<<63 - 1, ""},
		{"string", "0", 0, `version attribute v is a string ("0"), not a number; fix the item or set version_attribute`},
		{"non-numeric string", "two", 0, `is a string ("two"), not a number`},
		{"bool", true, 0, "is a bool (true), not a number"},
		{"list", []any{engine.Number("1")}, 0, "is a list"},
		{"malformed", engine.Number("x"), 0, "is a malformed number (x)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := engine.Item{"id": engine.Number("1")}
			if tt.v != nil {
				it["v"] = tt.v
			}
			got, err := readVersion(it, "v")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrVersionNotNumber) {
					t.Fatalf("readVersion(%#v) = %d, %v; want error containing %q", tt.v, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("readVersion(%#v) = %d, %v; want %d", tt.v, got, err, tt.want)
			}
		})
	}
}
