package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.LeaseTaker = (*Store)(nil)

// TakeLease takes the lease over in one transaction if its row is still
// exactly seen (session, holder and expiry; SQLite keeps no renewal
// count, and every renewal moves the expiry). A row that changed is a
// *engine.LeaseHeldError; a lease released meanwhile is acquired.
func (s *Store) TakeLease(ctx context.Context, l engine.Lease, seen engine.Lease) (engine.Lease, error) {
	if l.Acquired.IsZero() {
		l.Acquired = time.Now()
	}
	err := s.leaseTx(ctx, func(tx *sql.Tx) error {
		cur, found, err := readLease(ctx, tx, l.Dataset, l.Env)
		if err != nil {
			return err
		}
		if found && cur.Session != l.Session &&
			(cur.Session != seen.Session || cur.Holder != seen.Holder || !cur.Expires.Equal(seen.Expires)) {
			return &engine.LeaseHeldError{Lease: cur}
		}
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO lockstep_leases
			(dataset, env, holder, session, acquired, expires) VALUES (?, ?, ?, ?, ?, ?)`,
			l.Dataset, l.Env, l.Holder, l.Session, l.Acquired.UnixNano(), l.Expires.UnixNano())
		return err
	})
	if err != nil {
		return engine.Lease{}, fmt.Errorf("take over lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	return l, nil
}
