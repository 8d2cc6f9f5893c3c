package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook/sqlexpr"
)

// pageCounts finds a pushdown page and counts its rows by class in one
// query, one pass over the rows: it reads the next limit × total rows
// after the cursor in key order (ORDER BY key LIMIT: the primary key's
// index, as Scan does), numbering them and the segment's among them; the
// page is the segment's first limit rows. Its upper key is the limit-th
// of those, else the last row read when the query read all it asked for,
// else nil: the page runs to the end of the segment. The class is
// computed for the segment's rows only. after is the cursor's condition
// ("" for none), its placeholders args.
func (s *Store) pageCounts(ctx context.Context, tx pgx.Tx, sc *schema, tr *sqlexpr.Migrate, req engine.PushdownRequest, total int, after string, args []any, limit int) (classCount, engine.Item, error) {
	var out classCount
	read := limit * total
	seg := sc.segmentFilter(req.Segment, total)
	p := quote(req.VersionAttr) + "::int8"
	if req.Target == 1 {
		p = "coalesce(" + p + ", 0)" // no version is version 0 here
	}
	keys := make([]column, len(sc.key))
	sel := make([]string, len(sc.key))
	names := make([]string, len(sc.key))
	for i, k := range sc.key {
		keys[i], _ = sc.col(k)
		names[i] = "lockstep_k" + strconv.Itoa(i+1)
		sel[i] = keys[i].selectValue() + " AS " + names[i]
	}
	order := sc.orderList(s.qualified())
	q := "WITH r AS MATERIALIZED (SELECT " + strings.Join(sel, ", ") + ", " + seg + " AS lockstep_s, CASE WHEN " + seg +
		" THEN " + pushdownClass(tr, req) + " END AS c, " + p + " AS p, row_number() OVER w AS lockstep_rn, count(*) FILTER (WHERE " +
		seg + ") OVER w AS lockstep_ns FROM " + s.qualified()
	if after != "" {
		q += " WHERE " + after
	}
	q += " WINDOW w AS (ORDER BY " + order + " ROWS UNBOUNDED PRECEDING) ORDER BY " + order + " LIMIT " + strconv.Itoa(read) + ")"
	cols := make([]string, 0, len(out.n)+4)
	ptrs := make([]any, 0, len(out.n)+4+2*len(keys)+1)
	for i := range out.n {
		cols = append(cols, fmt.Sprintf("count(*) FILTER (WHERE c = %d)", i))
		ptrs = append(ptrs, &out.n[i])
	}
	t := strconv.FormatInt(req.Target, 10)
	cols = append(cols, "count(*) FILTER (WHERE c IN (2, 4) AND p IS NULL)", "min(p) FILTER (WHERE c IN (2, 4))",
		"max(p) FILTER (WHERE c IN (2, 4))", "count(*) FILTER (WHERE c = 0 AND p = "+t+")")
	ptrs = append(ptrs, &out.noVersion, &out.lo, &out.hi, &out.atTarget)
	n := strconv.Itoa(limit)
	q += " SELECT a.*, " + prefixed("lk.", names) + ", " + prefixed("lr.", names) + ", lr.lockstep_rn FROM (SELECT " + strings.Join(cols, ", ") +
		" FROM r WHERE lockstep_s AND lockstep_ns <= " + n + ") a LEFT JOIN (SELECT " + strings.Join(names, ", ") +
		" FROM r WHERE lockstep_s AND lockstep_ns = " + n + ") lk ON TRUE LEFT JOIN (SELECT " + strings.Join(names, ", ") +
		", lockstep_rn FROM r ORDER BY lockstep_rn DESC LIMIT 1) lr ON TRUE"
	lk, lr := make([]any, len(keys)), make([]any, len(keys))
	for i := range keys {
		ptrs = append(ptrs, &lk[i])
	}
	for i := range keys {
		ptrs = append(ptrs, &lr[i])
	}
	var rn *int64
	ptrs = append(ptrs, &rn)
	if err := tx.QueryRow(ctx, q, args...).Scan(ptrs...); err != nil {
		return out, nil, translate(err)
	}
	last := lk
	switch {
	case lk[0] != nil: // the segment's limit-th row
	case rn != nil && *rn == int64(read): // the last row read
		last = lr
	default:
		return out, nil, nil // to the end of the segment
	}
	upper := make(engine.Item, len(keys))
	for i, c := range keys {
		v, err := readValue(c, last[i])
		if err != nil {
			return out, nil, err
		}
		upper[c.name] = v
	}
	return out, upper, nil
}

// prefixed is names, each after prefix, comma-separated.
func prefixed(prefix string, names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return strings.Join(out, ", ")
}
