package dynamo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
)

// exprBuilder collects expression attribute names and values, always as
// placeholders (#n0, :v0) so reserved words and odd names are safe.
type exprBuilder struct {
	names  map[string]string // placeholder → name
	values map[string]types.AttributeValue
	// docBudget is how many more characters of condition guards on maps
	// and lists may take (see equals).
	docBudget int
	// wholeDocs lists the map and list attributes guarded with one `=`.
	wholeDocs []string
	null      string // the placeholder of "NULL" (nullType), once used
}

// newExprBuilder returns a builder with room for about names names and
// values values.
func newExprBuilder(names, values int) *exprBuilder {
	return &exprBuilder{names: make(map[string]string, names), values: make(map[string]types.AttributeValue, values),
		docBudget: maxDocChars}
}

// name returns n's placeholder. The names of one update are few: a scan
// of the map costs less than a second map kept for the lookup.
func (b *exprBuilder) name(n string) string {
	for p, v := range b.names {
		if v == n {
			return p
		}
	}
	p := placeholder(namePlaceholders[:], "#n", len(b.names))
	b.names[p] = n
	return p
}

// nullType returns the placeholder of the type name "NULL", registered
// once however many guards use it.
func (b *exprBuilder) nullType() string {
	if b.null == "" {
		b.null, _ = b.value("NULL")
	}
	return b.null
}

func (b *exprBuilder) value(v any) (string, error) {
	av, err := toAV(v)
	if err != nil {
		return "", err
	}
	p := placeholder(valuePlaceholders[:], ":v", len(b.values))
	b.values[p] = av
	return p, nil
}

// The first placeholders, spelled once rather than per request.
var (
	namePlaceholders  = placeholders("#n")
	valuePlaceholders = placeholders(":v")
)

func placeholders(prefix string) (ps [32]string) {
	for i := range ps {
		ps[i] = prefix + strconv.Itoa(i)
	}
	return ps
}

// placeholder is prefix followed by i, from spelled when it holds it.
func placeholder(spelled []string, prefix string, i int) string {
	if i < len(spelled) {
		return spelled[i]
	}
	return prefix + strconv.Itoa(i)
}

// Guards on maps and lists: see exprBuilder.equals.
const (
	// maxDocChars bounds the condition text one update spends comparing
	// maps and lists part by part: about half of the 4 KB DynamoDB allows
	// an expression.
	maxDocChars = 2000
	maxDocDepth = 16 // DynamoDB allows 32 levels of nesting in a document path
)

// equals returns a condition that path holds exactly v (not nil). A map or
// a list is compared part by part — its type, its size() and each key or
// index, recursively — instead of with one `=`: the two mean the same on
// DynamoDB, which compares documents by value, but DynamoDB emulators
// such as dynalite 3.2.2 compare maps and lists by reference, so one `=`
// on a document read back never holds there. A document whose comparison
// would not fit in what is left of maxDocChars, or nests deeper than
// maxDocDepth, is compared with one `=` (and recorded in wholeDocs).
func (b *exprBuilder) equals(attr, path string, v any) (string, error) {
	if !isDoc(v) {
		p, err := b.value(v)
		if err != nil {
			return "", err
		}
		return path + " = " + p, nil
	}
	if n, ok := docChars(v, len(path), 0); ok && n <= b.docBudget {
		b.docBudget -= n
		return b.docEquals(path, v)
	}
	b.wholeDocs = append(b.wholeDocs, attr)
	p, err := b.value(v)
	if err != nil {
		return "", err
	}
	return path + " = " + p, nil
}

// docEquals renders the part-by-part comparison docConds counted.
func (b *exprBuilder) docEquals(path string, v any) (string, error) {
	typed := func(t string, n int) []string {
		tp, _ := b.value(t)
		np, _ := b.value(engine.Number(strconv.Itoa(n)))
		return []string{"attribute_type(" + path + ", " + tp + ")", "size(" + path + ") = " + np}
	}
	var conds []string
	switch x := v.(type) {
	case nil:
		return "attribute_type(" + path + ", " + b.nullType() + ")", nil
	case engine.Item:
		return b.docEquals(path, map[string]any(x))
	case map[string]any:
		conds = typed("M", len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			c, err := b.docEquals(path+"."+b.name(k), x[k])
			if err != nil {
				return "", fmt.Errorf("key %q: %w", k, err)
			}
			conds = append(conds, c)
		}
	case []any:
		conds = typed("L", len(x))
		for i, e := range x {
			c, err := b.docEquals(path+"["+strconv.Itoa(i)+"]", e)
			if err != nil {
				return "", fmt.Errorf("element %d: %w", i, err)
			}
			conds = append(conds, c)
		}
	default:
		p, err := b.value(v)
		if err != nil {
			return "", err
		}
		return path + " = " + p, nil
	}
	return strings.Join(conds, " AND "), nil
}

