package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

// errMispredicted is pushPredicted's error when its UPDATE wrote some of
// the page's rows but not all: the prediction was wrong, the
// transaction is rolled back and the page is counted in a new one.
var errMispredicted = errors.New("pushdown page: not every row a plain write from its last row's version")

// pushPredicted writes a full page of a single-segment step on the
// prediction that every row of it is a plain write from the version of
// its last row. One query reads the page's last row through the key
// index (the limit-th after the cursor: its key and version), then
//
//	UPDATE t SET … WHERE key > cursor AND key <= last AND v = <last's
//	version> (or IS NULL) AND <where exact> AND <where> AND <set exact>
//	AND NOT <unchanged>
//
// writes only such rows. When it changed limit rows, every row of the
// range was a plain write (engine.ClassWrite) from that version with
// exact values: those are the page's counts, and the page is done
// without a query counting its rows. When it changed none (a short
// page, a last row at the target, a page of other classes), nothing was
// written and the caller counts the page in the same transaction. When
// it changed some but not all, it returns errMispredicted: the caller
// rolls the transaction back and counts the page in a new one (a
// savepoint to undo it in place would cost two more round trips on
// every page).
func (s *Store) pushPredicted(ctx context.Context, tx pgx.Tx, sc *schema, tr *sqlexpr.Migrate, req engine.PushdownRequest,
	after string, args []any, limit int, res *engine.PushdownResult, beforeWrite func(engine.PushdownPlan) error) (done bool, err error) {
	upper, version, err := s.pageEnd(ctx, tx, sc, req, after, args, limit)
	if err != nil || upper == nil || version != nil && *version >= req.Target {
		return false, err
	}
	if s.afterPageEnd != nil {
		s.afterPageEnd(ctx)
	}
	bound, bargs, err := sc.keyBound(upper, "<=", len(args)+1)
	if err != nil {
		return false, err
	}
	conds := []string{bound}
	if after != "" {
		conds = append([]string{after}, conds...)
	}
	rargs := append(append([]any{}, args...), bargs...)
	v := quote(req.VersionAttr)
	if version == nil {
		conds = append(conds, v+" IS NULL")
	} else {
		conds = append(conds, v+" = $"+strconv.Itoa(len(rargs)+1))
		rargs = append(rargs, *version)
	}
	conds = append(conds, "CASE WHEN "+tr.WhereOK+" THEN "+tr.Where+" ELSE FALSE END", tr.SetOK, "NOT "+tr.Unchanged)
	n, err := s.updateWhere(ctx, tx, tr, req, conds, rargs)
	switch {
	case err != nil:
		return false, err
	case n == 0:
		return false, nil
	case n != int64(limit):
		return false, errMispredicted
	}
	if res.Next, err = sc.nextCursor(req.Segment, 1, upper); err != nil {
		return false, err
	}
	return true, engine.WritePage(res, predictedClasses(req.Target, version, n), req.Target,
		func() (int64, error) { return n, nil }, beforeWrite)
}

// predictedClasses is a page of rows plain writes from version (nil:
// no version, which is version 0 when the target is 1).
func predictedClasses(target int64, version *int64, rows int64) engine.PageClasses {
	var c engine.PageClasses
	c.N[engine.ClassWrite] = rows
	switch {
	case version != nil:
		c.Lo, c.Hi = version, version
	case target == 1:
		zero := int64(0)
		c.Lo, c.Hi = &zero, &zero
	default:
		c.NoVersion = rows
	}
	return c
}

// pageEnd reads the key and the version of the limit-th row after the
// cursor (after, its placeholders args) in key order: upper is nil when
// there are fewer rows left. The rows before it are counted off the key
// index alone (an index-only scan where the table's visibility map
// allows: a third of the time of reading each row's version), and
// the version is read from the one row found.
func (s *Store) pageEnd(ctx context.Context, tx pgx.Tx, sc *schema, req engine.PushdownRequest, after string, args []any, limit int) (upper engine.Item, version *int64, err error) {
	keys, names, raw := pageKeys(sc)
	sel := make([]string, len(keys))
	match := make([]string, len(keys))
	for i, k := range sc.key {
		sel[i] = keys[i].selectOf("e." + names[i])
		match[i] = s.qualified() + "." + quote(k) + " = e." + names[i]
	}
	q := "SELECT " + strings.Join(raw, ", ") + " FROM " + s.qualified()
	if after != "" {
		q += " WHERE " + after
	}
	q = "SELECT " + strings.Join(sel, ", ") + ", (SELECT " + quote(req.VersionAttr) + "::int8 FROM " + s.qualified() + " WHERE " +
		strings.Join(match, " AND ") + ") FROM (" + q + " ORDER BY " + sc.orderList(s.qualified()) + " OFFSET " + strconv.Itoa(limit-1) + " LIMIT 1) e"
	last := make([]any, len(keys))
	ptrs := make([]any, 0, len(keys)+1)
	for i := range last {
		ptrs = append(ptrs, &last[i])
	}
	err = tx.QueryRow(ctx, q, args...).Scan(append(ptrs, &version)...)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil, nil
	case err != nil:
		return nil, nil, translate(err)
	}
	if upper, err = keyItem(keys, last); err != nil {
		return nil, nil, err
	}
	return upper, version, nil
}
