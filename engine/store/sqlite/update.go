package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/mattn/go-sqlite3"
)

// Update applies one guarded update as a single
// UPDATE … SET <changed columns>, v = ? WHERE <key> AND <guard>: it
// touches only the changed columns and the version column, and returns an
// error wrapping engine.ErrConditionFailed when the guard does not hold
// or the row does not exist.
func (s *Store) Update(ctx context.Context, u engine.Update) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	w, err := s.writeConn(ctx)
	if err == nil {
		err = s.update(ctx, w, u)
	}
	if err != nil {
		return fmt.Errorf("update %s %s: %w", s.table, keyString(u.Key), err)
	}
	return nil
}

// UpdateBatch applies updates in one transaction, each with Update's
// semantics; a failed guard fails only its own update.
func (s *Store) UpdateBatch(ctx context.Context, us []engine.Update) []error {
	errs := make([]error, len(us))
	fail := func(err error) []error {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("update %s %s: %w", s.table, keyString(us[i].Key), err)
			}
		}
		return errs
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	err := s.inTx(ctx, func(w *writer) error {
		if err := s.updateBatch(ctx, w, us, errs); err != nil {
			return err
		}
		return ctx.Err()
	})
	if err != nil {
		clear(errs) // rolled back: nothing applied
		return fail(err)
	}
	for i, err := range errs {
		if err != nil {
			errs[i] = fmt.Errorf("update %s %s: %w", s.table, keyString(us[i].Key), err)
		}
	}
	return errs
}

// execer is what *sql.DB and *sql.Tx share for writes.
type execer interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) update(ctx context.Context, x execer, u engine.Update) error {
	sc, err := s.schemaFor(ctx, u)
	if err != nil {
		return err
	}
	q, args, err := s.buildUpdate(sc, u)
	if err != nil {
		return err
	}
	res, err := x.ExecContext(ctx, q, args...)
	if err != nil {
		return translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return translate(err)
	}
	if n > 0 {
		return nil
	}
	cond, kargs, _ := sc.keyWhere(u.Key) // built once already in buildUpdate
	var one int
	err = x.QueryRowContext(ctx, "SELECT 1 FROM "+quote(s.table)+" WHERE "+cond, kargs...).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("no such item: %w", engine.ErrConditionFailed)
	case err != nil:
		return translate(err)
	}
	return fmt.Errorf("guard does not hold: %w", engine.ErrConditionFailed)
}

// schemaFor returns a schema with every column u sets (see schemaWith),
// without allocating when the cached schema has them.
func (s *Store) schemaFor(ctx context.Context, u engine.Update) (*schema, error) {
	sc, err := s.currentSchema(ctx)
	if err != nil {
		return nil, err
	}
	needVersion := u.Version != 0 || u.Guard.Equals != 0 || u.Guard.Below != 0
	vattr := s.versionAttr
	if u.Guard.VersionAttr != "" {
		vattr = u.Guard.VersionAttr
	}
	ok := !needVersion || sc.has(vattr)
	for c := range u.Set {
		ok = ok && sc.has(c)
	}
	if ok {
		return sc, nil
	}
	cols := slices.Collect(maps.Keys(u.Set))
	if needVersion {
		cols = append(cols, vattr)
	}
	return s.schemaWith(ctx, cols, false)
}

// schemaWith returns a schema that has cols (and the version column when
// needVersion), re-reading the table once when one is missing; a column
// still missing is an ErrNoColumn error with a hint.
func (s *Store) schemaWith(ctx context.Context, cols []string, needVersion bool) (*schema, error) {
	if needVersion {
		cols = append(cols, s.versionAttr)
	}
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
			return nil, fmt.Errorf("column %q: %w in table %s; add it first with a sql step, e.g. ALTER TABLE %s ADD COLUMN %s",
				missing, ErrNoColumn, s.table, quote(s.table), quote(missing))
		}
		if sc, err = s.loadSchema(ctx); err != nil {
			return nil, err
		}
	}
}

// buildUpdate renders u as one UPDATE statement. Column order is sorted so
// that equal shapes give equal SQL text, rendered once per schema and
// reused (callers hold writeMu, which guards sc.updates).
func (s *Store) buildUpdate(sc *schema, u engine.Update) (string, []any, error) {
	shape, args, err := s.renderUpdate(sc, u, nil)
	if err != nil {
		return "", nil, err
	}
	s.shapeBuf = shape // reused by the next update: no allocation per call
	if q, ok := sc.updates[string(shape)]; ok {
		return q, args, nil
	}
	var p updateParts
	s.renderUpdate(sc, u, &p)
	q := "UPDATE " + quote(s.table) + " SET " + strings.Join(p.sets, ", ") + " WHERE " + strings.Join(p.where, " AND ")
	if len(sc.updates) < maxStmts {
		sc.updates[string(shape)] = q
	}
	return q, args, nil
}

// updateParts are the SET and WHERE fragments of an UPDATE; a nil
// *updateParts renders nothing (the cache-hit path allocates no SQL).
type updateParts struct{ sets, where []string }

func (p *updateParts) set(parts ...string) {
	if p != nil {
		p.sets = append(p.sets, strings.Join(parts, ""))
	}
}

func (p *updateParts) cond(parts ...string) {
	if p != nil {
		p.where = append(p.where, strings.Join(parts, ""))
	}
}

// shapeBuilder records the structure of an UPDATE: one tag byte and an
// optional name per fragment.
type shapeBuilder struct{ b []byte }

