package postgres

import (
	"context"

	"github.com/lockstep-run/lockstep/engine"
)

// DSNForTest returns the store's DSN as opened (tests reopen with it).
func (s *Store) DSNForTest() string { return s.rawDSN }

// UpdateSetsForTest runs UpdateBatch's set-based path alone; false when
// the batch needs the per-row path.
func (s *Store) UpdateSetsForTest(ctx context.Context, us []engine.Update) ([]error, bool) {
	return s.updateSets(ctx, us)
}
