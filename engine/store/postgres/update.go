package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lockstep-run/lockstep/engine"
)

// Update applies one guarded update as a single
// UPDATE … SET <changed columns>, v = … WHERE <key> AND <guard>, in a
// transaction that first checks the lease fences ctx carries. It touches
// only the changed columns and the version column, and returns an error
// wrapping engine.ErrConditionFailed when the guard does not hold or the
// row does not exist.
func (s *Store) Update(ctx context.Context, u engine.Update) error {
	return s.UpdateBatch(ctx, []engine.Update{u})[0]
}

// rendered is one update rendered as SQL.
type rendered struct {
	sc   *schema
	key  engine.Item
	sql  string
	args []any
	err  error
}

// UpdateBatch applies updates in one transaction (the page's), each with
// Update's semantics; a failed guard fails only its own update. The
// updates of one shape go to the server as one statement
// (update_set.go); otherwise the statements go in one round trip (a pgx
// batch). A statement the server refuses (a value its column cannot
// hold) aborts the transaction: it is marked rejected and the others run
// again in a new one.
func (s *Store) UpdateBatch(ctx context.Context, us []engine.Update) []error {
	if len(us) > 1 {
		if errs, ok := s.updateSets(ctx, us); ok {
			return errs
		}
	}
	return s.updateRows(ctx, us)
}

// updateRows is UpdateBatch one statement per update.
func (s *Store) updateRows(ctx context.Context, us []engine.Update) []error {
	rs := make([]rendered, len(us))
	for i, u := range us {
		rs[i] = s.render(ctx, u)
	}
	pending := make([]int, 0, len(us))
	for i := range rs {
		if rs[i].err == nil {
			pending = append(pending, i)
		}
	}
	for len(pending) > 0 {
		failed, err := s.applyBatch(ctx, rs, pending)
		if err != nil && failed < 0 { // the transaction failed as a whole
			for _, i := range pending {
				rs[i].err = err
			}
			break
		}
		if failed < 0 {
			break
		}
		rs[failed].err = err
		pending = slices.DeleteFunc(pending, func(i int) bool { return i == failed })
	}
	errs := make([]error, len(us))
	for i := range rs {
		if rs[i].err != nil {
			errs[i] = fmt.Errorf("update %s %s: %w", s.table, s.keyText(us[i].Key), rs[i].err)
		}
	}
	return errs
}

// applyBatch runs the pending updates in one fenced transaction. When one
// statement fails it returns its index and error (nothing committed);
// -1 and an error when the transaction itself failed; -1 and nil when it
// committed (each update's guard failures in rs[i].err).
func (s *Store) applyBatch(ctx context.Context, rs []rendered, pending []int) (int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return -1, translate(err)
	}
	defer tx.Rollback(context.Background())
	if err := s.checkFences(ctx, tx); err != nil {
		return -1, err
	}
	probe := engine.RolledBackWrites(ctx) // the estimate's probe (scratch.go)
	if probe {
		if _, err := tx.Exec(ctx, "SAVEPOINT "+probeSavepoint); err != nil {
			return -1, translate(err)
		}
	}
	b := &pgx.Batch{}
	for _, i := range pending {
		b.Queue(rs[i].sql, rs[i].args...)
	}
	br := tx.SendBatch(ctx, b)
	unchanged := []int{}
	for _, i := range pending {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			var pe *pgconn.PgError
			if errors.As(err, &pe) {
				return i, translate(err)
			}
			return -1, translate(err)
		}
		if tag.RowsAffected() == 0 {
			unchanged = append(unchanged, i)
		}
	}
	if err := br.Close(); err != nil {
		return -1, translate(err)
	}
	for _, i := range unchanged {
		rs[i].err = s.classify(ctx, tx, rs[i])
	}
	if probe {
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+probeSavepoint); err != nil {
			return -1, translate(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		for _, i := range unchanged {
			rs[i].err = nil
		}
		return -1, translate(err)
	}
	return -1, nil
}

// classify tells, for an update that changed no row, a missing item from
// a failed guard (both wrap engine.ErrConditionFailed).
func (s *Store) classify(ctx context.Context, tx pgx.Tx, r rendered) error {
	cond, args, err := r.sc.keyWhere(r.key, 1)
	if err != nil {
		return err
	}
	var one int
	err = tx.QueryRow(ctx, "SELECT 1 FROM "+s.qualified()+" WHERE "+cond, args...).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("no such item: %w", engine.ErrConditionFailed)
	case err != nil:
		return translate(err)
	}
	return fmt.Errorf("guard does not hold: %w", engine.ErrConditionFailed)
}

