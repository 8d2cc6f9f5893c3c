package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

var (
	_ engine.Pushdowner = (*Store)(nil)
	_ engine.RangeKeyer = (*Store)(nil)
)

// SQLDialect implements engine.Pushdowner.
func (s *Store) SQLDialect() sqlexpr.Dialect { return sqlexpr.Postgres }

// PushdownPage implements engine.Pushdowner. The step's expressions are
// translated for the table's column types (sqlexpr.Migrate.ForTypes);
// then, in one repeatable-read transaction that first checks the lease
// fences ctx carries, a page of a single segment is written on a
// prediction (pushPredicted: its last row read through the key index,
// then one UPDATE writing only plain writes from that row's version,
// whose row count alone proves the page's counts when it is the page's
// row count). Any other page, or one the prediction does not hold for,
// is counted first: one query (pageCounts) finds the page's upper key
// (the req.Limit-th key of the segment after the cursor, by Scan's order
// and segmentation) and counts the range's rows by class; then it runs
//
//	UPDATE t SET … , v = target WHERE <segment> AND key > cursor AND
//	key <= upper AND coalesce(v, 0) < target AND <where> AND <set exact>
//
// whose row count is the page's writes. beforeWrite runs after the
// UPDATE, then the transaction commits. As in the SQLite store, the
// UPDATE checks that the values are exact, and a page where it changed
// fewer rows than where selects is rolled back and goes per row.
func (s *Store) PushdownPage(ctx context.Context, req engine.PushdownRequest, beforeWrite func(engine.PushdownPlan) error) (engine.PushdownResult, error) {
	total := max(req.TotalSegments, 1)
	limit := req.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	sc, err := s.currentSchema(ctx)
	if req.Cursor == nil {
		sc, err = s.loadSchema(ctx)
	}
	if err != nil {
		return engine.PushdownResult{}, fmt.Errorf("pushdown %s: %w", s.table, err)
	}
	for _, cols := range [][]string{req.Migrate.Reads, req.Migrate.Writes, {req.VersionAttr}} {
		for _, c := range cols {
			if !sc.has(c) {
				return engine.PushdownResult{Fallback: fmt.Sprintf("the table has no column %q", c)}, nil
			}
		}
	}
	if vc, _ := sc.col(req.VersionAttr); columnOf(vc).Type != sqlexpr.TypeInt {
		return engine.PushdownResult{Fallback: fmt.Sprintf("the version column %q is of type %s, not an integer type", req.VersionAttr, vc.typ)}, nil
	}
	tr, err := req.Migrate.ForTypes(func(name string) (sqlexpr.Column, bool) {
		c, ok := sc.col(name)
		return columnOf(c), ok
	})
	if errors.Is(err, sqlexpr.ErrUntranslatable) {
		return engine.PushdownResult{Fallback: strings.Replace(err.Error(), sqlexpr.ErrUntranslatable.Error()+": ", "", 1)}, nil
	}
	if err != nil {
		return engine.PushdownResult{}, fmt.Errorf("pushdown %s: %w", s.table, err)
	}
	where := []string{sc.segmentFilter(req.Segment, total)}
	var args []any
	after := ""
	if req.Cursor != nil {
		cond, cargs, err := sc.afterCursor(req.Cursor, req.Segment, total)
		if err != nil {
			return engine.PushdownResult{}, fmt.Errorf("pushdown %s: %w", s.table, err)
		}
		where, args, after = append(where, cond), cargs, cond
	}
	var res engine.PushdownResult
	// Repeatable read: the UPDATE sees the rows the counts saw; a
	// concurrent write to one of them fails the page (serialization
	// failure), which then runs per row, each row's guard deciding.
	page := func(predict bool) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			if err := s.checkFences(ctx, tx); err != nil {
				return err
			}
			if predict {
				if done, err := s.pushPredicted(ctx, tx, sc, tr, req, after, args, limit, &res, beforeWrite); done || err != nil {
					return err
				}
			}
			return s.pushCounted(ctx, tx, sc, tr, req, total, where, args, after, limit, &res, beforeWrite)
		}
	}
	run := func(predict bool) error {
		res = engine.PushdownResult{}
		return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			return probed(ctx, tx, page(predict))
		})
	}
	// A single segment's page is a key range of the table: its last row
	// is one index read away, and the page is written on a prediction
	// first (pushPredicted).
	err = run(total == 1)
	if errors.Is(err, errMispredicted) {
		err = run(false)
	}
	if errors.Is(err, engine.ErrInexactPage) {
		return engine.PushdownResult{Fallback: res.Fallback}, nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "40001" {
		return engine.PushdownResult{Fallback: "a concurrent write to the page's rows"}, nil
	}
	if err != nil {
		return engine.PushdownResult{}, fmt.Errorf("pushdown %s segment %d: %w", s.table, req.Segment, translate(err))
	}
	return res, nil
}

