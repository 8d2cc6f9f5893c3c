package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/mattn/go-sqlite3"
)

// openSQLite opens dsn with the mattn driver plus the lockstep_segment
// function on every connection. The driver is passed through a connector
// rather than registered by name: nothing process-wide to set up at init.
func openSQLite(dsn string) *sql.DB {
	return sql.OpenDB(connector{dsn: dsn, drv: &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			return c.RegisterFunc("lockstep_segment", segmentOf, true)
		},
	}})
}

// connector is a driver.Connector for one DSN (the mattn driver has no
// OpenConnector of its own).
type connector struct {
	dsn string
	drv *sqlite3.SQLiteDriver
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

func (c connector) Driver() driver.Driver { return c.drv }

// segmentOf hashes key values (FNV-1a over a typed encoding) into one of
// total segments: every row lands in exactly one segment, whatever the
// key's type, independently of the table's contents.
func segmentOf(total int64, keys ...any) int64 {
	h := fnv.New64a()
	for _, k := range keys {
		switch x := k.(type) {
		case nil:
			h.Write([]byte{0})
		case int64:
			h.Write([]byte{1})
			h.Write(strconv.AppendInt(nil, x, 10))
		case float64:
			h.Write([]byte{2})
			h.Write(strconv.AppendFloat(nil, x, 'g', -1, 64))
		case string:
			h.Write([]byte{3})
			h.Write([]byte(x))
		case []byte:
			h.Write([]byte{4})
			h.Write(x)
		default:
			fmt.Fprintf(h, "%T%v", x, x)
		}
		h.Write([]byte{0xff})
	}
	if total <= 0 {
		return 0
	}
	return int64(h.Sum64() % uint64(total))
}

// column is one column of the table.
type column struct {
	name     string
	declType string
}

// schema is what the store knows of its table.
type schema struct {
	cols   []column
	byName map[string]int
	key    []string
	// intKey: the key is one column of INTEGER affinity, so segments use
	// the native modulo instead of lockstep_segment.
	intKey bool
	// selectList is the column list of SELECTs: date-typed columns are
	// read through +col so the driver returns their stored value, not a
	// time.Time.
	selectList string
	// updates caches UPDATE statements by shape (see buildUpdate).
	mu      sync.Mutex
	updates map[string]string
	// versionQ is the quoted version column.
	versionQ string
}

func (sc *schema) has(col string) bool {
	_, ok := sc.byName[col]
	return ok
}

// loadSchema reads the table's columns and key with PRAGMA table_info and
// caches them; it is re-run when a write names a column not seen yet and
// after ExecSQL (which may alter the table).
func (s *Store) loadSchema(ctx context.Context) (*schema, error) {
	sc, err := readSchema(ctx, s.db, s.table, s.specKey)
	if err != nil {
		return nil, err
	}
	sc.versionQ = quote(s.versionAttr)
	s.mu.Lock()
	s.schema = sc
	s.mu.Unlock()
	return sc, nil
}

// currentSchema returns the cached schema, loading it when absent.
func (s *Store) currentSchema(ctx context.Context) (*schema, error) {
	s.mu.Lock()
	sc := s.schema
	s.mu.Unlock()
	if sc != nil {
		return sc, nil
	}
	return s.loadSchema(ctx)
}

func readSchema(ctx context.Context, q querier, table string, specKey []string) (*schema, error) {
	rows, err := q.QueryContext(ctx, "SELECT name, type, pk FROM pragma_table_info(?)", table)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", table, err)
	}
	defer rows.Close()
	sc := &schema{byName: map[string]int{}, updates: map[string]string{}}
	type pkCol struct {
		name string
		pos  int
	}
	var pks []pkCol
	for rows.Next() {
		var c column
		var pk int
		if err := rows.Scan(&c.name, &c.declType, &pk); err != nil {
			return nil, fmt.Errorf("read columns of %s: %w", table, err)
		}
		sc.byName[c.name] = len(sc.cols)
		sc.cols = append(sc.cols, c)
		if pk > 0 {
			pks = append(pks, pkCol{c.name, pk})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", table, err)
	}
	if len(sc.cols) == 0 {
		return nil, fmt.Errorf("table %q: %w (create it first, e.g. in a sql step)", table, ErrNoTable)
	}
	slices.SortFunc(pks, func(a, b pkCol) int { return a.pos - b.pos })
	for _, p := range pks {
		sc.key = append(sc.key, p.name)
	}
	if len(specKey) > 0 {
		sc.key = slices.Clone(specKey)
	}
	if len(sc.key) == 0 {
		return nil, fmt.Errorf("table %q: %w: declare one or name it with store key: [...]", table, ErrNoKey)
	}
	for _, k := range sc.key {
		if !sc.has(k) {
			return nil, fmt.Errorf("table %q: key column %q: %w", table, k, ErrNoColumn)
		}
	}
	sc.intKey = len(sc.key) == 1 && strings.Contains(strings.ToUpper(sc.cols[sc.byName[sc.key[0]]].declType), "INT")
	sc.selectList = selectList(sc.cols)
	return sc, nil
}

func selectList(cols []column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		switch strings.ToLower(c.declType) {
		case "date", "datetime", "timestamp":
			parts[i] = "+" + quote(c.name) + " AS " + quote(c.name)
		default:
			parts[i] = quote(c.name)
		}
	}
	return strings.Join(parts, ", ")
}

// keyWhere returns "k1 = ? AND k2 = ?" with its arguments for key.
func (sc *schema) keyWhere(key map[string]any) (string, []any, error) {
	parts := make([]string, len(sc.key))
	args := make([]any, len(sc.key))
	for i, k := range sc.key {
		v, ok := key[k]
		if !ok {
			return "", nil, fmt.Errorf("key attribute %q missing", k)
		}
		b, err := bindValue(v)
		if err != nil {
			return "", nil, fmt.Errorf("key attribute %q: %w", k, err)
		}
		parts[i] = quote(k) + " = ?"
		args[i] = b
	}
	return strings.Join(parts, " AND "), args, nil
}

// segmentBlock is how many consecutive integer keys go to one segment
// before the next one's turn: a row's segment is (key / segmentBlock) mod
// total. Runs of neighbouring rows stay in one segment, so a segment's
// write transaction dirties table pages that the other segments' seldom
// touch. With key mod total, segments interleaved row by row and every
// leaf page went to the WAL once per segment: a 200k-row migration wrote
// 57-65 MB (WAL and checkpoints) instead of 43 MB.
const segmentBlock = 1024

// segmentFilter returns the condition selecting segment seg of total.
func (sc *schema) segmentFilter(seg, total int) string {
	if total <= 1 {
		return "1"
	}
	if sc.intKey {
		k := quote(sc.key[0])
		return fmt.Sprintf("(((coalesce(%s,0) / %d) %% %d) + %d) %% %d = %d", k, segmentBlock, total, total, total, seg)
	}
	keys := make([]string, len(sc.key))
	for i, k := range sc.key {
		keys[i] = quote(k)
	}
	return fmt.Sprintf("lockstep_segment(%d, %s) = %d", total, strings.Join(keys, ", "), seg)
}

// querier is what *sql.DB and *sql.Tx share for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}
