package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/lockstep-run/lockstep/engine"
)

// Set-based batches. A migrate page's updates mostly share one shape:
// the same columns set and removed, the same version change, the same
// guard attributes. Each shape goes to the server as one statement,
//
//	UPDATE t SET a = v.p1::<type>, … FROM (SELECT DISTINCT ON (<key>) *
//	  FROM unnest($1::text[], …) WITH ORDINALITY AS u(p1, …, ord) ORDER BY <key>, ord) v
//	WHERE t.key = v.pk::<type> AND <each row's own guard, from v> RETURNING v.ord
//
// with one text array per placeholder of the per-row statement
// (buildUpdate), so the server parses, plans and executes one statement
// per shape instead of one per row, and the client renders one SQL text
// per shape instead of one per row. The guard is the per-row statement's,
// each row with its own values. Every update the statement did not
// change — its guard failed, its row is missing, or an earlier update of
// the batch has the same key (DISTINCT ON keeps the first) — then runs as
// its own statement, in batch order, in the same transaction: so each
// update's outcome and error (ErrConditionFailed: guard or missing item)
// are the per-row path's. A statement the server refuses (a value a
// column cannot hold) rolls everything back and the batch runs per row
// (applyBatch), which tells the refused update from the others. A batch
// whose updates of different shapes share a key, or that holds a value
// not carried as text (bytea, arrays), runs per row too.

// setGroup is the updates of one shape and the statement that applies
// them.
type setGroup struct {
	sql  string
	idx  []int           // indexes into the batch, in batch order
	cols [][]pgtype.Text // one array per placeholder
}

// setShape is one update's statement as the set-based form needs it:
// the shape's identity, the text of each placeholder and, when rendered,
// the statement's pieces.
type setShape struct {
	id    []byte
	texts []pgtype.Text
	key   []byte // the key's identity, for duplicates across shapes
	// Rendered once per shape:
	render bool
	sets   []string
	where  []string
	casts  []string // each placeholder's type
	keyPs  []int    // the key's placeholders
}

// errNotSetBased says a batch needs the per-row path.
var errNotSetBased = errors.New("not set-based")

// param adds a placeholder holding text (nil: NULL) cast to c's type and
// returns its reference in the statement.
func (sh *setShape) param(c column, text pgtype.Text) string {
	sh.texts = append(sh.texts, text)
	n := len(sh.texts)
	if !sh.render {
		return ""
	}
	sh.casts = append(sh.casts, c.typ)
	return "v.p" + strconv.Itoa(n) + "::" + c.typ
}

// setText is v as the text a placeholder of column c carries, as
// bindValue binds it; false when bindValue binds it otherwise (bytes,
// arrays) or refuses it.
func setText(c column, v any) (pgtype.Text, bool) {
	if v == nil {
		return pgtype.Text{}, true
	}
	switch c.kind {
	case kindText, kindNumber, kindBool, kindTime: // bindValue's scalarText, without its SQL
		switch x := v.(type) {
		case string:
			return pgtype.Text{String: x, Valid: true}, true
		case engine.Number:
			return pgtype.Text{String: string(x), Valid: true}, true
		}
	}
	arg, _, err := bindValue(c, v, "$0")
	if err != nil {
		return pgtype.Text{}, false
	}
	s, ok := arg.(string)
	return pgtype.Text{String: s, Valid: true}, ok
}