// pushCounted counts the page's rows by class (pageCounts), then writes
// those it writes with one UPDATE, or says in res why the page goes per
// row.
func (s *Store) pushCounted(ctx context.Context, tx pgx.Tx, sc *schema, tr *sqlexpr.Migrate, req engine.PushdownRequest, total int,
	where []string, args []any, after string, limit int, res *engine.PushdownResult, beforeWrite func(engine.PushdownPlan) error) error {
	counts, upper, err := s.pageCounts(ctx, tx, sc, tr, req, total, after, args, limit)
	if err != nil {
		return err
	}
	rng, rargs := where, args
	if upper != nil {
		cond, uargs, err := sc.keyBound(upper, "<=", len(args)+1)
		if err != nil {
			return err
		}
		rng, rargs = append(append([]string{}, where...), cond), append(append([]any{}, args...), uargs...)
		if res.Next, err = sc.nextCursor(req.Segment, total, upper); err != nil {
			return err
		}
	}
	return engine.WritePage(res, counts, req.Target, func() (int64, error) { return s.pushdownUpdate(ctx, tx, tr, req, rng, rargs) }, beforeWrite)
}

// nextCursor is the Scan cursor after the row with key upper.
func (sc *schema) nextCursor(seg, total int, upper engine.Item) ([]byte, error) {
	after, err := engine.MarshalItem(upper)
	if err != nil {
		return nil, err
	}
	return json.Marshal(cursor{Segment: seg, Total: total, Split: sc.split(), After: after})
}

// columnOf is what the translation knows of column c's type.
func columnOf(c column) sqlexpr.Column {
	switch {
	case c.typ == "text", c.typ == "character varying":
		return sqlexpr.Column{Type: sqlexpr.TypeText}
	case strings.HasPrefix(c.typ, "character varying("):
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(c.typ, "character varying("), ")"))
		if err != nil || n <= 0 {
			return sqlexpr.Column{}
		}
		return sqlexpr.Column{Type: sqlexpr.TypeText, MaxLen: n}
	case c.typ == "smallint":
		return sqlexpr.Column{Type: sqlexpr.TypeInt, IntBits: 16}
	case c.typ == "integer":
		return sqlexpr.Column{Type: sqlexpr.TypeInt, IntBits: 32}
	case c.typ == "bigint":
		return sqlexpr.Column{Type: sqlexpr.TypeInt, IntBits: 64}
	case c.typ == "double precision":
		return sqlexpr.Column{Type: sqlexpr.TypeFloat}
	case c.typ == "boolean":
		return sqlexpr.Column{Type: sqlexpr.TypeBool}
	}
	return sqlexpr.Column{} // numeric, real, dates, json, arrays, …: per row
}

// keyBound is "(key columns) op (key)", its placeholders numbered from
// first.
func (sc *schema) keyBound(key engine.Item, op string, first int) (string, []any, error) {
	marks := make([]string, len(sc.key))
	args := make([]any, len(sc.key))
	for i, k := range sc.key {
		c, _ := sc.col(k)
		var err error
		if args[i], marks[i], err = bindValue(c, key[k], "$"+strconv.Itoa(first+i)); err != nil {
			return "", nil, fmt.Errorf("key attribute %q: %w", k, err)
		}
	}
	return "(" + sc.keyList() + ") " + op + " (" + strings.Join(marks, ", ") + ")", args, nil
}

