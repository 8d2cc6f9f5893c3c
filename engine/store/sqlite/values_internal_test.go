package sqlite

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestBindNumber: a number goes to SQLite as INTEGER or REAL only when
// that keeps its value; one a REAL would round is refused, not rounded.
func TestBindNumber(t *testing.T) {
	tests := []struct {
		in      string
		want    any
		wantErr string
	}{
		{"42", int64(42), ""},
		{"-7", int64(-7), ""},
		{"1E+3", int64(1000), ""},
		{"1.5", 1.5, ""},
		{"0.1", 0.1, ""},
		{"1.10", 1.1, ""},
		{"0.30000000000000004", 0.30000000000000004, ""},
		{"12345678901234567890.123456789", nil, "more digits than SQLite's REAL holds"},
		{"123456789.123456789", nil, "more digits than SQLite's REAL holds"},
		{"99999999999999999999", nil, "more digits than SQLite's REAL holds"},
		{"1e400", nil, "out of SQLite's range"},
		{"abc", nil, "invalid number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := bindNumber(engine.Number(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("bindNumber(%s) = %v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("bindNumber(%s) = %v (%T), %v; want %v", tt.in, got, got, err, tt.want)
			}
		})
	}
}
