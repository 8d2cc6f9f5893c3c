package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

var (
	_ engine.Pushdowner = (*Store)(nil)
	_ engine.RangeKeyer = (*Store)(nil)
)

// SQLDialect implements engine.Pushdowner.
func (s *Store) SQLDialect() sqlexpr.Dialect { return sqlexpr.SQLite }

// PushdownPage implements engine.Pushdowner. In one write transaction it
// finds the page's range (the req.Limit first rows of the segment after
// the cursor, by Scan's order and segmentation) and the version of its
// last row (pageEnd), and writes it with one guarded
//
//	UPDATE t SET … , v = target WHERE <segment> AND key > cursor AND
//	key <= upper AND <v is the last row's version> AND <where> AND
//	<set exact> AND NOT <unchanged>
//
// whose row count alone proves the page's classes when it is the page's
// row count (pushPredicted): every row was a plain write from that
// version, with values computed exactly. Otherwise (a short page, or
// rows of other classes) the page is rolled back to before the UPDATE
// and counted first: one light aggregate when all its rows are writes
// (pageSummary, pushAllWrites), by class otherwise (pushClassified),
// then written with one UPDATE checking that the values are exact. A
// shortfall there rolls the page back and it goes per row. beforeWrite
// runs after the UPDATE and before the commit: its rows are durable, and
// visible, when the transaction commits, after the checkpoint.
func (s *Store) PushdownPage(ctx context.Context, req engine.PushdownRequest, beforeWrite func(engine.PushdownPlan) error) (engine.PushdownResult, error) {
	total := max(req.TotalSegments, 1)
	limit := req.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	tr := req.Migrate
	sc, err := s.scanSchema(ctx, req.Cursor == nil)
	if err != nil {
		return engine.PushdownResult{}, fmt.Errorf("pushdown %s: %w", s.table, err)
	}
	for _, cols := range [][]string{tr.Reads, tr.Writes, {req.VersionAttr}} {
		for _, c := range cols {
			if !sc.has(c) {
				return engine.PushdownResult{Fallback: fmt.Sprintf("the table has no column %q", c)}, nil
			}
		}
	}
	where := []string{sc.segmentFilter(req.Segment, total)}
	var args []any
	if req.Cursor != nil {
		cond, cargs, err := sc.afterCursor(req.Cursor, req.Segment, total)
		if err != nil {
			return engine.PushdownResult{}, fmt.Errorf("pushdown %s: %w", s.table, err)
		}
		where, args = append(where, cond), cargs
	}
	var res engine.PushdownResult
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	err = s.inTx(ctx, func(w *writer) error {
		end, err := s.pageEnd(ctx, w, sc, req, where, args, limit)
		if err != nil {
			return err
		}
		rng, rargs := where, args
		if end.upper != nil {
			marks := strings.Repeat(", ?", len(sc.key))[2:]
			rng = append(append([]string{}, where...), "("+sc.keyList()+") <= ("+marks+")")
			rargs = append(append([]any{}, args...), end.upper...)
			if res.Next, err = s.pushdownCursor(sc, req.Segment, total, end.upper); err != nil {
				return err
			}
			done, err := s.pushPredicted(ctx, w, req, rng, rargs, int64(limit), end.version, &res, beforeWrite)
			if done || err != nil {
				return err
			}
		}
		sum, err := s.pageSummary(ctx, w, req, rng, rargs)
		if err != nil {
			return err
		}
		if sum.rows > 0 && sum.others == 0 {
			return s.pushAllWrites(ctx, w, req, rng, rargs, sum, &res, beforeWrite)
		}
		return s.pushClassified(ctx, w, sc, req, rng, rargs, &res, beforeWrite)
	})
	if errors.Is(err, engine.ErrInexactPage) {
		return engine.PushdownResult{Fallback: res.Fallback}, nil
	}
	if err != nil {
		return engine.PushdownResult{}, fmt.Errorf("pushdown %s segment %d: %w", s.table, req.Segment, err)
	}
	return res, nil
}

// pushdownCursor is Scan's cursor after the row with key values upper.
func (s *Store) pushdownCursor(sc *schema, seg, total int, upper []any) ([]byte, error) {
	key := make(engine.Item, len(sc.key))
	for i, k := range sc.key {
		key[k] = readValue(upper[i])
	}
	c := cursor{Segment: seg, Total: total, After: mustMarshal(key)}
	if sc.intKey && total > 1 {
		c.Block = segmentBlock
	}
	return json.Marshal(c)
}

