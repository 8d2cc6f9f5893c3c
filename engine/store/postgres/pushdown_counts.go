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
// index, as Scan does) and, with several segments, numbers the
// segment's among them (a running count); the page is the segment's
// first limit rows. Its upper key is the last of those when there are
// limit of them, else the last row read when the query read all it
// asked for, else nil: the page runs to the end of the segment. The
// class is computed for the segment's rows only, and only the two last
// keys are turned into text. after is the cursor's condition ("" for
// none), its placeholders args.
func (s *Store) pageCounts(ctx context.Context, tx pgx.Tx, sc *schema, tr *sqlexpr.Migrate, req engine.PushdownRequest, total int, after string, args []any, limit int) (engine.PageClasses, engine.Item, error) {
	var out engine.PageClasses
	read := limit * total
	seg := sc.segmentFilter(req.Segment, total)
	p := quote(req.VersionAttr) + "::int8"
	if req.Target == 1 {
		p = "coalesce(" + p + ", 0)" // no version is version 0 here
	}
	keys, names, raw := pageKeys(sc)
	desc := make([]string, len(names))
	for i, n := range names {
		desc[i] = n + " DESC"
	}
	order := sc.orderList(s.qualified())
	class, page := pushdownClass(tr, req), "TRUE"
	q := "WITH r AS MATERIALIZED (SELECT " + strings.Join(raw, ", ") + ", " + class + " AS c, " + p + " AS p"
	if total > 1 {
		q = "WITH r AS MATERIALIZED (SELECT " + strings.Join(raw, ", ") + ", " + seg + " AS lockstep_s, CASE WHEN " + seg + " THEN " + class +
			" END AS c, " + p + " AS p, count(*) FILTER (WHERE " + seg + ") OVER (ORDER BY " + order + " ROWS UNBOUNDED PRECEDING) AS lockstep_n"
		page = "lockstep_s AND lockstep_n <= " + strconv.Itoa(limit)
	}
	q += " FROM " + s.qualified()
	if after != "" {
		q += " WHERE " + after
	}
	q += " ORDER BY " + order + " LIMIT " + strconv.Itoa(read) + ")"
	cols := make([]string, 0, len(out.N)+5)
	ptrs := make([]any, 0, len(out.N)+5+2*len(keys))
	for i := range out.N {
		cols = append(cols, fmt.Sprintf("count(*) FILTER (WHERE c = %d)", i))
		ptrs = append(ptrs, &out.N[i])
	}
	t := strconv.FormatInt(req.Target, 10)
	cols = append(cols, "count(*) FILTER (WHERE c IN (2, 4) AND p IS NULL)", "min(p) FILTER (WHERE c IN (2, 4))",
		"max(p) FILTER (WHERE c IN (2, 4))", "count(*) FILTER (WHERE c = 0 AND p = "+t+")")
	ptrs = append(ptrs, &out.NoVersion, &out.Lo, &out.Hi, &out.AtTarget)
	var nr int64
	ptrs = append(ptrs, &nr)
	lastOf := func(alias string) string {
		sel := make([]string, len(keys))
		for i, c := range keys {
			sel[i] = c.selectOf(alias + "." + names[i])
		}
		return strings.Join(sel, ", ")
	}
	lk, lr := make([]any, len(keys)), make([]any, len(keys))
	for i := range keys {
		ptrs = append(ptrs, &lk[i])
	}
	if total == 1 && len(keys) == 1 {
		// One segment, one key column: every row read is the page's, and
		// its last key is the largest. The aggregate streams the rows
		// from the index (no CTE to materialize, no sort).
		q = "SELECT " + strings.Join(cols, ", ") + ", count(*), " + keys[0].selectOf("max(lockstep_k1)") + " FROM (" +
			strings.TrimSuffix(strings.TrimPrefix(q, "WITH r AS MATERIALIZED ("), ")") + ") r"
		lr = lk
	} else {
		q += " SELECT a.*, (SELECT count(*) FROM r), " + lastOf("lk") + ", " + lastOf("lr") + " FROM (SELECT " + strings.Join(cols, ", ") +
			" FROM r WHERE " + page + ") a LEFT JOIN (SELECT * FROM r WHERE " + page + " ORDER BY " + strings.Join(desc, ", ") +
			" LIMIT 1) lk ON TRUE LEFT JOIN (SELECT * FROM r ORDER BY " + strings.Join(desc, ", ") + " LIMIT 1) lr ON TRUE"
		for i := range keys {
			ptrs = append(ptrs, &lr[i])
		}
	}
	if err := tx.QueryRow(ctx, q, args...).Scan(ptrs...); err != nil {
		return out, nil, translate(err)
	}
	var rows int64
	for _, n := range out.N {
		rows += n
	}
	last := lk
	switch {
	case rows == int64(limit): // the segment's limit-th row
	case nr == int64(read): // the last row read
		last = lr
	default:
		return out, nil, nil // to the end of the segment
	}
	upper, err := keyItem(keys, last)
	if err != nil {
		return out, nil, err
	}
	return out, upper, nil
}

// pageKeys are the key columns of a page query and their aliases
// (lockstep_k1, …), with raw selecting each key as its alias.
func pageKeys(sc *schema) (keys []column, names, raw []string) {
	keys = make([]column, len(sc.key))
	names = make([]string, len(sc.key))
	raw = make([]string, len(sc.key))
	for i, k := range sc.key {
		keys[i], _ = sc.col(k)
		names[i] = "lockstep_k" + strconv.Itoa(i+1)
		raw[i] = quote(k) + " AS " + names[i]
	}
	return keys, names, raw
}

// keyItem is the key read as vals (one raw value per column of keys).
func keyItem(keys []column, vals []any) (engine.Item, error) {
	key := make(engine.Item, len(keys))
	for i, c := range keys {
		v, err := readValue(c, vals[i])
		if err != nil {
			return nil, err
		}
		key[c.name] = v
	}
	return key, nil
}
