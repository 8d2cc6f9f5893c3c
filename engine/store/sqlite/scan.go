package sqlite

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

// cursor is where a segment's scan resumes: after the row with key After,
// in key order. Segment, Total and Block guard against resuming with
// another segmentation.
type cursor struct {
	Segment int             `json:"segment"`
	Total   int             `json:"total"`
	Block   int             `json:"block,omitempty"` // segmentBlock, for an integer key
	After   json.RawMessage `json:"after"`           // engine.MarshalItem of the key
}

// Scan reads one page of one segment, in primary key order. Rows are
// partitioned among segments by their key (blocks of segmentBlock
// consecutive values for an integer key, a hash otherwise), so segments
// cover every row exactly once however the table changes; the cursor is
// the last key returned.
func (s *Store) Scan(ctx context.Context, req engine.ScanRequest) (engine.Page, error) {
	total := max(req.TotalSegments, 1)
	if req.Segment < 0 || req.Segment >= total {
		return engine.Page{}, fmt.Errorf("scan %s: segment %d out of 0..%d", s.table, req.Segment, total-1)
	}
	limit := req.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	sc, err := s.scanSchema(ctx, req.Cursor == nil)
	if err != nil {
		return engine.Page{}, fmt.Errorf("scan %s: %w", s.table, err)
	}
	where := []string{sc.segmentFilter(req.Segment, total)}
	var args []any
	if req.Cursor != nil {
		cond, cargs, err := sc.afterCursor(req.Cursor, req.Segment, total)
		if err != nil {
			return engine.Page{}, fmt.Errorf("scan %s: %w", s.table, err)
		}
		where = append(where, cond)
		args = cargs
	}
	q := "SELECT " + sc.projection(req.Attrs) + " FROM " + quote(s.table) +
		" WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + sc.keyList() + fmt.Sprintf(" LIMIT %d", limit)
	items, err := s.scanQuery(ctx, q, limit, req.Reuse, args...)
	if err != nil {
		return engine.Page{}, fmt.Errorf("scan %s segment %d: %w", s.table, req.Segment, err)
	}
	page := engine.Page{Items: items, Scanned: len(items)}
	if len(items) == limit {
		c := cursor{Segment: req.Segment, Total: total, After: mustMarshal(engine.KeyOf(items[len(items)-1], sc.key))}
		if sc.intKey && total > 1 {
			c.Block = segmentBlock
		}
		next, err := json.Marshal(c)
		if err != nil {
			return engine.Page{}, fmt.Errorf("scan %s: %w", s.table, err)
		}
		page.Next = next
	}
	return page, nil
}

// projection is the select list of the key and attrs (every column when
// attrs is nil); attributes the table lacks are left out (they read as
// absent, as a NULL column reads as nil).
func (sc *schema) projection(attrs []string) string {
	if len(attrs) == 0 {
		return sc.selectList
	}
	cols := make([]column, 0, len(sc.key)+len(attrs))
	add := func(name string) {
		i, ok := sc.byName[name]
		if ok && !slices.ContainsFunc(cols, func(c column) bool { return c.name == name }) {
			cols = append(cols, sc.cols[i])
		}
	}
	for _, k := range sc.key {
		add(k)
	}
	for _, a := range attrs {
		add(a)
	}
	return selectList(cols)
}

// scanSchema re-reads the schema at the start of a segment, so a scan
// sees columns added since the store was opened.
func (s *Store) scanSchema(ctx context.Context, fresh bool) (*schema, error) {
	if fresh {
		return s.loadSchema(ctx)
	}
	return s.currentSchema(ctx)
}

func mustMarshal(key engine.Item) json.RawMessage {
	b, err := engine.MarshalItem(key)
	if err != nil {
		// Keys are read from the database, so they are always scalars.
		panic(fmt.Sprintf("marshal scan key: %v", err))
	}
	return b
}

// afterCursor decodes a cursor into "(k1, k2) > (?, ?)".
func (sc *schema) afterCursor(raw []byte, seg, total int) (string, []any, error) {
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", nil, fmt.Errorf("bad cursor: %w", err)
	}
	if c.Segment != seg || c.Total != total {
		return "", nil, fmt.Errorf("cursor is for segment %d of %d, not %d of %d", c.Segment, c.Total, seg, total)
	}
	if sc.intKey && total > 1 && c.Block != segmentBlock {
		was := "key modulo the segment count"
		if c.Block > 0 {
			was = fmt.Sprintf("blocks of %d keys", c.Block)
		}
		return "", nil, fmt.Errorf("cursor segments by %s, this lockstep by blocks of %d keys: it was saved by another version; run the step again from the start (its writes are idempotent)", was, segmentBlock)
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
		if args[i], err = bindValue(v); err != nil {
			return "", nil, fmt.Errorf("bad cursor: %w", err)
		}
		marks[i] = "?"
	}
	return "(" + sc.keyList() + ") > (" + strings.Join(marks, ", ") + ")", args, nil
}

func (sc *schema) keyList() string {
	keys := make([]string, len(sc.key))
	for i, k := range sc.key {
		keys[i] = quote(k)
	}
	return strings.Join(keys, ", ")
}

