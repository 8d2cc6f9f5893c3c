package dynamo

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
)

// Leases live in their own table (DefaultLeaseTable), one item per
// dataset+environment with key pk = "<dataset>/<env>" and attributes
// dataset, env, holder, session, acquired and expires (unix nanoseconds)
// and renewals (a counter each renewal bumps, absent until the first).

// leaseState remembers that the lease table exists.
type leaseState struct {
	mu    sync.Mutex
	ready bool
}

func leaseKey(l engine.Lease) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: l.Dataset + "/" + l.Env}}
}

func nanos(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixNano(), 10)}
}

// AcquireLease takes the lease with a conditional PutItem: it succeeds
// when there is no lease, when the caller's session holds it, or — with
// takeover — when the holder's lease expired before l.Acquired (the
// caller's "now"; time.Now when zero). Otherwise it returns a
// *engine.LeaseHeldError naming the holder.
func (s *Store) AcquireLease(ctx context.Context, l engine.Lease, takeover bool) (engine.Lease, error) {
	if l.Acquired.IsZero() {
		l.Acquired = time.Now()
	}
	if err := s.ensureLeaseTable(ctx); err != nil {
		return engine.Lease{}, fmt.Errorf("acquire lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	item := leaseItem(l)
	cond := "attribute_not_exists(pk) OR #session = :session"
	values := map[string]types.AttributeValue{":session": &types.AttributeValueMemberS{Value: l.Session}}
	names := map[string]string{"#session": "session"}
	if takeover {
		cond += " OR #expires < :now"
		values[":now"] = nanos(l.Acquired)
		names["#expires"] = "expires"
	}
	err := s.retry(ctx, func(ctx context.Context) error {
		_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.leaseTable), Item: item, ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		})
		return err
	})
	if errors.Is(err, engine.ErrConditionFailed) {
		cur, found, rerr := s.readLease(ctx, l)
		switch {
		case rerr != nil:
			err = rerr
		case found:
			err = &engine.LeaseHeldError{Lease: cur}
		}
	}
	if err != nil {
		return engine.Lease{}, fmt.Errorf("acquire lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	return l, nil
}

// leaseItem is the lease record of l, its renewal count reset.
func leaseItem(l engine.Lease) map[string]types.AttributeValue {
	item := leaseKey(l)
	item["dataset"] = &types.AttributeValueMemberS{Value: l.Dataset}
	item["env"] = &types.AttributeValueMemberS{Value: l.Env}
	item["holder"] = &types.AttributeValueMemberS{Value: l.Holder}
	item["session"] = &types.AttributeValueMemberS{Value: l.Session}
	item["acquired"] = nanos(l.Acquired)
	item["expires"] = nanos(l.Expires)
	return item
}

// RenewLease moves the caller's lease expiry to l.Expires with an update
// conditioned on the caller's session holding it; otherwise
// engine.ErrLeaseLost.
func (s *Store) RenewLease(ctx context.Context, l engine.Lease) (engine.Lease, error) {
	if err := s.ensureLeaseTable(ctx); err != nil {
		return engine.Lease{}, fmt.Errorf("renew lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	var out *dynamodb.UpdateItemOutput
	err := s.retry(ctx, func(ctx context.Context) (err error) {
		out, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.leaseTable), Key: leaseKey(l),
			UpdateExpression:         aws.String("SET #expires = :exp ADD #renewals :one"),
			ConditionExpression:      aws.String("#session = :session"),
			ExpressionAttributeNames: map[string]string{"#expires": "expires", "#session": "session", "#renewals": "renewals"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":exp": nanos(l.Expires), ":one": &types.AttributeValueMemberN{Value: "1"},
				":session": &types.AttributeValueMemberS{Value: l.Session}},
			ReturnValues: types.ReturnValueAllNew,
		})
		return err
	})
	if errors.Is(err, engine.ErrConditionFailed) {
		err = s.lostError(ctx, l)
	}
	if err != nil {
		return engine.Lease{}, fmt.Errorf("renew lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	return leaseFrom(out.Attributes), nil
}

// ReleaseLease deletes the caller's lease. A lease already gone is not an
// error; one held by another session is engine.ErrLeaseLost.
func (s *Store) ReleaseLease(ctx context.Context, l engine.Lease) error {
	if err := s.ensureLeaseTable(ctx); err != nil {
		return fmt.Errorf("release lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	err := s.retry(ctx, func(ctx context.Context) error {
		_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(s.leaseTable), Key: leaseKey(l),
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR #session = :session"),
			ExpressionAttributeNames:  map[string]string{"#session": "session"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":session": &types.AttributeValueMemberS{Value: l.Session}},
		})
		return err
	})
	if errors.Is(err, engine.ErrConditionFailed) {
		err = s.lostError(ctx, l)
	}
	if err != nil {
		return fmt.Errorf("release lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	return nil
}

func (s *Store) lostError(ctx context.Context, l engine.Lease) error {
	cur, found, err := s.readLease(ctx, l)
	switch {
	case err != nil:
		return err
	case !found:
		return &engine.LeaseLostError{}
	}
	return &engine.LeaseLostError{Holder: cur}
}

func (s *Store) readLease(ctx context.Context, l engine.Lease) (engine.Lease, bool, error) {
	var out *dynamodb.GetItemOutput
	err := s.retry(ctx, func(ctx context.Context) (err error) {
		out, err = s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.leaseTable), Key: leaseKey(l), ConsistentRead: aws.Bool(true)})
		return err
	})
	if err != nil {
		return engine.Lease{}, false, err
	}
	if out.Item == nil {
		return engine.Lease{}, false, nil
	}
	return leaseFrom(out.Item), true, nil
}

