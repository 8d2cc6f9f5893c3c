package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
)

// Leases live in the table lockstep_leases of the store's schema (created
// on first use), one row per dataset and environment. Every change to a
// lease runs in a transaction holding a transaction-level advisory lock
// on its dataset/environment, so two sessions never decide on the same
// lease at once; a migrate page's transaction reads its lease rows FOR
// SHARE (checkFences), so a takeover waits for the page in flight to
// commit and the page commits only while its session holds the lease.

const leaseTable = "lockstep_leases"

const leaseDDL = `CREATE TABLE IF NOT EXISTS %s (
	dataset  text   NOT NULL,
	env      text   NOT NULL,
	holder   text   NOT NULL,
	session  text   NOT NULL,
	acquired bigint NOT NULL, -- unix nanoseconds
	expires  bigint NOT NULL, -- unix nanoseconds
	renewals bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (dataset, env)
)`

func (s *Store) leaseTable() string { return quote(s.schemaName) + "." + leaseTable }

// AcquireLease implements engine.Leaser.
func (s *Store) AcquireLease(ctx context.Context, l engine.Lease, takeover bool) (engine.Lease, error) {
	if l.Acquired.IsZero() {
		l.Acquired = time.Now()
	}
	err := s.leaseTx(ctx, l, func(tx pgx.Tx, cur engine.Lease, found bool) error {
		if found && cur.Session != l.Session && (cur.Expires.After(l.Acquired) || !takeover) {
			return &engine.LeaseHeldError{Lease: cur}
		}
		return s.writeLease(ctx, tx, l, 0)
	})
	if err != nil {
		return engine.Lease{}, fmt.Errorf("acquire lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	return l, nil
}

// TakeLease implements engine.LeaseTaker: l replaces the lease only if
// its record is still seen (or there is none).
func (s *Store) TakeLease(ctx context.Context, l engine.Lease, seen engine.Lease) (engine.Lease, error) {
	err := s.leaseTx(ctx, l, func(tx pgx.Tx, cur engine.Lease, found bool) error {
		if found && cur.Session != l.Session && !(cur.Session == seen.Session && cur.Holder == seen.Holder &&
			cur.Expires.Equal(seen.Expires) && cur.Renewals == seen.Renewals) {
			return &engine.LeaseHeldError{Lease: cur}
		}
		return s.writeLease(ctx, tx, l, 0)
	})
	if err != nil {
		return engine.Lease{}, fmt.Errorf("take lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	return l, nil
}

// RenewLease implements engine.Leaser; it counts the renewal.
func (s *Store) RenewLease(ctx context.Context, l engine.Lease) (engine.Lease, error) {
	var out engine.Lease
	err := s.leaseTx(ctx, l, func(tx pgx.Tx, cur engine.Lease, found bool) error {
		if !found || cur.Session != l.Session {
			return lostError(cur, found)
		}
		_, err := tx.Exec(ctx, "UPDATE "+s.leaseTable()+" SET expires = $1, renewals = renewals + 1 WHERE dataset = $2 AND env = $3",
			l.Expires.UnixNano(), l.Dataset, l.Env)
		cur.Expires, cur.Renewals = time.Unix(0, l.Expires.UnixNano()), cur.Renewals+1
		out = cur
		return translate(err)
	})
	if err != nil {
		return engine.Lease{}, fmt.Errorf("renew lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	return out, nil
}

// ReleaseLease implements engine.Leaser: releasing a lease already gone
// is a no-op; one held by another session is a *engine.LeaseLostError.
func (s *Store) ReleaseLease(ctx context.Context, l engine.Lease) error {
	err := s.leaseTx(ctx, l, func(tx pgx.Tx, cur engine.Lease, found bool) error {
		if !found {
			return nil
		}
		if cur.Session != l.Session {
			return lostError(cur, true)
		}
		_, err := tx.Exec(ctx, "DELETE FROM "+s.leaseTable()+" WHERE dataset = $1 AND env = $2 AND session = $3",
			l.Dataset, l.Env, l.Session)
		return translate(err)
	})
	if err != nil {
		return fmt.Errorf("release lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	return nil
}

func (s *Store) writeLease(ctx context.Context, tx pgx.Tx, l engine.Lease, renewals int64) error {
	_, err := tx.Exec(ctx, "INSERT INTO "+s.leaseTable()+` (dataset, env, holder, session, acquired, expires, renewals)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (dataset, env) DO UPDATE SET holder = EXCLUDED.holder, session = EXCLUDED.session,
			acquired = EXCLUDED.acquired, expires = EXCLUDED.expires, renewals = EXCLUDED.renewals`,
		l.Dataset, l.Env, l.Holder, l.Session, l.Acquired.UnixNano(), l.Expires.UnixNano(), renewals)
	return translate(err)
}

func lostError(cur engine.Lease, found bool) error {
	if !found {
		cur = engine.Lease{}
	}
	return &engine.LeaseLostError{Holder: cur}
}

// leaseTx runs fn in a transaction holding the advisory lock of l's
// dataset/environment, with the lease row as it is (found false when
// none), after creating the lease table when missing.
func (s *Store) leaseTx(ctx context.Context, l engine.Lease, fn func(tx pgx.Tx, cur engine.Lease, found bool) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('lockstep_leases'))"); err != nil {
			return translate(err)
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(leaseDDL, s.leaseTable())); err != nil {
			return translate(err)
		}
		cur, found, err := s.readLease(ctx, tx, l, "FOR UPDATE")
		if err != nil {
			return err
		}
		return fn(tx, cur, found)
	})
}

// readLease reads the lease row of l's dataset and environment, locked
// with lock ("FOR UPDATE", "FOR SHARE"); a missing table is no lease.
func (s *Store) readLease(ctx context.Context, tx pgx.Tx, l engine.Lease, lock string) (engine.Lease, bool, error) {
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", s.leaseTable()).Scan(&exists); err != nil {
		return engine.Lease{}, false, translate(err)
	}
	if !exists {
		return engine.Lease{}, false, nil
	}
	cur := engine.Lease{Dataset: l.Dataset, Env: l.Env}
	var acq, exp int64
	err := tx.QueryRow(ctx, "SELECT holder, session, acquired, expires, renewals FROM "+s.leaseTable()+
		" WHERE dataset = $1 AND env = $2 "+lock, l.Dataset, l.Env).Scan(&cur.Holder, &cur.Session, &acq, &exp, &cur.Renewals)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return engine.Lease{}, false, nil
	case err != nil:
		return engine.Lease{}, false, translate(err)
	}
	cur.Acquired, cur.Expires = time.Unix(0, acq), time.Unix(0, exp)
	return cur, true, nil
}

// checkFences fails with a *engine.LeaseLostError when a lease ctx is
// fenced by no longer names its session. It reads each lease row FOR
// SHARE in the page's transaction: a takeover, which updates the row,
// waits until the page committed or rolled back.
func (s *Store) checkFences(ctx context.Context, tx pgx.Tx) error {
	for _, l := range engine.LeaseFences(ctx) {
		cur, found, err := s.readLease(ctx, tx, l, "FOR SHARE")
		if err != nil {
			return fmt.Errorf("check lease %s/%s: %w", l.Dataset, l.Env, err)
		}
		if !found || cur.Session != l.Session {
			return fmt.Errorf("check lease %s/%s: %w", l.Dataset, l.Env, lostError(cur, found))
		}
	}
	return nil
}

// SetFlag implements engine.Leaser: it sets the maintenance column attr
// of the row with key in table (the store's own when "") to true (or 1,
// or 'true', as the column's type wants), or to NULL.
func (s *Store) SetFlag(ctx context.Context, table string, key engine.Item, attr string, on bool) error {
	if table == "" {
		table = s.table
	}
	sc, err := readSchema(ctx, s.pool, s.schemaName, table, keyNames(key))
	if err != nil {
		return fmt.Errorf("set flag %s on %s: %w", attr, table, err)
	}
	c, ok := sc.col(attr)
	if !ok {
		return fmt.Errorf("set flag on %s: column %q: %w; add it first with a sql step, e.g. ALTER TABLE %s ADD COLUMN %s boolean",
			table, attr, ErrNoColumn, quote(table), quote(attr))
	}
	var val any
	if on {
		val = true
		if c.kind == kindNumber {
			val = engine.Number("1")
		}
	}
	var p params
	e, err := p.bind(c, val)
	if err != nil {
		return fmt.Errorf("set flag %s on %s: %w", attr, table, err)
	}
	cond, kargs, err := sc.keyWhere(key, 2)
	if err != nil {
		return fmt.Errorf("set flag %s on %s: %w", attr, table, err)
	}
	tag, err := s.pool.Exec(ctx, "UPDATE "+quote(s.schemaName)+"."+quote(table)+" SET "+quote(attr)+" = "+e+" WHERE "+cond,
		append(p.args, kargs...)...)
	if err != nil {
		return fmt.Errorf("set flag %s on %s: %w", attr, table, translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set flag %s on %s %s: no such item", attr, table, engine.KeyText(key))
	}
	return nil
}

func keyNames(key engine.Item) []string {
	names := make([]string, 0, len(key))
	for k := range key {
		names = append(names, k)
	}
	return names
}