// shape walks u's statement as buildUpdate renders it.
func (s *Store) shape(sc *schema, u engine.Update, sh *setShape) error {
	vattr := s.versionAttr
	if u.Guard.VersionAttr != "" {
		vattr = u.Guard.VersionAttr
	}
	needVersion := u.Version != 0 || u.Guard.Equals != 0 || u.Guard.Below != 0
	vc, ok := sc.col(vattr)
	if needVersion && !ok {
		return errNotSetBased
	}
	sh.id = append(append(sh.id, vattr...), 0)
	for _, a := range u.Set {
		c, ok := sc.col(a.Name)
		if !ok || slices.Contains(sc.key, a.Name) {
			return errNotSetBased
		}
		t, ok := setText(c, a.Value)
		if !ok {
			return errNotSetBased
		}
		e := sh.param(c, t)
		sh.id = append(append(append(sh.id, 's'), a.Name...), 0)
		if sh.render {
			sh.sets = append(sh.sets, quote(a.Name)+" = "+e)
		}
	}
	for _, name := range slices.Sorted(slices.Values(u.Remove)) {
		if _, set := engine.LookupAttr(u.Set, name); !set && sc.has(name) && !slices.Contains(sc.key, name) {
			sh.id = append(append(append(sh.id, 'r'), name...), 0)
			if sh.render {
				sh.sets = append(sh.sets, quote(name)+" = NULL")
			}
		}
	}
	v := "t." + quote(vattr)
	switch {
	case u.Version != 0:
		e := sh.param(vc, pgtype.Text{String: strconv.FormatInt(u.Version, 10), Valid: true})
		sh.id = append(sh.id, 'V')
		if sh.render {
			sh.sets = append(sh.sets, quote(vattr)+" = "+e)
		}
	case u.Guard.Equals != 0:
		sh.id = append(sh.id, 'N')
		if sh.render {
			sh.sets = append(sh.sets, quote(vattr)+" = NULL")
		}
	}
	if sh.render && len(sh.sets) == 0 {
		sh.sets = append(sh.sets, quote(sc.key[0])+" = t."+quote(sc.key[0]))
	}
	for _, k := range sc.key {
		val, ok := u.Key[k]
		if !ok || val == nil {
			return errNotSetBased
		}
		c, _ := sc.col(k)
		t, ok := setText(c, val)
		if !ok {
			return errNotSetBased
		}
		e := sh.param(c, t)
		sh.key = append(append(sh.key, canonical(c, t.String)...), 0)
		if sh.render {
			sh.keyPs = append(sh.keyPs, len(sh.texts))
			sh.where = append(sh.where, "t."+quote(k)+" = "+e)
		}
	}
	if u.Guard.Below != 0 {
		e := sh.param(vc, pgtype.Text{String: strconv.FormatInt(u.Guard.Below, 10), Valid: true})
		sh.id = append(sh.id, 'B')
		if sh.render {
			sh.where = append(sh.where, "("+v+" IS NULL OR "+v+" < "+e+")")
		}
	}
	if u.Guard.Equals != 0 {
		e := sh.param(vc, pgtype.Text{String: strconv.FormatInt(u.Guard.Equals, 10), Valid: true})
		sh.id = append(sh.id, 'E')
		if sh.render {
			sh.where = append(sh.where, v+" = "+e)
		}
	}
	for _, a := range u.Guard.Unchanged {
		c, ok := sc.col(a.Name)
		switch {
		case !ok && a.Value != nil: // an absent column is an absent attribute
			sh.id = append(append(append(sh.id, 'F'), a.Name...), 0)
			if sh.render {
				sh.where = append(sh.where, "FALSE")
			}
		case ok:
			t, ok := setText(c, a.Value)
			if !ok {
				return errNotSetBased
			}
			e := sh.param(c, t)
			sh.id = append(append(append(sh.id, 'u'), a.Name...), 0)
			if sh.render {
				sh.where = append(sh.where, "t."+c.guardExpr()+" IS NOT DISTINCT FROM "+c.guardCast(e))
			}
		}
	}
	return nil
}

// canonical is the identity of a key value's text: numbers by value
// ("1.0" is "1"), the rest as written.
func canonical(c column, text string) string {
	if c.kind == kindNumber && !plainInteger(text) {
		if r, ok := new(big.Rat).SetString(text); ok {
			return r.RatString()
		}
	}
	return text
}

