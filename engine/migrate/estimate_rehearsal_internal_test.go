package migrate

import (
	"context"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// TestRehearsalRateFromRegistry: an estimate uses the registry's
// rehearsal (StepContext.Rehearsal, wherever it ran) before the journal's,
// scaled by item size: 100 items/s of 2 KiB items then is 200 items/s of
// 1 WCU items now.
func TestRehearsalRateFromRegistry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rec      engine.RegistryRecord
		wcu      int64
		wantRate float64
		wantID   string
	}{
		{"same size", engine.RegistryRecord{SessionID: "ci-1", ItemsPerSec: 100, AvgItemB: 900}, 1, 100, "ci-1"},
		{"items were bigger", engine.RegistryRecord{SessionID: "ci-2", ItemsPerSec: 100, AvgItemB: 2048}, 1, 200, "ci-2"},
		{"items are bigger now", engine.RegistryRecord{SessionID: "ci-3", ItemsPerSec: 100, AvgItemB: 900}, 4, 25, "ci-3"},
		{"no rehearsal", engine.RegistryRecord{}, 1, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, id := rehearsalRate(context.Background(), &engine.StepContext{Rehearsal: tt.rec}, tt.wcu)
			if r != tt.wantRate || id != tt.wantID {
				t.Errorf("rehearsalRate() = %v, %q; want %v, %q", r, id, tt.wantRate, tt.wantID)
			}
		})
	}
}
