package engine_test

import (
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{850 * time.Millisecond, "850ms"},
		{12400 * time.Millisecond, "12.4s"},
		{185 * time.Second, "3m05s"},
		{62 * time.Minute, "1h02m"},
		{-2 * time.Second, "-2.0s"},
	}
	for _, tt := range tests {
		if got := engine.FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