// render turns u into its UPDATE statement.
func (s *Store) render(ctx context.Context, u engine.Update) rendered {
	vattr := s.versionAttr
	if u.Guard.VersionAttr != "" {
		vattr = u.Guard.VersionAttr
	}
	needVersion := u.Version != 0 || u.Guard.Equals != 0 || u.Guard.Below != 0
	cols := make([]string, 0, len(u.Set)+1)
	for _, a := range u.Set {
		cols = append(cols, a.Name)
	}
	if needVersion {
		cols = append(cols, vattr)
	}
	sc, err := s.schemaWith(ctx, cols)
	if err != nil {
		if errors.Is(err, ErrNoColumn) {
			err = engine.Rejected(err)
		}
		return rendered{err: err}
	}
	sql, args, err := s.buildUpdate(sc, u, vattr)
	return rendered{sc: sc, key: u.Key, sql: sql, args: args, err: engine.Rejected(err)}
}

// schemaWith returns a schema that has cols, re-reading the table once
// when one is missing; a column still missing is an ErrNoColumn error
// with a hint.
func (s *Store) schemaWith(ctx context.Context, cols []string) (*schema, error) {
	sc, err := s.currentSchema(ctx)
	if err != nil {
		return nil, err
	}
	for pass := 0; ; pass++ {
		missing := ""
		for _, c := range cols {
			if !sc.has(c) {
				missing = c
				break
			}
		}
		if missing == "" {
			return sc, nil
		}
		if pass == 1 {
			return nil, fmt.Errorf("column %q: %w in table %s; add it first with a sql step, e.g. ALTER TABLE %s ADD COLUMN %s …",
				missing, ErrNoColumn, s.table, s.qualified(), quote(missing))
		}
		if sc, err = s.loadSchema(ctx); err != nil {
			return nil, err
		}
	}
}

// params numbers placeholders and collects their arguments.
type params struct{ args []any }

func (p *params) bind(c column, v any) (string, error) {
	arg, expr, err := bindValue(c, v, "$"+strconv.Itoa(len(p.args)+1))
	if err != nil {
		return "", err
	}
	p.args = append(p.args, arg)
	return expr, nil
}