// Estimated lengths for docChars: a placeholder (":v123", "#n123") and
// the text around each condition.
const (
	placeholderChars = 5
	andChars         = len(" AND ")
	eqChars          = len(" = ") + placeholderChars + andChars
	typeChars        = len("attribute_type(, )") + placeholderChars + andChars
	sizeChars        = len("size() = ") + placeholderChars + andChars
	stepChars        = 1 + placeholderChars // ".#n123" or "[1234]"
)

// docChars estimates the length of the condition docEquals renders for v
// at a path of pathLen characters, depth levels down. ok is false when v
// nests deeper than maxDocDepth.
func docChars(v any, pathLen, depth int) (n int, ok bool) {
	var elems []any
	switch x := v.(type) {
	case nil:
		return pathLen + typeChars, true
	case engine.Item:
		elems = slices.Collect(maps.Values(x))
	case map[string]any:
		elems = slices.Collect(maps.Values(x))
	case []any:
		elems = x
	default:
		return pathLen + eqChars, true
	}
	if depth >= maxDocDepth {
		return 0, false
	}
	n = 2*pathLen + typeChars + sizeChars
	for _, e := range elems {
		c, ok := docChars(e, pathLen+stepChars, depth+1)
		if !ok {
			return 0, false
		}
		n += c
	}
	return n, true
}

func isDoc(v any) bool {
	switch v.(type) {
	case engine.Item, map[string]any, []any:
		return true
	}
	return false
}

// buildUpdate renders u as an UpdateItem input: SET/REMOVE of only the
// changed attributes and the version, conditioned on the item existing,
// the version guard and every read attribute being unchanged.
func (s *Store) buildUpdate(table string, u engine.Update) (*dynamodb.UpdateItemInput, error) {
	in, _, err := s.renderUpdate(table, u)
	return in, err
}

// renderUpdate is buildUpdate that also returns its expression builder,
// whose wholeDocs name the maps and lists the condition compares whole.
// It writes the expressions into two builders, with no string per
// clause: migrate renders one update per item.
func (s *Store) renderUpdate(table string, u engine.Update) (*dynamodb.UpdateItemInput, *exprBuilder, error) {
	// Room for the names and values of a usual update (the attributes set
	// are guarded too); a map of 8 or fewer is one allocation.
	b := newExprBuilder(min(8, max(len(u.Set)+len(u.Remove), len(u.Guard.Unchanged))+2), min(8, len(u.Set)+2))
	var set, remove, cond strings.Builder
	set.Grow(16 * (len(u.Set) + 1))
	cond.Grow(48 + 40*len(u.Guard.Unchanged))
	clause := func(sb *strings.Builder, sep string, parts ...string) {
		if sb.Len() > 0 {
			sb.WriteString(sep)
		}
		for _, p := range parts {
			sb.WriteString(p)
		}
	}
	for _, a := range u.Set {
		if slices.Contains(s.key, a.Name) {
			return nil, nil, fmt.Errorf("attribute %q is part of the key and cannot be changed", a.Name)
		}
		p, err := b.value(a.Value)
		if err != nil {
			return nil, nil, fmt.Errorf("attribute %s: %w", a.Name, err)
		}
		clause(&set, ", ", b.name(a.Name), " = ", p)
	}
	removes := u.Remove
	if !slices.IsSorted(removes) {
		removes = slices.Sorted(slices.Values(removes))
	}
	for _, a := range removes {
		if _, isSet := engine.LookupAttr(u.Set, a); !isSet && !slices.Contains(s.key, a) {
			clause(&remove, ", ", b.name(a))
		}
	}
	vattr := u.Guard.VersionAttr
	if vattr == "" {
		vattr = s.versionAttr
	}
	v := func() string { return b.name(vattr) } // registered only when used
	// version returns the placeholder of version n, one per number: a
	// forward write sets the version it guards below.
	var verN int64
	var verP string
	version := func(n int64) string {
		if verP == "" || verN != n {
			verN = n
			verP, _ = b.value(engine.Number(strconv.FormatInt(n, 10)))
		}
		return verP
	}
	switch {
	case u.Version != 0:
		clause(&set, ", ", v(), " = ", version(u.Version))
	case u.Guard.Equals != 0: // rollback to version 0: no version at all
		clause(&remove, ", ", v())
	}
	clause(&cond, " AND ", "attribute_exists(", b.name(s.key[0]), ")")
	if u.Guard.Below != 0 {
		p := version(u.Guard.Below)
		clause(&cond, " AND ", "(attribute_not_exists(", v(), ") OR ", v(), " < ", p, ")")
	}
	if u.Guard.Equals != 0 {
		clause(&cond, " AND ", v(), " = ", version(u.Guard.Equals))
	}
	for _, ua := range u.Guard.Unchanged {
		a, val := ua.Name, ua.Value
		n := b.name(a)
		switch {
		case val == nil && ua.Absent: // absent when read: still absent
			clause(&cond, " AND ", "attribute_not_exists(", n, ")")
			continue
		case val == nil: // an explicit NULL, or absent (a caller that does not say)
			clause(&cond, " AND ", "(attribute_not_exists(", n, ") OR attribute_type(", n, ", ", b.nullType(), "))")
			continue
		}
		c, err := b.equals(a, n, val)
		if err != nil {
			return nil, nil, fmt.Errorf("guard attribute %s: %w", a, err)
		}
		clause(&cond, " AND ", c)
	}
	key, err := s.keyAV(u.Key)
	if err != nil {
		return nil, nil, err
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       key,
		ConditionExpression:       aws.String(cond.String()),
		ExpressionAttributeNames:  b.names,
		ExpressionAttributeValues: b.values,
	}
	switch {
	case set.Len() > 0 && remove.Len() > 0:
		in.UpdateExpression = aws.String("SET " + set.String() + " REMOVE " + remove.String())
	case set.Len() > 0:
		in.UpdateExpression = aws.String("SET " + set.String())
	case remove.Len() > 0:
		in.UpdateExpression = aws.String("REMOVE " + remove.String())
	}
	if len(b.values) == 0 {
		in.ExpressionAttributeValues = nil
	}
	return in, b, nil
}