// Get reads one row by key.
func (s *Store) Get(ctx context.Context, key engine.Item) (engine.Item, bool, error) {
	sc, err := s.currentSchema(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("get from %s: %w", s.table, err)
	}
	cond, args, err := sc.keyWhere(key)
	if err != nil {
		return nil, false, fmt.Errorf("get from %s: %w", s.table, err)
	}
	items, err := s.query(ctx, "SELECT "+sc.selectList+" FROM "+quote(s.table)+" WHERE "+cond, 1, args...)
	if err != nil {
		return nil, false, fmt.Errorf("get from %s: %w", s.table, err)
	}
	if len(items) == 0 {
		return nil, false, nil
	}
	return items[0], true, nil
}

// query runs a SELECT on a pooled connection and converts its rows into
// items (see readRows). sizeHint is the number of rows expected.
func (s *Store) query(ctx context.Context, query string, sizeHint int, args ...any) ([]engine.Item, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var items []engine.Item
	err = conn.Raw(func(dc any) error {
		c, err := preparer(dc)
		if err != nil {
			return err
		}
		st, err := c.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer st.Close()
		items, err = readRows(ctx, st, sizeHint, nil, args, &intText{})
		return err
	})
	return items, err
}

// scanQuery is query on the write connection, through its cache of
// prepared statements (a segment's pages share their SQL text). Reading
// where the writes happen keeps one page cache warm: a second connection
// finds its cache stale after every write transaction and reads the
// pages again. reuse are maps to fill again (engine.ScanRequest.Reuse).
func (s *Store) scanQuery(ctx context.Context, query string, sizeHint int, reuse []engine.Item, args ...any) ([]engine.Item, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	w, err := s.writeConn(ctx)
	if err != nil {
		return nil, err
	}
	var items []engine.Item
	err = w.conn.Raw(func(dc any) error {
		c, err := preparer(dc)
		if err != nil {
			return err
		}
		st, err := w.rawPrepared(c, query)
		if err != nil {
			return err
		}
		items, err = readRows(ctx, st, sizeHint, reuse, args, &s.scanInts)
		return err
	})
	if err != nil {
		return nil, translate(err)
	}
	return items, nil
}

// readRows runs the driver statement st with args and converts its rows
// into items. It reads them on the driver connection (sql.Conn.Raw),
// skipping database/sql's per-value Scan conversions, which cost about as
// much as SQLite reading the rows. ints is scratch space for the
// integers' text, reused from page to page by its owner. reuse are maps
// no one refers to any more (engine.ScanRequest.Reuse): the rows are read
// into them, cleared, before any new map is made, and the page's slice
// is theirs too.
func readRows(ctx context.Context, st driver.Stmt, sizeHint int, reuse []engine.Item, args []any, ints *intText) ([]engine.Item, error) {
	sq, ok := st.(driver.StmtQueryContext)
	if !ok {
		return nil, fmt.Errorf("sqlite driver statement %T cannot query with a context", st)
	}
	nv, err := namedValues(nil, args)
	if err != nil {
		return nil, err
	}
	rows, err := sq.QueryContext(ctx, nv)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols := rows.Columns()
	vals := make([]driver.Value, len(cols))
	items := reuse[:0:len(reuse)] // row i takes reuse[i] before items[i] is set
	if len(reuse) < sizeHint {
		items = make([]engine.Item, 0, sizeHint)
	}
	ints.reset(sizeHint)
	defer ints.reset(0) // keep no item alive
	for {
		err := rows.Next(vals)
		if errors.Is(err, io.EOF) {
			ints.assign()
			return items, nil
		}
		if err != nil {
			return nil, err
		}
		var it engine.Item
		if n := len(items); n < len(reuse) {
			it = reuse[n]
			clear(it)
		} else {
			it = make(engine.Item, len(cols))
		}
		for i, c := range cols {
			switch v := vals[i].(type) {
			case string, nil:
				it[c] = vals[i] // as boxed already: no copy
			case int64:
				ints.add(it, c, v)
			case []byte:
				it[c] = bytes.Clone(v) // the driver may reuse it
			default:
				it[c] = readValue(v)
			}
		}
		items = append(items, it)
	}
}

// intText converts a page's integers into Numbers whose text is cut from
// one string, rather than one string allocated per value: add records
// them, assign sets them once the page is read. Its buffers are reused
// from page to page (reset): the string is a copy.
type intText struct {
	digits []byte
	at     []intAt
	hint   int // rows expected
}

// intAt is where an integer goes and where its text ends in digits.
type intAt struct {
	it  engine.Item
	col string
	end int
}

// reset empties t for a page of hint rows.
func (t *intText) reset(hint int) {
	clear(t.at)
	t.at, t.digits, t.hint = t.at[:0], t.digits[:0], hint
}

func (t *intText) add(it engine.Item, col string, v int64) {
	if cap(t.at) == 0 {
		t.at = make([]intAt, 0, max(t.hint, 1))
		t.digits = make([]byte, 0, 8*max(t.hint, 1))
	}
	t.digits = strconv.AppendInt(t.digits, v, 10)
	t.at = append(t.at, intAt{it: it, col: col, end: len(t.digits)})
}

func (t *intText) assign() {
	all, start := string(t.digits), 0
	for _, a := range t.at {
		a.it[a.col] = engine.Number(all[start:a.end])
		start = a.end
	}
}
