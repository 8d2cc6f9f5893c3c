package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/mattn/go-sqlite3"
)

// Update applies one guarded update as a single
// UPDATE … SET <changed columns>, v = ? WHERE <key> AND <guard>: it
// touches only the changed columns and the version column, and returns an
// error wrapping engine.ErrConditionFailed when the guard does not hold
// or the row does not exist.
func (s *Store) Update(ctx context.Context, u engine.Update) error {
	r := s.render(ctx, u, nil, nil)
	if r.err == nil {
		s.writeMu.Lock()
		r.err = s.applyFenced(ctx, r)
		s.writeMu.Unlock()
	}
	if r.err != nil {
		return fmt.Errorf("update %s %s: %w", s.table, s.keyText(u.Key), r.err)
	}
	return nil
}

// UpdateBatch applies updates in one transaction, each with Update's
// semantics; a failed guard fails only its own update. Statements are
// rendered before the write lock is taken, so that rendering runs in
// parallel with other segments' transactions.
func (s *Store) UpdateBatch(ctx context.Context, us []engine.Update) []error {
	b := s.batches.get()
	defer s.batches.put(b)
	rs, args := b.rs[:0], b.args[:0]
	for i := range us {
		start := len(args)
		var r rendered
		ok := false
		if i > 0 {
			r, ok = s.renderLike(ctx, &us[i-1], &rs[i-1], &us[i], args)
		}
		if !ok {
			r = s.renderMemo(ctx, us[i], b.shape, args, &b.last)
			b.shape = r.shape
		}
		args = r.args
		r.args = args[start:len(args):len(args)]
		rs = append(rs, r)
	}
	b.rs, b.args = rs, args
	s.writeMu.Lock()
	err := s.inTx(ctx, func(w *writer) error {
		unchanged, err := w.execRows(ctx, rs)
		if err != nil {
			return err
		}
		for _, i := range unchanged {
			rs[i].err = s.classify(ctx, w, rs[i])
		}
		return ctx.Err()
	})
	s.writeMu.Unlock()
	errs := make([]error, len(us))
	for i := range rs {
		e := rs[i].err
		if e == nil {
			e = err // rolled back: nothing applied
		}
		if e == nil {
			continue
		}
		errs[i] = fmt.Errorf("update %s %s: %w", s.table, s.keyText(us[i].Key), e)
	}
	return errs
}

// batch is UpdateBatch's scratch space, recycled between calls: the
// rendered statements and one array their arguments are cut from.
type batch struct {
	rs    []rendered
	args  []any
	shape []byte
	last  shapeMemo
}

// shapeMemo is the last shape rendered and its SQL: a batch's rows
// usually share one shape, and comparing it with the last one costs less
// than hashing it into the schema's cache under its lock.
type shapeMemo struct {
	sc    *schema
	shape []byte
	q     string
}

// batchCache keeps a store's batch scratch spaces between calls: one per
// UpdateBatch in flight at once (a migrate segment each), so a page's
// statements and arguments are cut from arrays that outlive it rather
// than from a sync.Pool, which every garbage collection empties (one
// every few thousand rows while a step runs).
type batchCache struct {
	mu   sync.Mutex
	free []*batch
}

// maxCachedBatches bounds the scratch spaces a store keeps.
const maxCachedBatches = 4

func (c *batchCache) get() *batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.free); n > 0 {
		b := c.free[n-1]
		c.free = c.free[:n-1]
		return b
	}
	return new(batch)
}

// put clears what in b refers to the caller's items and keeps b.
func (c *batchCache) put(b *batch) {
	clear(b.rs)
	clear(b.args)
	b.rs, b.args = b.rs[:0], b.args[:0]
	b.last.sc = nil // a schema may be replaced
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.free) < maxCachedBatches {
		c.free = append(c.free, b)
	}
}

// rendered is one update rendered as SQL, ready to run.
type rendered struct {
	sc    *schema
	key   engine.Item
	q     string
	args  []any
	shape []byte // scratch buffer, reusable once q is known
	err   error
}

// render turns u into its UPDATE statement and arguments. The arguments
// are appended to args, and the result's args is the extended slice; buf
// is a scratch buffer it may reuse.
func (s *Store) render(ctx context.Context, u engine.Update, buf []byte, args []any) rendered {
	return s.renderMemo(ctx, u, buf, args, nil)
}

