package htmlreport

import (
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	// steady: a checkpoint of 100 items every second for 20 s.
	var steady []sample
	for i := 1; i <= 20; i++ {
		steady = append(steady, sample{At: sec(float64(i)), Migrated: int64(100 * i)})
	}
	for _, tc := range []struct {
		name    string
		s       stepSeries
		to      float64
		perSec  []float64 // want, bucket by bucket (nil: only the count is checked)
		buckets int
		check   func(t *testing.T, bs []bucket)
	}{
		{name: "steady pages are a flat line, not a saw", s: stepSeries{Samples: steady}, to: 20, buckets: 30,
			check: func(t *testing.T, bs []bucket) {
				for i, b := range bs {
					if b.PerSec < 98 || b.PerSec > 102 { // ±1 item a bucket: counts are whole
						t.Errorf("bucket %d: %.1f items/s, want 100", i, b.PerSec)
					}
				}
			}},
		{name: "a long pause is a gap at zero, not a smear",
			s: stepSeries{Samples: []sample{{At: sec(1), Migrated: 100}, {At: sec(2), Migrated: 200}, {At: sec(30), Migrated: 300}}}, to: 30, buckets: 30,
			check: func(t *testing.T, bs []bucket) {
				if bs[15].PerSec != 0 {
					t.Errorf("mid-pause bucket: %.1f items/s, want 0", bs[15].PerSec)
				}
				if bs[29].PerSec != 100 {
					t.Errorf("bucket of the sample after the pause: %.1f items/s, want 100", bs[29].PerSec)
				}
			}},
		{name: "throttles and the write limit land in their bucket",
			s: stepSeries{Samples: []sample{{At: sec(1), Migrated: 10}, {At: sec(3), Migrated: 30, Throttles: 4}},
				Limits: []limitPoint{{At: sec(0), Limit: 500}, {At: sec(2), Limit: 250}}}, to: 3, buckets: 12,
			check: func(t *testing.T, bs []bucket) {
				var th int64
				for _, b := range bs {
					th += b.Throttles
				}
				if th != 4 {
					t.Errorf("throttles summed over buckets = %d, want 4", th)
				}
				if bs[0].Limit != 500 || bs[len(bs)-1].Limit != 250 {
					t.Errorf("limits %v … %v, want 500 … 250", bs[0].Limit, bs[len(bs)-1].Limit)
				}
			}},
		{name: "no samples, no chart", s: stepSeries{}, to: 10, buckets: 0},
		{name: "a short step has buckets of at least 250 ms", s: stepSeries{Samples: []sample{{At: sec(1), Migrated: 10}}}, to: 1, buckets: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bs := tc.s.buckets(t0, sec(tc.to))
			if len(bs) != tc.buckets {
				t.Fatalf("%d buckets, want %d", len(bs), tc.buckets)
			}
			if tc.check != nil {
				tc.check(t, bs)
			}
		})
	}
}
