package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// Writes are fenced by the leases their context carries
// (engine.LeaseFences): the lease rows live in the written database, so
// the write transaction reads them after BEGIN IMMEDIATE, holding the
// database's write lock, and commits only while each still names the
// writing session. A lease taken over by another session fails the whole
// transaction with a *engine.LeaseLostError naming the new holder.

// checkFences fails with a *engine.LeaseLostError when a lease ctx is
// fenced by no longer names its session. Callers are inside inTx.
func (s *Store) checkFences(ctx context.Context, w *writer) error {
	for _, l := range engine.LeaseFences(ctx) {
		cur, found, err := fenceLease(ctx, w, l)
		if err != nil {
			return fmt.Errorf("check lease %s/%s: %w", l.Dataset, l.Env, err)
		}
		if !found || cur.Session != l.Session {
			return fmt.Errorf("check lease %s/%s: %w", l.Dataset, l.Env, lostError(cur, found))
		}
	}
	return nil
}

// fenceLease reads the lease row of l's dataset and environment on the
// write connection; a missing lease table is no lease.
func fenceLease(ctx context.Context, w *writer, l engine.Lease) (engine.Lease, bool, error) {
	cur := engine.Lease{Dataset: l.Dataset, Env: l.Env}
	var acq, exp int64
	err := w.QueryRowContext(ctx, `SELECT holder, session, acquired, expires FROM `+leaseTable+`
		WHERE dataset = ? AND env = ?`, l.Dataset, l.Env).Scan(&cur.Holder, &cur.Session, &acq, &exp)
	switch {
	case errors.Is(err, sql.ErrNoRows), err != nil && strings.Contains(err.Error(), "no such table"):
		return engine.Lease{}, false, nil
	case err != nil:
		return engine.Lease{}, false, translate(err)
	}
	cur.Acquired, cur.Expires = time.Unix(0, acq), time.Unix(0, exp)
	return cur, true, nil
}

// applyFenced applies one rendered update: on its own when ctx carries no
// lease fence, else in a transaction that checks the fences first.
// Callers hold s.writeMu.
func (s *Store) applyFenced(ctx context.Context, r rendered) error {
	if len(engine.LeaseFences(ctx)) == 0 && !engine.RolledBackWrites(ctx) {
		w, err := s.writeConn(ctx)
		if err != nil {
			return err
		}
		return s.apply(ctx, w, r)
	}
	return s.inTx(ctx, func(w *writer) error { return s.apply(ctx, w, r) })
}