// plainInteger reports whether text is an integer in its one canonical
// form (no sign but -, no leading zero, no exponent).
func plainInteger(text string) bool {
	digits := strings.TrimPrefix(text, "-")
	if digits == "" || digits[0] == '0' && (len(digits) > 1 || len(text) > 1) {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// statement renders the set-based statement of the shape sh rendered.
func (s *Store) setStatement(sh *setShape) string {
	names := make([]string, len(sh.casts))
	arrays := make([]string, len(sh.casts))
	for i := range sh.casts {
		names[i] = "p" + strconv.Itoa(i+1)
		arrays[i] = "$" + strconv.Itoa(i+1) + "::text[]"
	}
	keys := make([]string, len(sh.keyPs))
	for i, p := range sh.keyPs {
		keys[i] = "u.p" + strconv.Itoa(p) + "::" + sh.casts[p-1]
	}
	return "UPDATE " + s.qualified() + " AS t SET " + strings.Join(sh.sets, ", ") +
		" FROM (SELECT DISTINCT ON (" + strings.Join(keys, ", ") + ") * FROM unnest(" + strings.Join(arrays, ", ") +
		") WITH ORDINALITY AS u(" + strings.Join(names, ", ") + ", ord) ORDER BY " + strings.Join(keys, ", ") + ", u.ord) AS v" +
		" WHERE " + strings.Join(sh.where, " AND ") + " RETURNING v.ord"
}

// setGroups splits us into shapes, in the order each first appears;
// errNotSetBased when an update needs the per-row path.
func (s *Store) setGroups(ctx context.Context, us []engine.Update) ([]*setGroup, error) {
	sc, err := s.currentSchema(ctx)
	if err != nil {
		return nil, errNotSetBased
	}
	byShape := map[string]int{}
	keyShape := make(map[string]int, len(us))
	var groups []*setGroup
	var sh setShape
	for i, u := range us {
		sh = setShape{id: sh.id[:0], texts: sh.texts[:0], key: sh.key[:0]}
		if err := s.shape(sc, u, &sh); err != nil {
			return nil, err
		}
		g, ok := byShape[string(sh.id)]
		if !ok {
			r := setShape{render: true}
			if err := s.shape(sc, u, &r); err != nil {
				return nil, err
			}
			g = len(groups)
			byShape[string(sh.id)] = g
			gr := &setGroup{sql: s.setStatement(&r), cols: make([][]pgtype.Text, len(r.texts))}
			for p := range gr.cols {
				gr.cols[p] = make([]pgtype.Text, 0, len(us)-i)
			}
			groups = append(groups, gr)
		}
		if other, dup := keyShape[string(sh.key)]; dup && other != g {
			return nil, errNotSetBased // the order of the two writes to one row matters
		}
		keyShape[string(sh.key)] = g
		gr := groups[g]
		gr.idx = append(gr.idx, i)
		for p, t := range sh.texts {
			gr.cols[p] = append(gr.cols[p], t)
		}
	}
	return groups, nil
}

// errRefused says the server refused a statement of a set-based batch:
// the batch runs again per row.
var errRefused = errors.New("a statement was refused")

// updateSets applies us set-based (see above); false when the batch
// needs the per-row path.
func (s *Store) updateSets(ctx context.Context, us []engine.Update) ([]error, bool) {
	groups, err := s.setGroups(ctx, us)
	if err != nil {
		return nil, false
	}
	errs := make([]error, len(us))
	err = s.applySets(ctx, us, groups, errs)
	if errors.Is(err, errRefused) {
		return nil, false
	}
	for i := range errs {
		if err != nil {
			errs[i] = err
		}
		if errs[i] != nil {
			errs[i] = fmt.Errorf("update %s %s: %w", s.table, s.keyText(us[i].Key), errs[i])
		}
	}
	return errs, true
}

// applySets runs the groups' statements in one fenced transaction, then
// the updates they did not change one by one; errs gets each update's
// guard failure.
func (s *Store) applySets(ctx context.Context, us []engine.Update, groups []*setGroup, errs []error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback(context.Background())
	if err := s.checkFences(ctx, tx); err != nil {
		return err
	}
	probe := engine.RolledBackWrites(ctx) // the estimate's probe (scratch.go)
	if probe {
		if _, err := tx.Exec(ctx, "SAVEPOINT "+probeSavepoint); err != nil {
			return translate(err)
		}
	}
	done := make([]bool, len(us))
	for _, g := range groups {
		args := make([]any, len(g.cols))
		for i, c := range g.cols {
			args[i] = c
		}
		rows, err := tx.Query(ctx, g.sql, args...)
		if err != nil {
			return refused(err)
		}
		for rows.Next() {
			var ord int64
			if err := rows.Scan(&ord); err != nil {
				rows.Close()
				return refused(err)
			}
			if ord < 1 || int(ord) > len(g.idx) {
				rows.Close()
				return fmt.Errorf("set-based update returned row %d of %d", ord, len(g.idx))
			}
			done[g.idx[ord-1]] = true
		}
		if err := rows.Err(); err != nil {
			return refused(err)
		}
	}
	if err := s.applyRest(ctx, tx, us, done, errs); err != nil {
		return err
	}
	if probe {
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+probeSavepoint); err != nil {
			return translate(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return translate(err)
	}
	return nil
}

// applyRest runs, one statement each in batch order, the updates the
// set-based statements did not change.
func (s *Store) applyRest(ctx context.Context, tx pgx.Tx, us []engine.Update, done []bool, errs []error) error {
	b := &pgx.Batch{}
	var rest []rendered
	var at []int
	for i, u := range us {
		if done[i] {
			continue
		}
		r := s.render(ctx, u)
		if r.err != nil {
			errs[i] = r.err
			continue
		}
		b.Queue(r.sql, r.args...)
		rest, at = append(rest, r), append(at, i)
	}
	if b.Len() == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, b)
	var unchanged []int
	for j := range rest {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return refused(err)
		}
		if tag.RowsAffected() == 0 {
			unchanged = append(unchanged, j)
		}
	}
	if err := br.Close(); err != nil {
		return refused(err)
	}
	for _, j := range unchanged {
		errs[at[j]] = s.classify(ctx, tx, rest[j])
	}
	return nil
}

// refused is errRefused for an error the server returned, err otherwise.
func refused(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w: %w", errRefused, err)
	}
	return translate(err)
}