// keyAV is the key of item (which may hold other attributes) as
// attribute values.
func (s *Store) keyAV(item engine.Item) (map[string]types.AttributeValue, error) {
	key := make(map[string]types.AttributeValue, len(s.key))
	for _, k := range s.key {
		v, ok := item[k]
		if !ok || v == nil {
			return nil, fmt.Errorf("key %v lacks some of %v", engine.KeyOf(item, s.key), s.key)
		}
		av, err := toAV(v)
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		key[k] = av
	}
	return key, nil
}

// Update applies one guarded conditional UpdateItem. It returns an error
// wrapping engine.ErrConditionFailed when the guard fails or the item does
// not exist, engine.ErrThrottled when DynamoDB throttled it. An error the
// SDK met on a retry (an earlier attempt's answer was lost: it may have
// applied) also wraps engine.ErrAmbiguous.
func (s *Store) Update(ctx context.Context, u engine.Update) error {
	in, b, err := s.renderUpdate(s.table, u)
	if err != nil { // a value DynamoDB cannot hold: the same every time
		return fmt.Errorf("update %s %v: %w", s.table, engine.KeyOf(u.Key, s.key), engine.Rejected(err))
	}
	var attempts attemptCounter
	if _, err := s.api.UpdateItem(attempts.context(ctx), in); err != nil {
		err = translate(err)
		if attempts.n > 1 {
			err = fmt.Errorf("%w (after %d attempts: %w)", err, attempts.n, engine.ErrAmbiguous)
		}
		if whole := b.wholeDocs; len(whole) > 0 && errors.Is(err, engine.ErrConditionFailed) {
			err = fmt.Errorf("%w (the guard compares %s whole, which DynamoDB does by value but some emulators, such as dynalite, by reference: there it never holds)",
				err, strings.Join(whole, ", "))
		}
		return fmt.Errorf("update %s %v: %w", s.table, engine.KeyOf(u.Key, s.key), err)
	}
	return nil
}

// batchSize is BatchWriteItem's limit.
const batchSize = 25

// maxPutTries bounds the retries of unprocessed or throttled batches.
const maxPutTries = 12

