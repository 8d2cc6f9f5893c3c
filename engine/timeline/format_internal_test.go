package timeline

import (
	"testing"
	"time"
)

func TestFormatDelta(t *testing.T) {
	tests := []struct {
		delta, base time.Duration
		want        string
	}{
		{-15 * time.Second, time.Minute, "-15.0s (-25%)"},
		{20 * time.Second, 80 * time.Second, "+20.0s (+25%)"},
		{3 * time.Second, 0, "+3.0s"},
	}
	for _, tt := range tests {
		if got := formatDelta(tt.delta, tt.base); got != tt.want {
			t.Errorf("formatDelta(%v, %v) = %q, want %q", tt.delta, tt.base, got, tt.want)
		}
	}
}
