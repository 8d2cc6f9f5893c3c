package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
)

var (
	_ engine.TableOpener = (*Store)(nil)
	_ engine.CopyTarget  = (*Store)(nil)
)

// OpenTable opens the existing table name with the store's client and
// version attribute, reading its key schema: the target of a migrate
// step with into. It refuses the lease table; a missing table is an
// error wrapping engine.ErrNoTable.
func (s *Store) OpenTable(ctx context.Context, name string) (engine.CopyTarget, error) {
	if strings.EqualFold(name, s.leaseTable) {
		return nil, fmt.Errorf("open table %s: it is the lease table", name)
	}
	spec := s.spec
	spec.Table, spec.Key = name, nil
	t := &Store{api: s.api, table: name, versionAttr: s.versionAttr, leaseTable: s.leaseTable, spec: spec, opts: s.opts}
	if err := t.loadKey(ctx, nil); err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("open table %s: %w", name, engine.ErrNoTable)
		}
		return nil, fmt.Errorf("open table %s: %w", name, err)
	}
	return t, nil
}

// PutGuarded writes item whole with one PutItem conditioned on the table
// holding no item under its key, or one whose version attribute is
// absent or below g.Below: a copy never overwrites a newer item.
func (s *Store) PutGuarded(ctx context.Context, item engine.Item, g engine.Guard) error {
	av, err := toAVMap(item)
	if err != nil {
		return fmt.Errorf("put into %s %v: %w", s.table, engine.KeyOf(item, s.key), engine.Rejected(err))
	}
	b := newExprBuilder(2, 1)
	v := b.name(s.vattr(g))
	below, _ := b.value(engine.Number(strconv.FormatInt(g.Below, 10)))
	cond := "attribute_not_exists(" + b.name(s.key[0]) + ") OR attribute_not_exists(" + v + ") OR " + v + " < " + below
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av, ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: b.names, ExpressionAttributeValues: b.values}
	var attempts attemptCounter
	if _, err := s.api.PutItem(attempts.context(ctx), in); err != nil {
		return fmt.Errorf("put into %s %v: %w", s.table, engine.KeyOf(item, s.key), s.ambiguous(translate(err), attempts.n))
	}
	return nil
}

// DeleteGuarded deletes the item under key with one DeleteItem
// conditioned on its version attribute equal to g.Equals and each
// attribute of g.Unchanged holding the value given.
func (s *Store) DeleteGuarded(ctx context.Context, key engine.Item, g engine.Guard) error {
	k, err := s.keyAV(key)
	if err != nil {
		return fmt.Errorf("delete from %s: %w", s.table, engine.Rejected(err))
	}
	b := newExprBuilder(len(g.Unchanged)+2, len(g.Unchanged)+1)
	cond, err := s.guardCondition(b, g)
	if err != nil {
		return fmt.Errorf("delete from %s %v: %w", s.table, engine.KeyOf(key, s.key), engine.Rejected(err))
	}
	in := &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: k, ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: b.names, ExpressionAttributeValues: b.values}
	if len(b.values) == 0 {
		in.ExpressionAttributeValues = nil
	}
	var attempts attemptCounter
	if _, err := s.api.DeleteItem(attempts.context(ctx), in); err != nil {
		return fmt.Errorf("delete from %s %v: %w", s.table, engine.KeyOf(key, s.key), s.ambiguous(translate(err), attempts.n))
	}
	return nil
}

// guardCondition renders g as a condition on an existing item: its
// version equal to g.Equals (when set) and every g.Unchanged attribute as
// given.
func (s *Store) guardCondition(b *exprBuilder, g engine.Guard) (string, error) {
	conds := []string{"attribute_exists(" + b.name(s.key[0]) + ")"}
	if g.Equals != 0 {
		p, _ := b.value(engine.Number(strconv.FormatInt(g.Equals, 10)))
		conds = append(conds, b.name(s.vattr(g))+" = "+p)
	}
	for _, ua := range g.Unchanged {
		n := b.name(ua.Name)
		switch {
		case ua.Value == nil && ua.Absent:
			conds = append(conds, "attribute_not_exists("+n+")")
		case ua.Value == nil:
			conds = append(conds, "(attribute_not_exists("+n+") OR attribute_type("+n+", "+b.nullType()+"))")
		default:
			c, err := b.equals(ua.Name, n, ua.Value)
			if err != nil {
				return "", fmt.Errorf("guard attribute %s: %w", ua.Name, err)
			}
			conds = append(conds, c)
		}
	}
	return strings.Join(conds, " AND "), nil
}

// vattr is the version attribute a guard names, else the store's.
func (s *Store) vattr(g engine.Guard) string {
	if g.VersionAttr != "" {
		return g.VersionAttr
	}
	return s.versionAttr
}

// ambiguous marks err as engine.ErrAmbiguous when the SDK sent the
// request more than once: an earlier attempt may have applied.
func (s *Store) ambiguous(err error, attempts int) error {
	if attempts > 1 {
		return fmt.Errorf("%w (after %d attempts: %w)", err, attempts, engine.ErrAmbiguous)
	}
	return err
}
