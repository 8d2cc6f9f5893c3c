package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// leaseTable holds migration leases, one row per dataset+environment, in
// the store's database file.
const leaseTable = "lockstep_leases"

const leaseDDL = `CREATE TABLE IF NOT EXISTS lockstep_leases (
	dataset  TEXT NOT NULL,
	env      TEXT NOT NULL,
	holder   TEXT NOT NULL,
	session  TEXT NOT NULL,
	acquired INTEGER NOT NULL, -- unix nanoseconds
	expires  INTEGER NOT NULL, -- unix nanoseconds
	PRIMARY KEY (dataset, env)
)`

// AcquireLease takes the lease l.Dataset/l.Env for l.Session until
// l.Expires. l.Acquired is "now" (time.Now when zero). A lease held by
// another session is refused with a *engine.LeaseHeldError while it lives,
// and also once expired unless takeover is true. The same session
// acquiring again refreshes its lease.
func (s *Store) AcquireLease(ctx context.Context, l engine.Lease, takeover bool) (engine.Lease, error) {
	if l.Acquired.IsZero() {
		l.Acquired = time.Now()
	}
	err := s.leaseTx(ctx, func(tx *sql.Tx) error {
		cur, found, err := readLease(ctx, tx, l.Dataset, l.Env)
		if err != nil {
			return err
		}
		if found && cur.Session != l.Session {
			live := cur.Expires.After(l.Acquired)
			if live || !takeover {
				return &engine.LeaseHeldError{Lease: cur}
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO lockstep_leases
			(dataset, env, holder, session, acquired, expires) VALUES (?, ?, ?, ?, ?, ?)`,
			l.Dataset, l.Env, l.Holder, l.Session, l.Acquired.UnixNano(), l.Expires.UnixNano())
		return err
	})
	if err != nil {
		return engine.Lease{}, fmt.Errorf("acquire lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	return l, nil
}

// RenewLease extends the caller's lease to l.Expires; it fails with
// engine.ErrLeaseLost when the lease is gone or another session holds it.
func (s *Store) RenewLease(ctx context.Context, l engine.Lease) (engine.Lease, error) {
	var out engine.Lease
	err := s.leaseTx(ctx, func(tx *sql.Tx) error {
		cur, found, err := readLease(ctx, tx, l.Dataset, l.Env)
		if err != nil {
			return err
		}
		if !found || cur.Session != l.Session {
			return lostError(cur, found)
		}
		_, err = tx.ExecContext(ctx, `UPDATE lockstep_leases SET expires = ? WHERE dataset = ? AND env = ?`,
			l.Expires.UnixNano(), l.Dataset, l.Env)
		cur.Expires = time.Unix(0, l.Expires.UnixNano())
		out = cur
		return err
	})
	if err != nil {
		return engine.Lease{}, fmt.Errorf("renew lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	return out, nil
}

// ReleaseLease gives the lease up. Releasing a lease already gone is not
// an error; one now held by another session is engine.ErrLeaseLost.
func (s *Store) ReleaseLease(ctx context.Context, l engine.Lease) error {
	err := s.leaseTx(ctx, func(tx *sql.Tx) error {
		cur, found, err := readLease(ctx, tx, l.Dataset, l.Env)
		if err != nil || !found {
			return err
		}
		if cur.Session != l.Session {
			return lostError(cur, true)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM lockstep_leases WHERE dataset = ? AND env = ? AND session = ?`,
			l.Dataset, l.Env, l.Session)
		return err
	})
	if err != nil {
		return fmt.Errorf("release lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	return nil
}

// lostError is engine.ErrLeaseLost naming the lease now recorded, if any.
func lostError(cur engine.Lease, found bool) error {
	if !found {
		cur = engine.Lease{}
	}
	return &engine.LeaseLostError{Holder: cur}
}

// leaseTx runs fn in a write transaction on the lease table, creating it
// on first use.
func (s *Store) leaseTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.ownTableTx(ctx, leaseDDL, fn)
}

// ownTableTx runs fn in a write transaction after ddl (a CREATE TABLE IF
// NOT EXISTS of one of lockstep's own tables), in the same transaction.
func (s *Store) ownTableTx(ctx context.Context, ddl string, fn func(tx *sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return translate(err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	return translate(tx.Commit())
}

func readLease(ctx context.Context, tx *sql.Tx, dataset, env string) (engine.Lease, bool, error) {
	l := engine.Lease{Dataset: dataset, Env: env}
	var acq, exp int64
	err := tx.QueryRowContext(ctx, `SELECT holder, session, acquired, expires FROM lockstep_leases
		WHERE dataset = ? AND env = ?`, dataset, env).Scan(&l.Holder, &l.Session, &acq, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return engine.Lease{}, false, nil
	}
	if err != nil {
		return engine.Lease{}, false, err
	}
	l.Acquired, l.Expires = time.Unix(0, acq), time.Unix(0, exp)
	return l, true, nil
}

// SetFlag sets attr to 1 (on) or NULL (off) on the row with key in table
// (the store's own table when ""). The column must exist.
func (s *Store) SetFlag(ctx context.Context, table string, key engine.Item, attr string, on bool) error {
	if table == "" {
		table = s.table
	}
	sc, err := readSchema(ctx, s.db, table, keyNames(key))
	if err != nil {
		return fmt.Errorf("set flag %s on %s: %w", attr, table, err)
	}
	if !sc.has(attr) {
		return fmt.Errorf("set flag on %s: column %q: %w; add it first with a sql step, e.g. ALTER TABLE %s ADD COLUMN %s",
			table, attr, ErrNoColumn, quote(table), quote(attr))
	}
	cond, args, err := sc.keyWhere(key)
	if err != nil {
		return fmt.Errorf("set flag %s on %s: %w", attr, table, err)
	}
	var val any
	if on {
		val = int64(1)
	}
	s.writeMu.Lock()
	res, err := s.db.ExecContext(ctx, "UPDATE "+quote(table)+" SET "+quote(attr)+" = ? WHERE "+cond, append([]any{val}, args...)...)
	s.writeMu.Unlock()
	if err != nil {
		return fmt.Errorf("set flag %s on %s: %w", attr, table, translate(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
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

// Maintenance flags shared by several locks: the flag's column lives in
// the application's table, so its holders live in lockstep's own table in
// the same database file, written in the same transaction as the flag.
// Each row names one holder (a lock's dataset/env) and keeps the flag's
// value from before the first holder set it, copied as stored (any type;
// NULL when it was NULL).
const flagHoldersDDL = `CREATE TABLE IF NOT EXISTS lockstep_flag_holders (
	tbl    TEXT NOT NULL,
	item   TEXT NOT NULL, -- the flag row's key, JSON
	attr   TEXT NOT NULL,
	holder TEXT NOT NULL, -- dataset/env of the lock holding the flag on
	prior,                -- the flag's value before the first holder
	PRIMARY KEY (tbl, item, attr, holder)
)`

// flagRow addresses one flag: its table, the row's key condition and the
// holders' key.
type flagRow struct {
	table, attr, item string
	cond              string
	args              []any
}

// HoldFlag adds holder to the flag's holders and sets attr to 1 on the
// row with key in table (the store's own table when ""); the first holder
// records the value it replaces. The column must exist.
func (s *Store) HoldFlag(ctx context.Context, table string, key engine.Item, attr, holder string) (engine.FlagHold, error) {
	var out engine.FlagHold
	err := s.flagTx(ctx, table, key, attr, func(tx *sql.Tx, f flagRow) error {
		holders, err := flagHolders(ctx, tx, f)
		if err != nil {
			return err
		}
		src := "SELECT " + quote(attr) + " FROM " + quote(f.table) + " WHERE " + f.cond
		args := f.args
		if len(holders) > 0 { // the value from before the first holder
			src = "SELECT prior FROM lockstep_flag_holders WHERE tbl = ? AND item = ? AND attr = ? LIMIT 1"
			args = []any{f.table, f.item, attr}
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO lockstep_flag_holders (tbl, item, attr, holder, prior)
			SELECT ?, ?, ?, ?, (`+src+`)`, append([]any{f.table, f.item, attr, holder}, args...)...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE "+quote(f.table)+" SET "+quote(attr)+" = 1 WHERE "+f.cond, f.args...); err != nil {
			return err
		}
		if out.Before, err = flagPrior(ctx, tx, f, holder); err != nil {
			return err
		}
		out.Others = others(holders, holder)
		return nil
	})
	if err != nil {
		return engine.FlagHold{}, fmt.Errorf("hold flag %s: %w", attr, err)
	}
	return out, nil
}

// UnholdFlag removes holder from the flag's holders; the last one out
// restores the value from before the first holder.
func (s *Store) UnholdFlag(ctx context.Context, table string, key engine.Item, attr, holder string) (engine.FlagHold, error) {
	var out engine.FlagHold
	err := s.flagTx(ctx, table, key, attr, func(tx *sql.Tx, f flagRow) error {
		holders, err := flagHolders(ctx, tx, f)
		if err != nil {
			return err
		}
		out.Others = others(holders, holder)
		if out.Held = len(out.Others) < len(holders); !out.Held {
			return nil
		}
		if out.Before, err = flagPrior(ctx, tx, f, holder); err != nil {
			return err
		}
		if len(out.Others) == 0 {
			if _, err := tx.ExecContext(ctx, "UPDATE "+quote(f.table)+" SET "+quote(attr)+
				" = (SELECT prior FROM lockstep_flag_holders WHERE tbl = ? AND item = ? AND attr = ? AND holder = ?) WHERE "+f.cond,
				append([]any{f.table, f.item, attr, holder}, f.args...)...); err != nil {
				return err
			}
			out.Restored = true
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM lockstep_flag_holders WHERE tbl = ? AND item = ? AND attr = ? AND holder = ?`,
			f.table, f.item, attr, holder)
		return err
	})
	if err != nil {
		return engine.FlagHold{}, fmt.Errorf("let go of flag %s: %w", attr, err)
	}
	return out, nil
}

// flagTx runs fn in a write transaction once the flag's row is found.
func (s *Store) flagTx(ctx context.Context, table string, key engine.Item, attr string, fn func(*sql.Tx, flagRow) error) error {
	if table == "" {
		table = s.table
	}
	item, err := json.Marshal(key)
	if err != nil {
		return fmt.Errorf("on %s: key %s: %w", table, engine.KeyText(key), err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	sc, err := readSchema(ctx, tx, table, keyNames(key))
	if err != nil {
		return fmt.Errorf("on %s: %w", table, err)
	}
	if !sc.has(attr) {
		return fmt.Errorf("on %s: column %q: %w; add it first with a sql step, e.g. ALTER TABLE %s ADD COLUMN %s",
			table, attr, ErrNoColumn, quote(table), quote(attr))
	}
	cond, args, err := sc.keyWhere(key)
	if err != nil {
		return fmt.Errorf("on %s: %w", table, err)
	}
	var one int
	switch err := tx.QueryRowContext(ctx, "SELECT 1 FROM "+quote(table)+" WHERE "+cond, args...).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("on %s %s: no such item", table, engine.KeyText(key))
	case err != nil:
		return translate(err)
	}
	if _, err := tx.ExecContext(ctx, flagHoldersDDL); err != nil {
		return translate(err)
	}
	if err := fn(tx, flagRow{table: table, attr: attr, item: string(item), cond: cond, args: args}); err != nil {
		return translate(err)
	}
	return translate(tx.Commit())
}

// flagHolders lists the flag's holders, sorted.
func flagHolders(ctx context.Context, tx *sql.Tx, f flagRow) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT holder FROM lockstep_flag_holders
		WHERE tbl = ? AND item = ? AND attr = ? ORDER BY holder`, f.table, f.item, f.attr)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// flagPrior is the value holder recorded from before the first holder.
func flagPrior(ctx context.Context, tx *sql.Tx, f flagRow, holder string) (any, error) {
	var v any
	err := tx.QueryRowContext(ctx, `SELECT prior FROM lockstep_flag_holders WHERE tbl = ? AND item = ? AND attr = ? AND holder = ?`,
		f.table, f.item, f.attr, holder).Scan(&v)
	if err != nil {
		return nil, err
	}
	return readValue(v), nil
}

// others is holders without self.
func others(holders []string, self string) []string {
	var out []string
	for _, h := range holders {
		if h != self {
			out = append(out, h)
		}
	}
	return out
}
