package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

var _ engine.Pushdowner = (*Store)(nil)

// SQLDialect implements engine.Pushdowner.
func (s *Store) SQLDialect() sqlexpr.Dialect { return sqlexpr.SQLite }

// Row classes of a pushdown page (see pushdownClass).
const (
	classAlready    = 0
	classNotMatched = 1
	classWrite      = 2
	classPerRow     = 3
	classUnchanged  = 4
)

// PushdownPage implements engine.Pushdowner. In one write transaction it
// finds the page's upper key (the req.Limit-th key of the segment after
// the cursor, by Scan's order and segmentation), counts the range's rows
// by class in one aggregate query, calls beforeWrite, and runs
//
//	UPDATE t SET … , v = target WHERE <segment> AND key > cursor AND
//	key <= upper AND coalesce(v, 0) < target AND <where>
//
// whose changed-row count is the page's migrated count.
func (s *Store) PushdownPage(ctx context.Context, req engine.PushdownRequest, beforeWrite func(rows, writes int64) error) (engine.PushdownResult, error) {
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
		upper, err := s.upperKey(ctx, w, sc, where, args, limit)
		if err != nil {
			return err
		}
		rng, rargs := where, args
		if upper != nil {
			marks := strings.Repeat(", ?", len(sc.key))[2:]
			rng = append(append([]string{}, where...), "("+sc.keyList()+") <= ("+marks+")")
			rargs = append(append([]any{}, args...), upper...)
			if res.Next, err = s.pushdownCursor(sc, req.Segment, total, upper); err != nil {
				return err
			}
		}
		counts, err := s.classCounts(ctx, w, sc, req, rng, rargs)
		if err != nil {
			return err
		}
		res.Already, res.NotMatched = counts[classAlready], counts[classNotMatched]
		for _, n := range counts {
			res.Scanned += n
		}
		if n := counts[classPerRow]; n > 0 {
			res.Fallback = fmt.Sprintf("%d row(s) hold values the SQL translation is not exact for", n)
			return nil
		}
		writes := counts[classWrite] + counts[classUnchanged]
		if err := beforeWrite(res.Scanned, writes); err != nil {
			return err
		}
		if writes == 0 {
			return nil
		}
		n, err := s.pushdownUpdate(ctx, w, req, rng, rargs)
		if err != nil {
			return err
		}
		if n != writes { // cannot happen inside one transaction
			return fmt.Errorf("pushdown %s: the UPDATE changed %d rows, %d planned", s.table, n, writes)
		}
		res.Migrated, res.Unchanged = counts[classWrite], counts[classUnchanged]
		return nil
	})
	if err != nil {
		return engine.PushdownResult{}, fmt.Errorf("pushdown %s segment %d: %w", s.table, req.Segment, err)
	}
	return res, nil
}

// upperKey returns the key of the limit-th row after the cursor, nil when
// the segment has fewer rows left (the page runs to its end).
func (s *Store) upperKey(ctx context.Context, w *writer, sc *schema, where []string, args []any, limit int) ([]any, error) {
	q := "SELECT " + sc.keyList() + " FROM " + quote(s.table) + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + sc.keyList() + " LIMIT 1 OFFSET " + strconv.Itoa(limit-1)
	key := make([]any, len(sc.key))
	ptrs := make([]any, len(key))
	for i := range key {
		ptrs[i] = &key[i]
	}
	err := w.QueryRowContext(ctx, q, args...).Scan(ptrs...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, translate(err)
	}
	return key, nil
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
// do with it, or classPerRow where the translation is not exact (or the
// version is not an integer: the per-row path reports it). A row the step
// would write from a version other than the one before its target (or
// from none, past version 1) also goes per row: the per-row path records
// that version in the page's intent, so that a rollback puts it back
// (engine/rollback_origins.go); one UPDATE per range records no keys.
func pushdownClass(req engine.PushdownRequest) string {
	v := quote(req.VersionAttr)
	t := strconv.FormatInt(req.Target, 10)
	prev := strconv.FormatInt(req.Target-1, 10)
	tr := req.Migrate
	return "CASE WHEN typeof(" + v + ") NOT IN ('integer', 'null') THEN 3" +
		" WHEN coalesce(" + v + ", 0) >= " + t + " THEN 0" +
		" WHEN NOT " + tr.WhereOK + " THEN 3" +
		" WHEN NOT " + tr.Where + " THEN 1" +
		" WHEN coalesce(" + v + ", 0) <> " + prev + " THEN 3" +
		" WHEN NOT " + tr.SetOK + " THEN 3" +
		" WHEN " + tr.Unchanged + " THEN 4 ELSE 2 END"
}

// classCounts counts the rows of the range by class: the class of each
// row once, then one pass over them without a sort (a GROUP BY on the
// class sorted every page).
func (s *Store) classCounts(ctx context.Context, w *writer, sc *schema, req engine.PushdownRequest, where []string, args []any) ([5]int64, error) {
	var out [5]int64
	sums := make([]string, len(out))
	for i := range out {
		sums[i] = fmt.Sprintf("coalesce(sum(c = %d), 0)", i)
	}
	// MATERIALIZED: flattened, the class would be computed once per sum.
	q := "WITH k AS MATERIALIZED (SELECT " + pushdownClass(req) + " AS c FROM " + quote(s.table) +
		" WHERE " + strings.Join(where, " AND ") + ") SELECT " + strings.Join(sums, ", ") + " FROM k"
	ptrs := make([]any, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	if err := w.QueryRowContext(ctx, q, args...).Scan(ptrs...); err != nil {
		return out, translate(err)
	}
	return out, nil
}

// pushdownUpdate runs the page's guarded UPDATE and returns its count.
// The rows it changes are exactly the range's classWrite rows: the range
// holds no classPerRow row, so on every row below the target version the
// where is exact, and on every row it selects the values are.
func (s *Store) pushdownUpdate(ctx context.Context, w *writer, req engine.PushdownRequest, where []string, args []any) (int64, error) {
	tr := req.Migrate
	v := quote(req.VersionAttr)
	t := strconv.FormatInt(req.Target, 10)
	sets := make([]string, 0, len(tr.Set)+1)
	for _, a := range tr.Set {
		sets = append(sets, quote(a.Column)+" = "+a.SQL)
	}
	sets = append(sets, v+" = "+t)
	q := "UPDATE " + quote(s.table) + " SET " + strings.Join(sets, ", ") +
		" WHERE " + strings.Join(where, " AND ") + " AND coalesce(" + v + ", 0) < " + t + " AND " + tr.Where
	res, err := w.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return n, translate(err)
}