func (s *shapeBuilder) add(tag byte, name string) {
	s.b = append(s.b, tag)
	s.b = append(s.b, name...)
	s.b = append(s.b, 0)
}

// renderUpdate walks u in SQL order: it returns the arguments and a shape
// string that identifies the SQL text, and fills p (when not nil) with
// the SQL fragments.
func (s *Store) renderUpdate(sc *schema, u engine.Update, p *updateParts) ([]byte, []any, error) {
	shape := shapeBuilder{b: s.shapeBuf[:0]}
	var kbuf [8]string
	args := make([]any, 0, len(u.Set)+len(u.Guard.Unchanged)+len(sc.key)+2)
	v := sc.versionQ
	if va := u.Guard.VersionAttr; va != "" && va != s.versionAttr {
		v = quote(va)
		shape.add('A', va)
	}
	nsets := 0
	for _, c := range appendSortedKeys(kbuf[:0], u.Set) {
		if slices.Contains(sc.key, c) {
			return nil, nil, fmt.Errorf("attribute %q is part of the key and cannot be changed", c)
		}
		b, err := bindValue(u.Set[c])
		if err != nil {
			return nil, nil, fmt.Errorf("attribute %q: %w", c, err)
		}
		shape.add('s', c)
		p.set(quote(c), " = ?")
		args = append(args, b)
		nsets++
	}
	if len(u.Remove) > 0 {
		for _, c := range slices.Sorted(slices.Values(u.Remove)) {
			if _, set := u.Set[c]; !set && sc.has(c) && !slices.Contains(sc.key, c) {
				shape.add('r', c)
				p.set(quote(c), " = NULL")
				nsets++
			}
		}
	}
	switch {
	case u.Version != 0:
		shape.add('V', "")
		p.set(v, " = ?")
		args = append(args, u.Version)
		nsets++
	case u.Guard.Equals != 0: // rollback to version 0: no version at all
		shape.add('N', "")
		p.set(v, " = NULL")
		nsets++
	}
	if nsets == 0 { // nothing to change: still check the guard
		p.set(quote(sc.key[0]), " = ", quote(sc.key[0]))
	}
	for _, k := range sc.key {
		val, ok := u.Key[k]
		if !ok {
			return nil, nil, fmt.Errorf("key attribute %q missing", k)
		}
		b, err := bindValue(val)
		if err != nil {
			return nil, nil, fmt.Errorf("key attribute %q: %w", k, err)
		}
		p.cond(quote(k), " = ?")
		args = append(args, b)
	}
	if u.Guard.Below != 0 {
		shape.add('B', "")
		p.cond("(", v, " IS NULL OR ", v, " < ?)")
		args = append(args, u.Guard.Below)
	}
	if u.Guard.Equals != 0 {
		shape.add('E', "")
		p.cond(v, " = ?")
		args = append(args, u.Guard.Equals)
	}
	for _, c := range appendSortedKeys(kbuf[:0], u.Guard.Unchanged) {
		val := u.Guard.Unchanged[c]
		if !sc.has(c) { // an absent column is an absent attribute
			if val != nil {
				shape.add('0', "")
				p.cond("0")
			}
			continue
		}
		b, err := bindValue(val)
		if err != nil {
			return nil, nil, fmt.Errorf("guard attribute %q: %w", c, err)
		}
		shape.add('u', c)
		p.cond(quote(c), " IS ?")
		args = append(args, b)
	}
	return shape.b, args, nil
}

// appendSortedKeys appends m's keys to keys, in order.
func appendSortedKeys(keys []string, m map[string]any) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Put writes whole rows with INSERT OR REPLACE in one transaction. Every
// attribute must be a column of the table.
func (s *Store) Put(ctx context.Context, items []engine.Item) error {
	if len(items) == 0 {
		return nil
	}
	cols := map[string]bool{}
	for _, it := range items {
		for c := range it {
			cols[c] = true
		}
	}
	if _, err := s.schemaWith(ctx, slices.Collect(maps.Keys(cols)), false); err != nil {
		return fmt.Errorf("put into %s: %w", s.table, err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	err := s.inTx(ctx, func(w *writer) error { return s.putRows(ctx, w, items) })
	if err != nil {
		return fmt.Errorf("put into %s: %w", s.table, err)
	}
	return nil
}

func (s *Store) putRows(ctx context.Context, w *writer, items []engine.Item) error {
	var err error
	for i, it := range items {
		names := slices.Sorted(maps.Keys(it))
		quoted := make([]string, len(names))
		args := make([]any, len(names))
		for j, c := range names {
			quoted[j] = quote(c)
			if args[j], err = bindValue(it[c]); err != nil {
				return fmt.Errorf("item %d attribute %q: %w", i, c, err)
			}
		}
		q := "INSERT OR REPLACE INTO " + quote(s.table) + " (" + strings.Join(quoted, ", ") +
			") VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ")"
		if _, err := w.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("item %d: %w", i, translate(err))
		}
	}
	return nil
}

// translate maps driver errors onto the engine's: a database still busy
// or locked after the busy timeout is throttling (back off, retry); a
// missing column is ErrNoColumn.
func translate(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return fmt.Errorf("%w: %w", engine.ErrThrottled, err)
		}
		if strings.Contains(se.Error(), "no such column") {
			return fmt.Errorf("%w: %w", ErrNoColumn, err)
		}
	}
	return err
}

// keyString renders a key for messages: {id=7}.
func keyString(key engine.Item) string {
	parts := make([]string, 0, len(key))
	for _, k := range slices.Sorted(maps.Keys(key)) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, key[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
