package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

// pageSum is what one light pass over a page's rows says: how many
// there are, how many are anything but a write (see pageSummary), and,
// for a page of writes only, the versions they come from and how many
// the UPDATE leaves in shape.
type pageSum struct {
	upper []any // the page's last key; nil when it runs to the segment's end
	rows  int64
	// others counts the rows that are not plain writes: a version that
	// is not an integer, at or above the target, where false or not exact.
	others    int64
	versioned int64 // rows with a version (all of them when the target is 1)
	// lo and hi are the lowest and highest version, integers or NULL
	// when others is 0 (a version that is not an integer is an other).
	lo, hi    any
	unchanged int64 // rows the values leave as they are (exact on writes only)
}

// pageSummary reads the page (at most limit rows of the segment after
// the cursor, in key order) in one aggregate, computing each row's
// conditions once, and finds its last key when the page is full. On the
// common page, where every row is a write, it is all the counting the
// page needs: the UPDATE's own count then says whether every value was
// exact (pushAllWrites). A page holding other rows is classified
// (pushClassified).
func (s *Store) pageSummary(ctx context.Context, w *writer, sc *schema, req engine.PushdownRequest, where []string, args []any, limit int) (pageSum, error) {
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
		" WHERE " + strings.Join(where, " AND ") + " ORDER BY " + sc.keyList() + " LIMIT ?)"
	st, err := w.prepared(ctx, q)
	if err != nil {
		return sum, translate(err)
	}
	err = st.QueryRowContext(ctx, append(args[:len(args):len(args)], limit)...).
		Scan(&sum.rows, &sum.versioned, &sum.lo, &sum.hi, &sum.others, &sum.unchanged)
	if err != nil {
		return sum, translate(err)
	}
	if sum.rows == int64(limit) {
		if sum.upper, err = s.upperKey(ctx, w, sc, where, args, limit); err != nil {
			return sum, err
		}
	}
	return sum, nil
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
	return engine.WritePage(res, counts, req.Target, func() (int64, error) { return s.pushdownUpdate(ctx, w, req, rng, rargs) }, beforeWrite)
}

// pushClassified counts the page's rows by class, then writes those it
// writes with one UPDATE, or says why the page goes per row.
func (s *Store) pushClassified(ctx context.Context, w *writer, sc *schema, req engine.PushdownRequest, rng []string, rargs []any,
	res *engine.PushdownResult, beforeWrite func(engine.PushdownPlan) error) error {
	counts, err := s.classCounts(ctx, w, sc, req, rng, rargs)
	if err != nil {
		return err
	}
	return engine.WritePage(res, counts, req.Target, func() (int64, error) { return s.pushdownUpdate(ctx, w, req, rng, rargs) }, beforeWrite)
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
