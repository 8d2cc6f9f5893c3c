package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
)

// Segments. A scan of n segments splits the table by its first key
// column: an integer key into blocks of 1,024 consecutive keys dealt
// round-robin to the segments (each segment reads key ranges, in key
// order, from the primary key index), any other key by a hash of its
// text. Both depend on the key alone, never on the data or the time the
// segment started: every segment of a run, and of its resume, agrees.
// Within a segment, pages follow the key (keyset pagination: WHERE
// (key) > (last key read) ORDER BY key LIMIT n), so a page costs the
// same at the end of the table as at its start.

// blockShift: blocks of 1 << 10 = 1,024 keys.
const blockShift = 10

// cursor is a scan position, journaled as a checkpoint.
type cursor struct {
	Segment int             `json:"segment"`
	Total   int             `json:"total"`
	Split   string          `json:"split,omitempty"` // "block10" or "hash"
	After   json.RawMessage `json:"after"`           // engine.MarshalItem of the key
}

// integer reports whether the first key column is an integer type.
func (sc *schema) intKey() bool {
	c, _ := sc.col(sc.key[0])
	switch c.typ {
	case "smallint", "integer", "bigint":
		return true
	}
	return false
}

func (sc *schema) split() string {
	if sc.intKey() {
		return "block" + strconv.Itoa(blockShift)
	}
	return "hash"
}

// segmentFilter is the condition selecting segment seg of total.
func (sc *schema) segmentFilter(seg, total int) string {
	if total <= 1 {
		return "TRUE"
	}
	k := quote(sc.key[0])
	if sc.intKey() {
		return fmt.Sprintf("((%s::int8 >> %d) %% %d + %d) %% %d = %d", k, blockShift, total, total, total, seg)
	}
	return fmt.Sprintf("(hashtext(%s::text) & 2147483647) %% %d = %d", k, total, seg)
}

// Scan reads one page of one segment (see Segments above): the
// segment's rows among the next Limit × TotalSegments rows of the table
// in key order, read through the primary key's index. Filtering the
// segment in the WHERE clause instead left the plan to the planner, which
// guesses a condition on an expression holds for 0.5 % of the rows, and
// so sorted the whole rest of the table for every page (a parallel
// sequential scan and a top-N sort: quadratic over a migration). A page
// may so hold fewer rows than Limit, or none, and still have a Next:
// its cursor is the last row read, of whichever segment. With
// req.Attrs, it reads those columns and the key only.
func (s *Store) Scan(ctx context.Context, req engine.ScanRequest) (engine.Page, error) {
	total := max(req.TotalSegments, 1)
	if req.Segment < 0 || req.Segment >= total {
		return engine.Page{}, fmt.Errorf("scan %s: segment %d out of 0..%d", s.table, req.Segment, total-1)
	}
	limit := req.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	sc, err := s.currentSchema(ctx)
	if req.Cursor == nil {
		sc, err = s.loadSchema(ctx)
	}
	if err != nil {
		return engine.Page{}, fmt.Errorf("scan %s: %w", s.table, err)
	}
	cols, q, args, err := s.scanQuery(sc, req, total, limit*total)
	if err != nil {
		return engine.Page{}, fmt.Errorf("scan %s: %w", s.table, err)
	}
	items, last, more, err := s.scanRows(ctx, sc, cols, q, args, limit, limit*total)
	if err != nil {
		return engine.Page{}, fmt.Errorf("scan %s segment %d: %w", s.table, req.Segment, err)
	}
	page := engine.Page{Items: items, Scanned: len(items)}
	if more {
		after, err := engine.MarshalItem(last)
		if err != nil {
			return engine.Page{}, fmt.Errorf("scan %s: %w", s.table, err)
		}
		page.Next, err = json.Marshal(cursor{Segment: req.Segment, Total: total, Split: sc.split(), After: after})
		if err != nil {
			return engine.Page{}, fmt.Errorf("scan %s: %w", s.table, err)
		}
	}
	return page, nil
}