// pushdownClass is the SQL of a row's class: what the per-row path would
// do with it, or engine.ClassPerRow where where is not exact (or the version is
// not an integer: the per-row path reports it). Whether the values are
// exact is left to the UPDATE (see PushdownPage): on a row where they are
// not, Unchanged may be wrong, and the page goes per row.
func pushdownClass(req engine.PushdownRequest) string {
	v := quote(req.VersionAttr)
	t := strconv.FormatInt(req.Target, 10)
	tr := req.Migrate
	return "CASE WHEN typeof(" + v + ") NOT IN ('integer', 'null') THEN 3" +
		" WHEN coalesce(" + v + ", 0) >= " + t + " THEN 0" +
		" WHEN NOT " + tr.WhereOK + " THEN 3" +
		" WHEN NOT " + tr.Where + " THEN 1" +
		" WHEN " + tr.Unchanged + " THEN 4 ELSE 2 END"
}

// classCounts counts the rows of the range by class, and the versions of
// those it writes: the class of each row once, then one pass over them
// without a sort (a GROUP BY on the class sorted every page).
func (s *Store) classCounts(ctx context.Context, w *writer, sc *schema, req engine.PushdownRequest, where []string, args []any) (engine.PageClasses, error) {
	var out engine.PageClasses
	cols := make([]string, 0, len(out.N)+4)
	ptrs := make([]any, 0, cap(cols))
	for i := range out.N {
		cols = append(cols, fmt.Sprintf("coalesce(sum(c = %d), 0)", i))
		ptrs = append(ptrs, &out.N[i])
	}
	t := strconv.FormatInt(req.Target, 10)
	cols = append(cols, "coalesce(sum(c IN (2, 4) AND p IS NULL), 0)", "min(CASE WHEN c IN (2, 4) THEN p END)",
		"max(CASE WHEN c IN (2, 4) THEN p END)", "coalesce(sum(c = 0 AND p = "+t+"), 0)")
	ptrs = append(ptrs, &out.NoVersion, &out.Lo, &out.Hi, &out.AtTarget)
	p := quote(req.VersionAttr)
	if req.Target == 1 {
		p = "coalesce(" + p + ", 0)" // no version is version 0 here
	}
	// MATERIALIZED: flattened, the class would be computed once per sum.
	q := "WITH k AS MATERIALIZED (SELECT " + pushdownClass(req) + " AS c, " + p + " AS p FROM " + quote(s.table) +
		" WHERE " + strings.Join(where, " AND ") + ") SELECT " + strings.Join(cols, ", ") + " FROM k"
	if err := w.QueryRowContext(ctx, q, args...).Scan(ptrs...); err != nil {
		return out, translate(err)
	}
	return out, nil
}

// RangeKeys implements engine.RangeKeyer: the keys of the segment's rows
// after r.After up to r.Upto's row, in key order.
func (s *Store) RangeKeys(ctx context.Context, r engine.KeyRange, fn func(key engine.Item) error) error {
	total := max(r.TotalSegments, 1)
	sc, err := s.scanSchema(ctx, true)
	if err != nil {
		return fmt.Errorf("range keys of %s: %w", s.table, err)
	}
	where := []string{sc.segmentFilter(r.Segment, total)}
	var args []any
	for _, b := range []struct {
		raw []byte
		op  string
	}{{r.After, ") > ("}, {r.Upto, ") <= ("}} {
		if b.raw == nil {
			continue
		}
		cond, cargs, err := sc.afterCursor(b.raw, r.Segment, total) // "(k…) > (?…)"
		if err != nil {
			return fmt.Errorf("range keys of %s: %w", s.table, err)
		}
		where, args = append(where, strings.Replace(cond, ") > (", b.op, 1)), append(args, cargs...)
	}
	q := "SELECT " + sc.projection(sc.key) + " FROM " + quote(s.table) + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + sc.keyList()
	keys, err := s.query(ctx, q, 0, args...)
	if err != nil {
		return fmt.Errorf("range keys of %s segment %d: %w", s.table, r.Segment, err)
	}
	for _, k := range keys {
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// pushdownUpdate runs the page's UPDATE over the rows where conds hold
// (the range and a version guard), the step's where and its values are
// exact, and returns its count. On a counted page the range holds no
// engine.ClassPerRow row, so where is exact on every row below the
// target version; the rows it changes are those of engine.ClassWrite and
// engine.ClassUnchanged whose values are exact.
func (s *Store) pushdownUpdate(ctx context.Context, w *writer, req engine.PushdownRequest, conds []string, args []any) (int64, error) {
	tr := req.Migrate
	sets := make([]string, 0, len(tr.Set)+1)
	for _, a := range tr.Set {
		sets = append(sets, quote(a.Column)+" = "+a.SQL)
	}
	sets = append(sets, quote(req.VersionAttr)+" = "+strconv.FormatInt(req.Target, 10))
	q := "UPDATE " + quote(s.table) + " SET " + strings.Join(sets, ", ") +
		" WHERE " + strings.Join(conds, " AND ") + " AND " + tr.Where + " AND " + tr.SetOK
	res, err := w.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return n, translate(err)
}

// belowTarget is the version guard of a counted page's UPDATE.
func belowTarget(req engine.PushdownRequest) string {
	return "coalesce(" + quote(req.VersionAttr) + ", 0) < " + strconv.FormatInt(req.Target, 10)
}