// Put writes whole items with BatchWriteItem, 25 at a time, retrying
// unprocessed items and throttled batches with exponential backoff.
func (s *Store) Put(ctx context.Context, items []engine.Item) error {
	for start := 0; start < len(items); start += batchSize {
		chunk := items[start:min(start+batchSize, len(items))]
		reqs := make([]types.WriteRequest, len(chunk))
		for i, it := range chunk {
			m, err := toAVMap(it)
			if err != nil {
				return fmt.Errorf("put into %s: item %d: %w", s.table, start+i, err)
			}
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: m}}
		}
		if err := s.writeBatch(ctx, reqs); err != nil {
			return fmt.Errorf("put into %s: %w", s.table, err)
		}
	}
	return nil
}

func (s *Store) writeBatch(ctx context.Context, reqs []types.WriteRequest) error {
	delay := 50 * time.Millisecond
	for try := 0; ; try++ {
		out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{s.table: reqs},
		})
		err = translate(err)
		if err == nil {
			reqs = out.UnprocessedItems[s.table]
			if len(reqs) == 0 {
				return nil
			}
		} else if !isThrottleErr(err) {
			return err
		}
		if try == maxPutTries {
			if err == nil {
				err = fmt.Errorf("%d items unprocessed: %w", len(reqs), engine.ErrThrottled)
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func isThrottleErr(err error) bool { return errors.Is(err, engine.ErrThrottled) }

// DynamoDB's limits on one UpdateItem that CheckUpdate predicts.
const (
	// MaxItemBytes is the largest item DynamoDB stores: 400 KB, attribute
	// names included.
	MaxItemBytes = 400 * 1024
	// MaxExpressionBytes is the longest update or condition expression.
	MaxExpressionBytes = 4 * 1024
	// MaxExpressionOperators is the most operators and functions one
	// expression may hold.
	MaxExpressionOperators = 300
)

// conditionOperators are the operators and functions renderUpdate's
// conditions use, as rendered.
var conditionOperators = []string{" AND ", " OR ", " = ", " < ", "attribute_exists(", "attribute_not_exists(", "attribute_type(", "size("}

// operators counts the operators and functions of a condition expression.
func operators(cond string) int {
	n := 0
	for _, op := range conditionOperators {
		n += strings.Count(cond, op)
	}
	return n
}

// CheckUpdate reports, without sending it, whether DynamoDB would refuse
// u on the item before (as read) whatever happens to it meanwhile: the
// item would outgrow MaxItemBytes, an expression would exceed
// MaxExpressionBytes or its condition MaxExpressionOperators (a guard on
// many attributes), or a value cannot be sent. Migrate asks it while
// planning, so a dry-run counts the failures a live run would get.
func (s *Store) CheckUpdate(_ context.Context, before engine.Item, u engine.Update) error {
	in, _, err := s.renderUpdate(s.table, u)
	if err != nil {
		return engine.Rejected(err)
	}
	for _, e := range []struct {
		what string
		expr *string
	}{{"update expression", in.UpdateExpression}, {"condition expression", in.ConditionExpression}} {
		if n := len(aws.ToString(e.expr)); n > MaxExpressionBytes {
			return engine.Rejected(fmt.Errorf("%s of %d bytes: over DynamoDB's limit of %d", e.what, n, MaxExpressionBytes))
		}
	}
	if n := operators(aws.ToString(in.ConditionExpression)); n > MaxExpressionOperators {
		return engine.Rejected(fmt.Errorf("condition expression with %d operators and functions: over DynamoDB's limit of %d", n, MaxExpressionOperators))
	}
	if n := updatedSize(before, u, s.versionAttr); n > MaxItemBytes {
		return engine.Rejected(fmt.Errorf("item would be %d bytes once updated: over DynamoDB's limit of %d (400 KB)", n, MaxItemBytes))
	}
	return nil
}

// updatedSize is the size (engine.ItemSize) of before once u applied;
// vattr is the version attribute when u.Guard names none.
func updatedSize(before engine.Item, u engine.Update, vattr string) int {
	after := maps.Clone(before)
	if after == nil {
		after = engine.Item{}
	}
	for _, k := range u.Remove {
		delete(after, k)
	}
	for _, a := range u.Set {
		after[a.Name] = a.Value
	}
	if u.Guard.VersionAttr != "" {
		vattr = u.Guard.VersionAttr
	}
	switch {
	case u.Version != 0:
		after[vattr] = engine.Number(strconv.FormatInt(u.Version, 10))
	case u.Guard.Equals != 0:
		delete(after, vattr)
	}
	return engine.ItemSize(after)
}
