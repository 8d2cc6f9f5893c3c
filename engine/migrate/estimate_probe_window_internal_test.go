package migrate

import (
	"testing"
	"time"
)

func TestSteadyWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	at := func(ms int, n int64) probeSample {
		return probeSample{at: t0.Add(time.Duration(ms) * time.Millisecond), n: n}
	}
	tests := []struct {
		name    string
		samples []probeSample
		from    time.Duration
		want    float64 // items/s; 0: no steady figure
	}{
		{"none", nil, time.Second, 0},
		{"one page", []probeSample{at(500, 2000)}, time.Second, 0},
		{"from the first change after from", []probeSample{at(400, 100), at(1000, 200), at(1500, 1200), at(2000, 2200)}, time.Second, 2000},
		{"too short after from: from the first change", []probeSample{at(500, 1000), at(1900, 2000), at(2000, 3000)}, time.Second, 2000 / 1.5},
		{"a slow start left out", []probeSample{at(900, 100), at(1000, 200), at(3000, 4200)}, time.Second, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := steadyWindow(tt.samples, t0.Add(tt.from)).rate(); got < tt.want-0.01 || got > tt.want+0.01 {
				t.Errorf("steadyWindow().rate()=%v, want %v", got, tt.want)
			}
		})
	}
}