func leaseFrom(m map[string]types.AttributeValue) engine.Lease {
	str := func(k string) string {
		if v, ok := m[k].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	tm := func(k string) time.Time {
		if v, ok := m[k].(*types.AttributeValueMemberN); ok {
			if n, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
				return time.Unix(0, n)
			}
		}
		return time.Time{}
	}
	l := engine.Lease{Dataset: str("dataset"), Env: str("env"), Holder: str("holder"), Session: str("session"),
		Acquired: tm("acquired"), Expires: tm("expires")}
	if v, ok := m["renewals"].(*types.AttributeValueMemberN); ok {
		l.Renewals, _ = strconv.ParseInt(v.Value, 10, 64)
	}
	return l
}

// ensureLeaseTable creates the lease table on first use and waits until
// it is ACTIVE.
func (s *Store) ensureLeaseTable(ctx context.Context) error {
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	if s.leases.ready {
		return nil
	}
	out, err := s.describeLeaseTable(ctx)
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		err = s.retry(ctx, func(ctx context.Context) error {
			_, err := s.api.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:            aws.String(s.leaseTable),
				BillingMode:          types.BillingModePayPerRequest,
				KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
				AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			})
			return err
		})
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) { // another session may create it too
			return fmt.Errorf("create lease table %s: %w", s.leaseTable, err)
		}
	case err != nil:
		return fmt.Errorf("describe lease table %s: %w", s.leaseTable, err)
	case out.Table.TableStatus == types.TableStatusActive:
		s.leases.ready = true
		return nil
	}
	if err := poll(ctx, func() (bool, error) {
		out, err := s.describeLeaseTable(ctx)
		if errors.As(err, &nf) {
			return false, nil // eventually consistent right after CreateTable
		}
		return err == nil && out.Table.TableStatus == types.TableStatusActive, err
	}); err != nil {
		return fmt.Errorf("wait for lease table %s: %w", s.leaseTable, err)
	}
	s.leases.ready = true
	return nil
}

// describeLeaseTable describes the lease table, retrying throttles.
func (s *Store) describeLeaseTable(ctx context.Context) (out *dynamodb.DescribeTableOutput, err error) {
	err = s.retry(ctx, func(ctx context.Context) (err error) {
		out, err = s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.leaseTable)})
		return err
	})
	return out, err
}