// renderMemo is render with a memo of the last shape (nil: none).
func (s *Store) renderMemo(ctx context.Context, u engine.Update, buf []byte, args []any, memo *shapeMemo) rendered {
	sc, err := s.schemaFor(ctx, u)
	if err != nil {
		if errors.Is(err, ErrNoColumn) {
			err = engine.Rejected(err) // the table still lacks it after a re-read
		}
		return rendered{err: err, shape: buf, args: args}
	}
	q, args, shape, err := s.buildUpdate(sc, u, buf, args, memo)
	// A value SQLite cannot hold, or a change to the key: the same again.
	return rendered{sc: sc, key: u.Key, q: q, args: args, shape: shape, err: engine.Rejected(err)}
}

// execer is what *sql.DB and *sql.Tx share for writes.
type execer interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// apply runs a rendered update on x. When it changes no row, classify
// says why.
func (s *Store) apply(ctx context.Context, x execer, r rendered) error {
	res, err := x.ExecContext(ctx, r.q, r.args...)
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
	return s.classify(ctx, x, r)
}

// classify tells, for an update that changed no row, a missing item from
// a failed guard (both wrap engine.ErrConditionFailed).
func (s *Store) classify(ctx context.Context, x execer, r rendered) error {
	cond, kargs, _ := r.sc.keyWhere(r.key) // built once already in buildUpdate
	var one int
	err := x.QueryRowContext(ctx, "SELECT 1 FROM "+quote(s.table)+" WHERE "+cond, kargs...).Scan(&one)
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
	for _, a := range u.Set {
		ok = ok && sc.has(a.Name)
	}
	if ok {
		return sc, nil
	}
	cols := make([]string, 0, len(u.Set)+1)
	for _, a := range u.Set {
		cols = append(cols, a.Name)
	}
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
// reused. buf is scratch space for the shape; it is returned for reuse.
func (s *Store) buildUpdate(sc *schema, u engine.Update, buf []byte, args []any, memo *shapeMemo) (string, []any, []byte, error) {
	shape, args, err := s.renderUpdate(sc, u, nil, buf, args)
	if err != nil {
		return "", args, shape, err
	}
	if memo != nil && memo.sc == sc && bytes.Equal(memo.shape, shape) {
		return memo.q, args, shape, nil
	}
	q := s.updateSQL(sc, u, shape)
	if memo != nil {
		memo.sc, memo.shape, memo.q = sc, append(memo.shape[:0], shape...), q
	}
	return q, args, shape, nil
}

// updateSQL returns the SQL text of u's shape from the schema's cache,
// rendering and caching it on a miss.
func (s *Store) updateSQL(sc *schema, u engine.Update, shape []byte) string {
	sc.mu.Lock()
	q, ok := sc.updates[string(shape)]
	sc.mu.Unlock()
	if ok {
		return q
	}
	var p updateParts
	s.renderUpdate(sc, u, &p, nil, nil)
	q = "UPDATE " + quote(s.table) + " SET " + strings.Join(p.sets, ", ") + " WHERE " + strings.Join(p.where, " AND ")
	sc.mu.Lock()
	if len(sc.updates) < maxStmts {
		sc.updates[string(shape)] = q
	}
	sc.mu.Unlock()
	return q
}

// updateParts are the SET and WHERE fragments of an UPDATE; a nil
// *updateParts renders nothing (the cache-hit path allocates no SQL, and
// callers skip quoting names for it).
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

// addInt records a fragment that holds the number n in its SQL text.
func (s *shapeBuilder) addInt(tag byte, n int64) {
	s.b = append(s.b, tag)
	s.b = strconv.AppendInt(s.b, n, 10)
	s.b = append(s.b, 0)
}

// renderUpdate walks u in SQL order: it appends the arguments to args,
// returns a shape string that identifies the SQL text, and fills p (when
// not nil) with the SQL fragments. On error args comes back unextended.
// Versions are written into the SQL text (integers: a step's rows share
// them) and a guard on a NULL column reads IS NULL: every argument bound
// is a call into SQLite, and these need none.
func (s *Store) renderUpdate(sc *schema, u engine.Update, p *updateParts, buf []byte, args []any) ([]byte, []any, error) {
	shape := shapeBuilder{b: buf[:0]}
	start := len(args)
	v := sc.versionQ
	if va := u.Guard.VersionAttr; va != "" && va != s.versionAttr {
		v = quote(va)
		shape.add('A', va)
	}
	nsets := 0
	for _, a := range u.Set {
		c := a.Name
		if slices.Contains(sc.key, c) {
			return nil, args[:start], fmt.Errorf("attribute %q is part of the key and cannot be changed", c)
		}
		b, err := bindValue(a.Value)
		if err != nil {
			return nil, args[:start], fmt.Errorf("attribute %q: %w", c, err)
		}
		shape.add('s', c)
		if p != nil {
			p.set(quote(c), " = ?")
		}
		args = append(args, b)
		nsets++
	}
	if len(u.Remove) > 0 {
		for _, c := range slices.Sorted(slices.Values(u.Remove)) {
			if _, set := engine.LookupAttr(u.Set, c); !set && sc.has(c) && !slices.Contains(sc.key, c) {
				shape.add('r', c)
				if p != nil {
					p.set(quote(c), " = NULL")
				}
				nsets++
			}
		}
	}
	switch {
	case u.Version != 0:
		shape.addInt('V', u.Version)
		if p != nil {
			p.set(v, " = ", strconv.FormatInt(u.Version, 10))
		}
		nsets++
	case u.Guard.Equals != 0: // rollback to version 0: no version at all
		shape.add('N', "")
		p.set(v, " = NULL")
		nsets++
	}
	if nsets == 0 { // nothing to change: still check the guard
		if p != nil {
			p.set(quote(sc.key[0]), " = ", quote(sc.key[0]))
		}
	}
	for _, k := range sc.key {
		val, ok := u.Key[k]
		if !ok {
			return nil, args[:start], fmt.Errorf("key attribute %q missing", k)
		}
		b, err := bindValue(val)
		if err != nil {
			return nil, args[:start], fmt.Errorf("key attribute %q: %w", k, err)
		}
		if p != nil {
			p.cond(quote(k), " = ?")
		}
		args = append(args, b)
	}
	if u.Guard.Below != 0 {
		shape.addInt('B', u.Guard.Below)
		if p != nil {
			p.cond("(", v, " IS NULL OR ", v, " < ", strconv.FormatInt(u.Guard.Below, 10), ")")
		}
	}
	if u.Guard.Equals != 0 {
		shape.addInt('E', u.Guard.Equals)
		if p != nil {
			p.cond(v, " = ", strconv.FormatInt(u.Guard.Equals, 10))
		}
	}
	for _, a := range u.Guard.Unchanged {
		c, val := a.Name, a.Value
		if !sc.has(c) { // an absent column is an absent attribute
			if val != nil {
				shape.add('0', "")
				p.cond("0")
			}
			continue
		}
		if val == nil { // absent or NULL: the column is NULL
			shape.add('n', c)
			if p != nil {
				p.cond(quote(c), " IS NULL")
			}
			continue
		}
		b, err := bindValue(val)
		if err != nil {
			return nil, args[:start], fmt.Errorf("guard attribute %q: %w", c, err)
		}
		shape.add('u', c)
		if p != nil {
			p.cond(quote(c), " IS ?")
		}
		args = append(args, b)
	}
	return shape.b, args, nil
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
		case sqlite3.ErrConstraint, sqlite3.ErrMismatch, sqlite3.ErrTooBig, sqlite3.ErrRange:
			return engine.Rejected(err)
		}
		if strings.Contains(se.Error(), "no such column") {
			return engine.Rejected(fmt.Errorf("%w: %w", ErrNoColumn, err))
		}
	}
	return err
}

// keyText renders the key attributes of key for messages: {id=7}. key
// may hold other attributes (engine.Update.Key); they are left out.
func (s *Store) keyText(key engine.Item) string {
	s.mu.Lock()
	sc := s.schema
	s.mu.Unlock()
	if sc != nil {
		key = engine.KeyOf(key, sc.key)
	}
	return engine.KeyText(key)
}
