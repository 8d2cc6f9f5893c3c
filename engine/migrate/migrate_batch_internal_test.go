package migrate

import (
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

type tunedStore struct {
	engine.Store
	d engine.MigrateDefaults
}

func (s tunedStore) MigrateDefaults() engine.MigrateDefaults { return s.d }

// TestMigrateDefaults: the runbook's segments and batch_size win, else
// the store's preference, else the runbook package's defaults.
func TestMigrateDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		spec        runbook.MigrateSpec
		store       engine.Store
		segs, batch int
	}{
		{"runbook sets both", runbook.MigrateSpec{Segments: 3, BatchSize: 40}, tunedStore{d: engine.MigrateDefaults{Segments: 2, BatchSize: 1000}}, 3, 40},
		{"store prefers", runbook.MigrateSpec{}, tunedStore{d: engine.MigrateDefaults{Segments: 2, BatchSize: 1000}}, 2, 1000},
		{"store prefers a page size only", runbook.MigrateSpec{}, tunedStore{d: engine.MigrateDefaults{BatchSize: 500}}, runbook.DefaultSegments, 500},
		{"store without MigrateTuner", runbook.MigrateSpec{}, struct{ engine.Store }{}, runbook.DefaultSegments, runbook.DefaultBatchSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &migrator{spec: &tt.spec, store: tt.store}
			if got := m.segments(); got != tt.segs {
				t.Errorf("segments() = %d, want %d", got, tt.segs)
			}
			if got := m.batchSize(); got != tt.batch {
				t.Errorf("batchSize() = %d, want %d", got, tt.batch)
			}
		})
	}
}
