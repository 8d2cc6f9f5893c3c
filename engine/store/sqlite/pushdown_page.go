package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

// pageEndRow is the last row of a full page: its key values (nil when
// the segment has fewer than the page's rows left: the page runs to its
// end) and its version.
type pageEndRow struct {
	upper   []any
	version any
}

// pageEnd reads the key and the version of the limit-th row of the
// segment after the cursor: through the key index, reading no other
// column of the rows before it.
func (s *Store) pageEnd(ctx context.Context, w *writer, sc *schema, req engine.PushdownRequest, where []string, args []any, limit int) (pageEndRow, error) {
	q := "SELECT " + sc.keyList() + ", " + quote(req.VersionAttr) + " FROM " + quote(s.table) + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + sc.keyList() + " LIMIT 1 OFFSET " + strconv.Itoa(limit-1)
	var end pageEndRow
	key := make([]any, len(sc.key))
	ptrs := make([]any, len(key)+1)
	for i := range key {
		ptrs[i] = &key[i]
	}
	ptrs[len(key)] = &end.version
	st, err := w.prepared(ctx, q)
	if err != nil {
		return end, translate(err)
	}
	err = st.QueryRowContext(ctx, args...).Scan(ptrs...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return end, nil
	case err != nil:
		return end, translate(err)
	}
	end.upper = key
	return end, nil
}

// pagePoint is the savepoint a predicted page's UPDATE runs in.
const pagePoint = "lockstep_pushdown_page"

// pushPredicted writes a full page of rows rows (the common page of a
// long segment) on the prediction that every row is a plain write from
// the version of its last row: its UPDATE writes only such rows, and
// only where the values are exact and change something. When it
// changed every row of the range, that is the page's count, with no
// aggregate read of its rows: done. Otherwise the UPDATE is rolled back
// and the page is counted (not done). A last row whose version is not
// an integer below the target (or NULL) predicts nothing.
func (s *Store) pushPredicted(ctx context.Context, w *writer, req engine.PushdownRequest, rng []string, rargs []any, rows int64,
	last any, res *engine.PushdownResult, beforeWrite func(engine.PushdownPlan) error) (done bool, err error) {
	counts, guard, gargs, ok := predictedClasses(req, last, rows)
	if !ok {
		return false, nil
	}
	if _, err := w.ExecContext(ctx, "SAVEPOINT "+pagePoint); err != nil {
		return false, fmt.Errorf("savepoint: %w", translate(err))
	}
	tr := req.Migrate
	conds := append(append(rng[:len(rng):len(rng)], guard), tr.WhereOK, "NOT "+tr.Unchanged)
	n, err := s.pushdownUpdate(ctx, w, req, conds, append(rargs[:len(rargs):len(rargs)], gargs...))
	if err != nil {
		return false, err
	}
	if n != rows {
		if _, err := w.ExecContext(ctx, "ROLLBACK TO "+pagePoint); err != nil {
			return false, fmt.Errorf("rollback to savepoint: %w", translate(err))
		}
	}
	if _, err := w.ExecContext(ctx, "RELEASE "+pagePoint); err != nil {
		return false, fmt.Errorf("release savepoint: %w", translate(err))
	}
	if n != rows {
		return false, nil
	}
	return true, engine.WritePage(res, counts, req.Target, func() (int64, error) { return n, nil }, beforeWrite)
}

// predictedClasses is a page of rows plain writes from version last:
// its classes, and the UPDATE's version guard that holds on such rows
// alone (a version that is not an integer is not one). ok is false when
// last is not a version the page could write from.
func predictedClasses(req engine.PushdownRequest, last any, rows int64) (c engine.PageClasses, guard string, args []any, ok bool) {
	v := quote(req.VersionAttr)
	c.N[engine.ClassWrite] = rows
	switch last := last.(type) {
	case nil:
		if req.Target == 1 {
			zero := int64(0) // no version is version 0 here
			c.Lo, c.Hi = &zero, &zero
		} else {
			c.NoVersion = rows
		}
		return c, v + " IS NULL", nil, true
	case int64:
		if last >= req.Target {
			return c, "", nil, false
		}
		c.Lo, c.Hi = &last, &last
		return c, "(" + v + " = ? AND typeof(" + v + ") = 'integer')", []any{last}, true
	}
	return c, "", nil, false
}