// scanQuery is Scan's query: the columns req asks for, and whether the
// row is of the segment, of read rows after the cursor in key order.
func (s *Store) scanQuery(sc *schema, req engine.ScanRequest, total, read int) ([]column, string, []any, error) {
	cols, sel := sc.projection(req.Attrs)
	q := "SELECT " + sel + ", " + sc.segmentFilter(req.Segment, total) + " FROM " + s.qualified()
	var args []any
	if req.Cursor != nil {
		cond, cargs, err := sc.afterCursor(req.Cursor, req.Segment, total)
		if err != nil {
			return nil, "", nil, err
		}
		q, args = q+" WHERE "+cond, cargs
	}
	return cols, q + " ORDER BY " + sc.orderList(s.qualified()) + " LIMIT " + strconv.Itoa(read), args, nil
}

// scanRows runs Scan's query, whose last column says whether the row is
// of the segment, and returns up to limit rows of the segment as items,
// the key the next page starts after, and whether there may be one: the
// limit-th item's, or the last row's of a query that read all read rows.
func (s *Store) scanRows(ctx context.Context, sc *schema, cols []column, q string, args []any, limit, read int) ([]engine.Item, engine.Item, bool, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, false, translate(err)
	}
	defer rows.Close()
	var items []engine.Item
	var lastVals []any
	n := 0
	text := allText(cols)
	for len(items) < limit && rows.Next() {
		n++
		vals, err := rowValues(rows, cols, text)
		if err != nil {
			return nil, nil, false, translate(err)
		}
		lastVals = vals
		if in, _ := vals[len(cols)].(bool); !in {
			continue
		}
		it := make(engine.Item, len(cols))
		for i, c := range cols {
			if it[c.name], err = readValue(c, vals[i]); err != nil {
				return nil, nil, false, err
			}
		}
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, false, translate(err)
	}
	if len(items) < limit && n < read {
		return items, nil, false, nil // the segment's last page
	}
	last := make(engine.Item, len(sc.key))
	for i, c := range cols {
		if slices.Contains(sc.key, c.name) {
			if last[c.name], err = readValue(c, lastVals[i]); err != nil {
				return nil, nil, false, err
			}
		}
	}
	return items, last, true, nil
}

// allText reports whether every column of cols is selected as text
// (selectValue).
func allText(cols []column) bool {
	for _, c := range cols {
		switch c.kind {
		case kindNumber, kindText, kindJSON, kindArray:
		default:
			return false
		}
	}
	return true
}

// rowValues is rows.Values() of a row of text columns and a final
// boolean, read from the raw values when text says every column is
// text (pgx's Values boxes and converts each: a tenth of a page's CPU).
func rowValues(rows pgx.Rows, cols []column, text bool) ([]any, error) {
	if !text {
		return rows.Values()
	}
	raw := rows.RawValues()
	fds := rows.FieldDescriptions()
	if len(raw) != len(cols)+1 {
		return nil, fmt.Errorf("scan: %d columns, want %d", len(raw), len(cols)+1)
	}
	vals := make([]any, len(raw))
	for i, b := range raw[:len(cols)] {
		if b != nil {
			vals[i] = string(b)
		}
	}
	if b := raw[len(cols)]; len(b) == 1 {
		if fds[len(cols)].Format == pgx.BinaryFormatCode {
			vals[len(cols)] = b[0] == 1
		} else {
			vals[len(cols)] = b[0] == 't'
		}
	}
	return vals, nil
}

// projection is the columns a scan asking for attrs reads (the key and
// those of attrs the table has, in table order; every column when attrs
// is nil) and their select list.
func (sc *schema) projection(attrs []string) ([]column, string) {
	if attrs == nil {
		return sc.cols, sc.selectList
	}
	var cols []column
	var sel []string
	for _, c := range sc.cols {
		if slices.Contains(sc.key, c.name) || slices.Contains(attrs, c.name) {
			cols, sel = append(cols, c), append(sel, c.selectExpr())
		}
	}
	return cols, strings.Join(sel, ", ")
}

