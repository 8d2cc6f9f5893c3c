package main

import "testing"

// TestFactorySelfResolvedOnUse: the real factory works out how to run
// lockstep again (a $PATH lookup) only when a command prints a follow-up,
// once, and an explicit Self wins.
func TestFactorySelfResolvedOnUse(t *testing.T) {
	tests := []struct {
		name     string
		self     string
		resolved string
		want     string
		calls    int
	}{
		{"resolved", "", "./bin/lockstep", "./bin/lockstep", 1},
		{"resolved empty", "", "", "lockstep", 1},
		{"explicit", "/opt/lockstep", "./bin/lockstep", "/opt/lockstep", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			f := &factory{Self: tt.self, resolveSelf: func() string { calls++; return tt.resolved }}
			if calls != 0 {
				t.Fatalf("resolveSelf ran %d times before use", calls)
			}
			if got := f.self(); got != tt.want {
				t.Errorf("self()=%q, want %q", got, tt.want)
			}
			if calls != tt.calls {
				t.Errorf("resolveSelf ran %d times, want %d", calls, tt.calls)
			}
		})
	}
	if f := newFactory(); f.resolveSelf == nil || f.Self != "" {
		t.Errorf("newFactory() resolves Self at construction (Self=%q), want on first use", f.Self)
	}
}
