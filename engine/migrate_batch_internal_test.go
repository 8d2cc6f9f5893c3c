package engine

import (
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

type sizedStore struct {
	Store
	n int
}

func (s sizedStore) PreferredBatchSize() int { return s.n }

// TestBatchSize: the runbook's batch_size wins, else the store's
// preference, else runbook.DefaultBatchSize.
func TestBatchSize(t *testing.T) {
	tests := []struct {
		name     string
		runbook  int
		store    Store
		wantSize int
	}{
		{"runbook sets it", 40, sizedStore{n: 1000}, 40},
		{"store prefers", 0, sizedStore{n: 1000}, 1000},
		{"store has no preference", 0, sizedStore{n: 0}, runbook.DefaultBatchSize},
		{"store without BatchSizer", 0, struct{ Store }{}, runbook.DefaultBatchSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &migrator{spec: &runbook.MigrateSpec{BatchSize: tt.runbook}, store: tt.store}
			if got := m.batchSize(); got != tt.wantSize {
				t.Errorf("batchSize() = %d, want %d", got, tt.wantSize)
			}
		})
	}
}