// afterCursor is the keyset condition continuing after raw.
func (sc *schema) afterCursor(raw []byte, seg, total int) (string, []any, error) {
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", nil, fmt.Errorf("bad cursor: %w", err)
	}
	if c.Segment != seg || c.Total != total {
		return "", nil, fmt.Errorf("cursor is for segment %d of %d, not %d of %d", c.Segment, c.Total, seg, total)
	}
	if total > 1 && c.Split != sc.split() {
		return "", nil, fmt.Errorf("cursor splits segments by %q, the table now by %q (its key changed type?): run the step again from the start (its writes are idempotent)", c.Split, sc.split())
	}
	key, err := engine.UnmarshalItem(c.After)
	if err != nil {
		return "", nil, fmt.Errorf("bad cursor: %w", err)
	}
	marks := make([]string, len(sc.key))
	args := make([]any, len(sc.key))
	for i, k := range sc.key {
		v, ok := key[k]
		if !ok {
			return "", nil, fmt.Errorf("bad cursor: no key attribute %q", k)
		}
		col, _ := sc.col(k)
		if args[i], marks[i], err = bindValue(col, v, "$"+strconv.Itoa(i+1)); err != nil {
			return "", nil, fmt.Errorf("bad cursor: %w", err)
		}
	}
	return "(" + sc.keyList() + ") > (" + strings.Join(marks, ", ") + ")", args, nil
}

// orderList is the key columns qualified by table: a bare name in ORDER
// BY would name the output column, selected as text (ids 10 < 9).
func (sc *schema) orderList(table string) string {
	keys := make([]string, len(sc.key))
	for i, k := range sc.key {
		keys[i] = table + "." + quote(k)
	}
	return strings.Join(keys, ", ")
}

// keyWhere is the condition selecting the row with key, its placeholders
// numbered from first.
func (sc *schema) keyWhere(key engine.Item, first int) (string, []any, error) {
	conds := make([]string, len(sc.key))
	args := make([]any, len(sc.key))
	for i, k := range sc.key {
		v, ok := key[k]
		if !ok || v == nil {
			return "", nil, fmt.Errorf("key attribute %q missing", k)
		}
		col, _ := sc.col(k)
		arg, expr, err := bindValue(col, v, "$"+strconv.Itoa(first+i))
		if err != nil {
			return "", nil, fmt.Errorf("key attribute %q: %w", k, err)
		}
		conds[i], args[i] = quote(k)+" = "+expr, arg
	}
	return strings.Join(conds, " AND "), args, nil
}

// Get reads one item by key.
func (s *Store) Get(ctx context.Context, key engine.Item) (engine.Item, bool, error) {
	sc, err := s.currentSchema(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("get from %s: %w", s.table, err)
	}
	cond, args, err := sc.keyWhere(key, 1)
	if err != nil {
		return nil, false, fmt.Errorf("get from %s: %w", s.table, err)
	}
	items, err := s.query(ctx, s.pool, sc, "SELECT "+sc.selectList+" FROM "+s.qualified()+" WHERE "+cond, args...)
	if err != nil {
		return nil, false, fmt.Errorf("get from %s %s: %w", s.table, engine.KeyText(key), err)
	}
	if len(items) == 0 {
		return nil, false, nil
	}
	return items[0], true, nil
}

// query runs a SELECT of sc.selectList and reads its rows as items.
func (s *Store) query(ctx context.Context, q querier, sc *schema, sql string, args ...any) ([]engine.Item, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	return collectItems(rows, sc)
}

func collectItems(rows pgx.Rows, sc *schema) ([]engine.Item, error) {
	var items []engine.Item
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, translate(err)
		}
		it := make(engine.Item, len(sc.cols))
		for i, c := range sc.cols {
			if it[c.name], err = readValue(c, vals[i]); err != nil {
				return nil, err
			}
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	return items, nil
}
