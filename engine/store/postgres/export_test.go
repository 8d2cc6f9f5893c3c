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

// ScanQueryForTest returns the query and arguments of Scan(req).
func (s *Store) ScanQueryForTest(ctx context.Context, req engine.ScanRequest) (string, []any, error) {
	sc, err := s.loadSchema(ctx)
	if err != nil {
		return "", nil, err
	}
	total := max(req.TotalSegments, 1)
	_, q, args, err := s.scanQuery(sc, req, total, req.Limit*total)
	return q, args, err
}

// SetAfterPageEndForTest makes fn run in every predicted pushdown page
// between the read of its last row and its UPDATE.
func (s *Store) SetAfterPageEndForTest(fn func(context.Context)) { s.afterPageEnd = fn }