// pageSum is what one light pass over a page's rows says: how many
// there are, how many are anything but a write (see pageSummary), and,
// for a page of writes only, the versions they come from and how many
// the UPDATE leaves in shape.
type pageSum struct {
	rows int64
	// others counts the rows that are not plain writes: a version that
	// is not an integer, at or above the target, where false or not exact.
	others    int64
	versioned int64 // rows with a version (all of them when the target is 1)
	// lo and hi are the lowest and highest version, integers or NULL
	// when others is 0 (a version that is not an integer is an other).
	lo, hi    any
	unchanged int64 // rows the values leave as they are (exact on writes only)
}

// pageSummary reads the page's range in one aggregate, computing each
// row's conditions once. On a page where every row is a write it is all
// the counting the page needs: the UPDATE's own count then says whether
// every value was exact (pushAllWrites). A page holding other rows is
// classified (pushClassified).
func (s *Store) pageSummary(ctx context.Context, w *writer, req engine.PushdownRequest, rng []string, rargs []any) (pageSum, error) {
	var sum pageSum
	tr := req.Migrate
	v := quote(req.VersionAttr)
	t := strconv.FormatInt(req.Target, 10)
	p := v
	if req.Target == 1 {
		p = "coalesce(" + v + ", 0)" // no version is version 0 here
	}
	// CASE, not a value of AND and OR: its conditions are jumps, each
	// evaluated only when the ones before did not decide.
	other := "CASE WHEN typeof(" + v + ") NOT IN ('integer', 'null') OR coalesce(" + v + ", 0) >= " + t +
		" OR NOT " + tr.WhereOK + " OR NOT " + tr.Where + " THEN 1 ELSE 0 END"
	same := "CASE WHEN " + tr.Unchanged + " THEN 1 ELSE 0 END"
	q := "SELECT count(*), count(p), min(p), max(p), coalesce(sum(o), 0), coalesce(sum(u), 0) FROM (SELECT " +
		p + " AS p, " + other + " AS o, " + same + " AS u FROM " + quote(s.table) +
		" WHERE " + strings.Join(rng, " AND ") + ")"
	st, err := w.prepared(ctx, q)
	if err != nil {
		return sum, translate(err)
	}
	err = st.QueryRowContext(ctx, rargs...).Scan(&sum.rows, &sum.versioned, &sum.lo, &sum.hi, &sum.others, &sum.unchanged)
	return sum, translate(err)
}

// pushAllWrites writes a page whose rows are all writes with one UPDATE.
// When it changes fewer rows than the page holds, some values were not
// exact: the page is rolled back and goes per row, as pushClassified
// would have sent it.
func (s *Store) pushAllWrites(ctx context.Context, w *writer, req engine.PushdownRequest, rng []string, rargs []any,
	sum pageSum, res *engine.PushdownResult, beforeWrite func(engine.PushdownPlan) error) error {
	counts := engine.PageClasses{NoVersion: sum.rows - sum.versioned}
	var err error
	if counts.Lo, err = nullInt(sum.lo); err != nil {
		return fmt.Errorf("lowest version: %w", err)
	}
	if counts.Hi, err = nullInt(sum.hi); err != nil {
		return fmt.Errorf("highest version: %w", err)
	}
	counts.N[engine.ClassWrite], counts.N[engine.ClassUnchanged] = sum.rows-sum.unchanged, sum.unchanged
	return engine.WritePage(res, counts, req.Target, func() (int64, error) {
		return s.pushdownUpdate(ctx, w, req, append(rng[:len(rng):len(rng)], belowTarget(req)), rargs)
	}, beforeWrite)
}

// pushClassified counts the page's rows by class, then writes those it
// writes with one UPDATE, or says why the page goes per row.
func (s *Store) pushClassified(ctx context.Context, w *writer, sc *schema, req engine.PushdownRequest, rng []string, rargs []any,
	res *engine.PushdownResult, beforeWrite func(engine.PushdownPlan) error) error {
	counts, err := s.classCounts(ctx, w, sc, req, rng, rargs)
	if err != nil {
		return err
	}
	return engine.WritePage(res, counts, req.Target, func() (int64, error) {
		return s.pushdownUpdate(ctx, w, req, append(rng[:len(rng):len(rng)], belowTarget(req)), rargs)
	}, beforeWrite)
}

// nullInt is v, a version SQLite returned (an integer or NULL), as a
// pointer: nil for NULL.
func nullInt(v any) (*int64, error) {
	var n sql.NullInt64
	if err := n.Scan(v); err != nil || !n.Valid {
		return nil, err
	}
	return &n.Int64, nil
}
