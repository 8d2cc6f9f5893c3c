package dynamo

import (
	"context"
	"errors"
	"fmt"
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
	byName map[string]string // name → placeholder
	values map[string]types.AttributeValue
}

func newExprBuilder() *exprBuilder {
	return &exprBuilder{names: map[string]string{}, byName: map[string]string{}, values: map[string]types.AttributeValue{}}
}

func (b *exprBuilder) name(n string) string {
	if p, ok := b.byName[n]; ok {
		return p
	}
	p := "#n" + strconv.Itoa(len(b.names))
	b.names[p], b.byName[n] = n, p
	return p
}

func (b *exprBuilder) value(v any) (string, error) {
	av, err := toAV(v)
	if err != nil {
		return "", err
	}
	p := ":v" + strconv.Itoa(len(b.values))
	b.values[p] = av
	return p, nil
}

// buildUpdate renders u as an UpdateItem input: SET/REMOVE of only the
// changed attributes and the version, conditioned on the item existing,
// the version guard and every read attribute being unchanged.
func (s *Store) buildUpdate(table string, u engine.Update) (*dynamodb.UpdateItemInput, error) {
	b := newExprBuilder()
	var sets, removes, conds []string
	for _, a := range u.Set {
		if slices.Contains(s.key, a.Name) {
			return nil, fmt.Errorf("attribute %q is part of the key and cannot be changed", a.Name)
		}
		p, err := b.value(a.Value)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
		sets = append(sets, b.name(a.Name)+" = "+p)
	}
	for _, a := range slices.Sorted(slices.Values(u.Remove)) {
		if _, set := engine.LookupAttr(u.Set, a); !set && !slices.Contains(s.key, a) {
			removes = append(removes, b.name(a))
		}
	}
	vattr := u.Guard.VersionAttr
	if vattr == "" {
		vattr = s.versionAttr
	}
	v := func() string { return b.name(vattr) } // registered only when used
	switch {
	case u.Version != 0:
		p, _ := b.value(engine.Number(strconv.FormatInt(u.Version, 10)))
		sets = append(sets, v()+" = "+p)
	case u.Guard.Equals != 0: // rollback to version 0: no version at all
		removes = append(removes, v())
	}
	conds = append(conds, "attribute_exists("+b.name(s.key[0])+")")
	if u.Guard.Below != 0 {
		p, _ := b.value(engine.Number(strconv.FormatInt(u.Guard.Below, 10)))
		conds = append(conds, "(attribute_not_exists("+v()+") OR "+v()+" < "+p+")")
	}
	if u.Guard.Equals != 0 {
		p, _ := b.value(engine.Number(strconv.FormatInt(u.Guard.Equals, 10)))
		conds = append(conds, v()+" = "+p)
	}
	for _, ua := range u.Guard.Unchanged {
		a, val := ua.Name, ua.Value
		n := b.name(a)
		if val == nil {
			t, _ := b.value("NULL")
			conds = append(conds, "(attribute_not_exists("+n+") OR attribute_type("+n+", "+t+"))")
			continue
		}
		p, err := b.value(val)
		if err != nil {
			return nil, fmt.Errorf("guard attribute %q: %w", a, err)
		}
		conds = append(conds, n+" = "+p)
	}
	key, err := toAVMap(engine.KeyOf(u.Key, s.key))
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if len(key) != len(s.key) {
		return nil, fmt.Errorf("key %v lacks some of %v", key, s.key)
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       key,
		ConditionExpression:       aws.String(strings.Join(conds, " AND ")),
		ExpressionAttributeNames:  b.names,
		ExpressionAttributeValues: b.values,
	}
	var expr []string
	if len(sets) > 0 {
		expr = append(expr, "SET "+strings.Join(sets, ", "))
	}
	if len(removes) > 0 {
		expr = append(expr, "REMOVE "+strings.Join(removes, ", "))
	}
	if len(expr) > 0 {
		in.UpdateExpression = aws.String(strings.Join(expr, " "))
	}
	if len(b.values) == 0 {
		in.ExpressionAttributeValues = nil
	}
	return in, nil
}

// Update applies one guarded conditional UpdateItem. It returns an error
// wrapping engine.ErrConditionFailed when the guard fails or the item does
// not exist, engine.ErrThrottled when DynamoDB throttled it.
func (s *Store) Update(ctx context.Context, u engine.Update) error {
	in, err := s.buildUpdate(s.table, u)
	if err != nil {
		return fmt.Errorf("update %s %v: %w", s.table, engine.KeyOf(u.Key, s.key), err)
	}
	if _, err := s.api.UpdateItem(ctx, in); err != nil {
		return fmt.Errorf("update %s %v: %w", s.table, engine.KeyOf(u.Key, s.key), translate(err))
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