// SetFlag sets attr to true (on) or removes it (off) on the existing item
// with key in table (the store's own table when "").
func (s *Store) SetFlag(ctx context.Context, table string, key engine.Item, attr string, on bool) error {
	if table == "" {
		table = s.table
	}
	k, err := s.typedKey(ctx, table, key)
	if err != nil {
		return fmt.Errorf("set flag %s on %s: %w", attr, table, err)
	}
	names := map[string]string{"#a": attr}
	var cond []string
	i := 0
	for name := range key {
		p := "#k" + strconv.Itoa(i)
		names[p] = name
		cond = append(cond, "attribute_exists("+p+")")
		i++
	}
	in := &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: k, ExpressionAttributeNames: names,
		ConditionExpression: aws.String(joinAnd(cond))}
	if on {
		in.UpdateExpression = aws.String("SET #a = :on")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":on": &types.AttributeValueMemberBOOL{Value: true}}
	} else {
		in.UpdateExpression = aws.String("REMOVE #a")
	}
	if err := s.updateRetry(ctx, in); err != nil {
		if errors.Is(err, engine.ErrConditionFailed) {
			return fmt.Errorf("set flag %s on %s %v: no such item", attr, table, key)
		}
		return fmt.Errorf("set flag %s on %s: %w", attr, table, err)
	}
	return nil
}

// typedKey converts key (strings from a runbook, or typed values) to
// table's key attributes, typed as DescribeTable says: S, N, or B (a
// string is then base64).
func (s *Store) typedKey(ctx context.Context, table string, key engine.Item) (map[string]types.AttributeValue, error) {
	var out *dynamodb.DescribeTableOutput
	err := s.retry(ctx, func(ctx context.Context) (err error) {
		out, err = s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe table: %w", err)
	}
	names, kinds := keySchema(out.Table)
	k := make(map[string]types.AttributeValue, len(names))
	for _, name := range names {
		v, ok := key[name]
		if !ok {
			return nil, fmt.Errorf("table %s's key %s is missing (its key is %s)", table, name, strings.Join(names, ", "))
		}
		av, err := keyValue(kinds[name], v)
		if err != nil {
			return nil, fmt.Errorf("key %s=%q: table %s's key %s is %s", name, fmt.Sprint(v), table, name, err)
		}
		k[name] = av
	}
	for name := range key {
		if _, ok := k[name]; !ok {
			return nil, fmt.Errorf("%s is not a key attribute of table %s (its key is %s)", name, table, strings.Join(names, ", "))
		}
	}
	return k, nil
}

// decimal is a DynamoDB number.
var decimal = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// keyValue converts v to a key attribute of type typ; the error says
// what the type is.
func keyValue(typ types.ScalarAttributeType, v any) (types.AttributeValue, error) {
	str, isStr := v.(string)
	if n, ok := v.(engine.Number); ok {
		str, isStr = string(n), true
	}
	switch {
	case typ == types.ScalarAttributeTypeN && isStr && decimal.MatchString(strings.TrimSpace(str)):
		return &types.AttributeValueMemberN{Value: strings.TrimSpace(str)}, nil
	case typ == types.ScalarAttributeTypeN:
		return nil, errors.New("a number")
	case typ == types.ScalarAttributeTypeS && isStr:
		return &types.AttributeValueMemberS{Value: str}, nil
	case typ == types.ScalarAttributeTypeS:
		return nil, errors.New("a string")
	}
	if b, ok := v.([]byte); ok {
		return &types.AttributeValueMemberB{Value: b}, nil
	}
	if b, err := base64.StdEncoding.DecodeString(str); isStr && err == nil {
		return &types.AttributeValueMemberB{Value: b}, nil
	}
	return nil, errors.New("binary (base64)")
}

func joinAnd(conds []string) string {
	out := ""
	for i, c := range conds {
		if i > 0 {
			out += " AND "
		}
		out += c
	}
	return out
}
