package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

// Batches of updates with the same shape (same columns set, removed and
// guarded) run as one statement:
//
//	WITH "lockstep_b"("lockstep_b_0", …) AS (VALUES (?, …), (?, …), …)
//	UPDATE t SET c = "lockstep_b"."lockstep_b_0", … FROM "lockstep_b"
//	WHERE <key and guard, per row> RETURNING <key>
//
// The rows RETURNING gives back applied; each other one is classified
// (missing item or failed guard) with one SELECT. Anything unusual — mixed
// schemas, duplicate keys, key values whose stored form may differ from
// the bound one — takes the row-by-row path.

const (
	batchTable = "lockstep_b"
	// maxBatchVars stays under SQLite's default limit of bound variables.
	maxBatchVars = 30000
)

// shaped is one update rendered for the batch path.
type shaped struct {
	i    int // index in the batch
	args []any
}

// updateBatch applies us in the open transaction on w, filling errs.
func (s *Store) updateBatch(ctx context.Context, w *writer, us []engine.Update, errs []error) error {
	groups := map[string][]shaped{}
	var order []string
	for i, u := range us {
		sc, err := s.schemaFor(ctx, u)
		if err != nil {
			errs[i] = err
			continue
		}
		shape, args, err := s.renderUpdate(sc, u, nil)
		if err != nil {
			errs[i] = err
			continue
		}
		key := fmt.Sprintf("%p|%s", sc, shape)
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], shaped{i: i, args: args})
	}
	for _, key := range order {
		g := groups[key]
		sc, err := s.currentSchema(ctx)
		if err != nil {
			return err
		}
		if len(g) < 2 || fmt.Sprintf("%p|", sc) != key[:strings.IndexByte(key, '|')+1] || !s.batchable(sc, us, g) {
			for _, r := range g {
				errs[r.i] = s.update(ctx, w, us[r.i])
			}
			continue
		}
		per := max(1, maxBatchVars/len(g[0].args))
		for start := 0; start < len(g); start += per {
			if err := s.updateGroup(ctx, w, sc, us, g[start:min(start+per, len(g))], errs); err != nil {
				return err
			}
		}
	}
	return nil
}

// batchable reports whether a group can take the one-statement path: key
// values bound in the form SQLite stores them (int64 for an INTEGER key,
// string for a TEXT key), no duplicate key, and no column name that could
// clash with the batch table's or hold a "?".
func (s *Store) batchable(sc *schema, us []engine.Update, g []shaped) bool {
	for _, c := range sc.cols {
		if strings.HasPrefix(c.name, batchTable) || strings.Contains(c.name, "?") {
			return false
		}
	}
	seen := make(map[string]bool, len(g))
	for _, r := range g {
		k, ok := sc.canonicalKey(us[r.i].Key)
		if !ok || seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

// canonicalKey renders a key as the driver will return it, when that is
// certain.
func (sc *schema) canonicalKey(key engine.Item) (string, bool) {
	var b strings.Builder
	for _, k := range sc.key {
		decl := strings.ToUpper(sc.cols[sc.byName[k]].declType)
		switch v := key[k].(type) {
		case engine.Number:
			i, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil || !strings.Contains(decl, "INT") {
				return "", false
			}
			b.WriteString("i" + strconv.FormatInt(i, 10))
		case string:
			if !strings.Contains(decl, "CHAR") && !strings.Contains(decl, "CLOB") && !strings.Contains(decl, "TEXT") {
				return "", false
			}
			b.WriteString("s" + v)
		default:
			return "", false
		}
		b.WriteByte(0)
	}
	return b.String(), true
}

// returnedKey renders a RETURNING row's key like canonicalKey.
func returnedKey(vals []any) (string, bool) {
	var b strings.Builder
	for _, v := range vals {
		switch x := v.(type) {
		case int64:
			b.WriteString("i" + strconv.FormatInt(x, 10))
		case string:
			b.WriteString("s" + x)
		default:
			return "", false
		}
		b.WriteByte(0)
	}
	return b.String(), true
}

// updateGroup runs one UPDATE … FROM (VALUES …) RETURNING for g.
func (s *Store) updateGroup(ctx context.Context, w *writer, sc *schema, us []engine.Update, g []shaped, errs []error) error {
	var p updateParts
	s.renderUpdate(sc, us[g[0].i], &p)
	n := len(g[0].args)
	cols := make([]string, n)
	for j := range cols {
		cols[j] = quote(fmt.Sprintf("%s_%d", batchTable, j))
	}
	next := 0
	ref := func(frag string) string {
		for strings.Contains(frag, "?") {
			frag = strings.Replace(frag, "?", quote(batchTable)+"."+cols[next], 1)
			next++
		}
		return frag
	}
	sets := make([]string, len(p.sets))
	for j, f := range p.sets {
		sets[j] = ref(f)
	}
	where := make([]string, len(p.where))
	for j, f := range p.where {
		where[j] = ref(f)
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	q := "WITH " + quote(batchTable) + "(" + strings.Join(cols, ", ") + ") AS (VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", len(g)), ", ") + ") UPDATE " + quote(s.table) +
		" SET " + strings.Join(sets, ", ") + " FROM " + quote(batchTable) +
		" WHERE " + strings.Join(where, " AND ") + " RETURNING " + sc.keyList()
	args := make([]any, 0, n*len(g))
	for _, r := range g {
		args = append(args, r.args...)
	}
	applied, err := w.returningKeys(ctx, q, len(sc.key), args)
	if err != nil {
		return translate(err)
	}
	for _, r := range g {
		k, _ := sc.canonicalKey(us[r.i].Key)
		if !applied[k] {
			errs[r.i] = s.classifyFailure(ctx, w, sc, us[r.i])
		}
	}
	return nil
}

// classifyFailure tells a missing item from a failed guard.
func (s *Store) classifyFailure(ctx context.Context, w *writer, sc *schema, u engine.Update) error {
	cond, args, err := sc.keyWhere(u.Key)
	if err != nil {
		return err
	}
	rows, err := w.QueryContext(ctx, "SELECT 1 FROM "+quote(s.table)+" WHERE "+cond, args...)
	if err != nil {
		return translate(err)
	}
	found := rows.Next()
	rows.Close()
	if !found {
		return fmt.Errorf("no such item: %w", engine.ErrConditionFailed)
	}
	return fmt.Errorf("guard does not hold: %w", engine.ErrConditionFailed)
}

// returningKeys runs q and collects the keys of the rows it returns.
func (w *writer) returningKeys(ctx context.Context, q string, nkey int, args []any) (map[string]bool, error) {
	st, err := w.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	vals := make([]any, nkey)
	ptrs := make([]any, nkey)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	out := map[string]bool{}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		k, ok := returnedKey(vals)
		if !ok {
			return nil, fmt.Errorf("batch update returned an unexpected key %v", vals)
		}
		out[k] = true
	}
	return out, rows.Err()
}