// pushdownClass is the SQL of a row's class: what the per-row path would
// do with it, or engine.ClassPerRow where where is not exact. The CASE
// evaluates each condition only on the rows the ones before it let
// through, so where is evaluated where it is exact; Unchanged computes
// a value only where the values are exact (sqlexpr.Migrate.ForTypes),
// which the UPDATE checks (see PushdownPage).
func pushdownClass(tr *sqlexpr.Migrate, req engine.PushdownRequest) string {
	v := quote(req.VersionAttr)
	t := strconv.FormatInt(req.Target, 10)
	return "CASE WHEN coalesce(" + v + ", 0) >= " + t + " THEN 0" +
		" WHEN NOT " + tr.WhereOK + " THEN 3" +
		" WHEN NOT " + tr.Where + " THEN 1" +
		" WHEN " + tr.Unchanged + " THEN 4 ELSE 2 END"
}

// pushdownUpdate runs the page's guarded UPDATE and returns its count.
// The range holds no engine.ClassPerRow row, so where is exact on every row
// below the target version, and the values on every row it selects; the
// CASE keeps where from being evaluated on the others.
func (s *Store) pushdownUpdate(ctx context.Context, tx pgx.Tx, tr *sqlexpr.Migrate, req engine.PushdownRequest, where []string, args []any) (int64, error) {
	conds := append(where[:len(where):len(where)], "coalesce("+quote(req.VersionAttr)+", 0) < "+strconv.FormatInt(req.Target, 10),
		"CASE WHEN "+tr.WhereOK+" THEN "+tr.Where+" ELSE FALSE END", tr.SetOK)
	return s.updateWhere(ctx, tx, tr, req, conds, args)
}

// updateWhere runs the step's UPDATE on the rows where conds all hold
// and returns its count.
func (s *Store) updateWhere(ctx context.Context, tx pgx.Tx, tr *sqlexpr.Migrate, req engine.PushdownRequest, conds []string, args []any) (int64, error) {
	sets := make([]string, 0, len(tr.Set)+1)
	for _, a := range tr.Set {
		sets = append(sets, quote(a.Column)+" = "+a.SQL)
	}
	sets = append(sets, quote(req.VersionAttr)+" = "+strconv.FormatInt(req.Target, 10))
	q := "UPDATE " + s.qualified() + " SET " + strings.Join(sets, ", ") + " WHERE " + strings.Join(conds, " AND ")
	tag, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return 0, translate(err)
	}
	return tag.RowsAffected(), nil
}

// RangeKeys implements engine.RangeKeyer: the keys of the segment's rows
// after r.After up to r.Upto's row, in key order.
func (s *Store) RangeKeys(ctx context.Context, r engine.KeyRange, fn func(key engine.Item) error) error {
	total := max(r.TotalSegments, 1)
	sc, err := s.loadSchema(ctx)
	if err != nil {
		return fmt.Errorf("range keys of %s: %w", s.table, err)
	}
	where := []string{sc.segmentFilter(r.Segment, total)}
	var args []any
	if r.After != nil {
		cond, cargs, err := sc.afterCursor(r.After, r.Segment, total)
		if err != nil {
			return fmt.Errorf("range keys of %s: %w", s.table, err)
		}
		where, args = append(where, cond), cargs
	}
	if r.Upto != nil {
		var c cursor
		if err := json.Unmarshal(r.Upto, &c); err != nil {
			return fmt.Errorf("range keys of %s: bad cursor: %w", s.table, err)
		}
		key, err := engine.UnmarshalItem(c.After)
		if err != nil {
			return fmt.Errorf("range keys of %s: bad cursor: %w", s.table, err)
		}
		cond, uargs, err := sc.keyBound(key, "<=", len(args)+1)
		if err != nil {
			return fmt.Errorf("range keys of %s: %w", s.table, err)
		}
		where, args = append(where, cond), append(args, uargs...)
	}
	sel := make([]string, len(sc.key))
	cols := make([]column, len(sc.key))
	for i, k := range sc.key {
		cols[i], _ = sc.col(k)
		sel[i] = cols[i].selectExpr()
	}
	rows, err := s.pool.Query(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+s.qualified()+" WHERE "+
		strings.Join(where, " AND ")+" ORDER BY "+sc.orderList(s.qualified()), args...)
	if err != nil {
		return fmt.Errorf("range keys of %s: %w", s.table, translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return fmt.Errorf("range keys of %s: %w", s.table, translate(err))
		}
		key, err := keyItem(cols, vals)
		if err != nil {
			return fmt.Errorf("range keys of %s: %w", s.table, err)
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("range keys of %s: %w", s.table, translate(err))
	}
	return nil
}