func (s *Store) buildUpdate(sc *schema, u engine.Update, vattr string) (string, []any, error) {
	var p params
	var sets, where []string
	for _, a := range u.Set {
		if slices.Contains(sc.key, a.Name) {
			return "", nil, fmt.Errorf("attribute %q is part of the key and cannot be changed", a.Name)
		}
		c, _ := sc.col(a.Name)
		e, err := p.bind(c, a.Value)
		if err != nil {
			return "", nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
		sets = append(sets, quote(a.Name)+" = "+e)
	}
	for _, name := range slices.Sorted(slices.Values(u.Remove)) {
		if _, set := engine.LookupAttr(u.Set, name); !set && sc.has(name) && !slices.Contains(sc.key, name) {
			sets = append(sets, quote(name)+" = NULL")
		}
	}
	vc, _ := sc.col(vattr)
	v := quote(vattr)
	switch {
	case u.Version != 0:
		e, err := p.bind(vc, engine.Number(strconv.FormatInt(u.Version, 10)))
		if err != nil {
			return "", nil, fmt.Errorf("version %q: %w", vattr, err)
		}
		sets = append(sets, v+" = "+e)
	case u.Guard.Equals != 0: // rollback to version 0: no version at all
		sets = append(sets, v+" = NULL")
	}
	if len(sets) == 0 { // nothing to change: still check the guard
		sets = append(sets, quote(sc.key[0])+" = "+quote(sc.key[0]))
	}
	for _, k := range sc.key {
		val, ok := u.Key[k]
		if !ok || val == nil {
			return "", nil, fmt.Errorf("key attribute %q missing", k)
		}
		c, _ := sc.col(k)
		e, err := p.bind(c, val)
		if err != nil {
			return "", nil, fmt.Errorf("key attribute %q: %w", k, err)
		}
		where = append(where, quote(k)+" = "+e)
	}
	if u.Guard.Below != 0 {
		e, err := p.bind(vc, engine.Number(strconv.FormatInt(u.Guard.Below, 10)))
		if err != nil {
			return "", nil, fmt.Errorf("version %q: %w", vattr, err)
		}
		where = append(where, "("+v+" IS NULL OR "+v+" < "+e+")")
	}
	if u.Guard.Equals != 0 {
		e, err := p.bind(vc, engine.Number(strconv.FormatInt(u.Guard.Equals, 10)))
		if err != nil {
			return "", nil, fmt.Errorf("version %q: %w", vattr, err)
		}
		where = append(where, v+" = "+e)
	}
	for _, a := range u.Guard.Unchanged {
		c, ok := sc.col(a.Name)
		if !ok { // an absent column is an absent attribute
			if a.Value != nil {
				where = append(where, "FALSE")
			}
			continue
		}
		if a.Value == nil {
			where = append(where, quote(a.Name)+" IS NULL")
			continue
		}
		e, err := p.bind(c, a.Value)
		if err != nil {
			return "", nil, fmt.Errorf("guard attribute %q: %w", a.Name, err)
		}
		where = append(where, c.guardExpr()+" IS NOT DISTINCT FROM "+c.guardCast(e))
	}
	return "UPDATE " + s.qualified() + " SET " + strings.Join(sets, ", ") + " WHERE " + strings.Join(where, " AND "), p.args, nil
}

// Put writes whole rows (INSERT … ON CONFLICT (key) DO UPDATE) in one
// transaction. Every attribute must be a column of the table.
func (s *Store) Put(ctx context.Context, items []engine.Item) error {
	if len(items) == 0 {
		return nil
	}
	names := map[string]bool{}
	for _, it := range items {
		for c := range it {
			names[c] = true
		}
	}
	sc, err := s.schemaWith(ctx, slices.Sorted(maps.Keys(names)))
	if err != nil {
		return fmt.Errorf("put into %s: %w", s.table, err)
	}
	b := &pgx.Batch{}
	for i, it := range items {
		sql, args, err := s.buildPut(sc, it)
		if err != nil {
			return fmt.Errorf("put into %s: item %d: %w", s.table, i, err)
		}
		b.Queue(sql, args...)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	if err != nil {
		return fmt.Errorf("put into %s: %w", s.table, translate(err))
	}
	return nil
}

func (s *Store) buildPut(sc *schema, it engine.Item) (string, []any, error) {
	var p params
	cols := slices.Sorted(maps.Keys(it))
	quoted := make([]string, len(cols))
	exprs := make([]string, len(cols))
	var updates []string
	for i, name := range cols {
		c, _ := sc.col(name)
		e, err := p.bind(c, it[name])
		if err != nil {
			return "", nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		quoted[i], exprs[i] = quote(name), e
		if !slices.Contains(sc.key, name) {
			updates = append(updates, quote(name)+" = EXCLUDED."+quote(name))
		}
	}
	// Columns the item lacks are NULL in a replaced row, as in a new one.
	for _, c := range sc.cols {
		if _, ok := it[c.name]; !ok && !slices.Contains(sc.key, c.name) {
			updates = append(updates, quote(c.name)+" = NULL")
		}
	}
	q := "INSERT INTO " + s.qualified() + " (" + strings.Join(quoted, ", ") + ") VALUES (" + strings.Join(exprs, ", ") +
		") ON CONFLICT (" + sc.keyList() + ") DO "
	if len(updates) == 0 {
		return q + "NOTHING", p.args, nil
	}
	return q + "UPDATE SET " + strings.Join(updates, ", "), p.args, nil
}

// translate maps server errors onto the engine's: lock and serialization
// failures are throttling (back off, retry); data and constraint errors
// are rejections; a missing column is ErrNoColumn, a missing table
// ErrNoTable.
func translate(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case pe.Code == "40001", pe.Code == "40P01", pe.Code == "55P03", pe.Code == "53300":
		return fmt.Errorf("%w: %w", engine.ErrThrottled, err)
	case pe.Code == "42703":
		return engine.Rejected(fmt.Errorf("%w: %w", ErrNoColumn, err))
	case pe.Code == "42P01":
		return fmt.Errorf("%w: %w", ErrNoTable, err)
	case strings.HasPrefix(pe.Code, "22"), strings.HasPrefix(pe.Code, "23"):
		return engine.Rejected(err)
	}
	return err
}

// keyText renders the key attributes of key for messages: {id=7}.
func (s *Store) keyText(key engine.Item) string {
	s.mu.Lock()
	sc := s.sc
	s.mu.Unlock()
	if sc != nil {
		key = engine.KeyOf(key, sc.key)
	}
	return engine.KeyText(key)
}
