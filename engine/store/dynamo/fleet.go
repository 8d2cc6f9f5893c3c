package dynamo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
)

// The fleet control table (created on first use, on-demand) holds, per
// fleet, one record item (pk = fleet id, sk = "record") and one item per
// scan segment (sk = "seg#NNNNNN"). Every write to a segment after its
// claim is conditioned on the segment's claim counter: a worker that
// lost its claim (stopped, partitioned) cannot write into it any more.

// FleetAPI is the part of the DynamoDB client the control table uses.
type FleetAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

// FleetTable is a fleet control table; safe for concurrent use.
type FleetTable struct {
	api   FleetAPI
	table string
	mu    sync.Mutex
	ready bool
}

var _ fleet.Control = (*FleetTable)(nil)

// NewFleetTable returns the control table name reached through api.
func NewFleetTable(api FleetAPI, name string) *FleetTable {
	return &FleetTable{api: api, table: name}
}

// fleetRetry runs call with the lease calls' retry policy (throttles and
// 5xx, full-jitter backoff); a conditional write is safe to repeat.
func fleetRetry(ctx context.Context, call func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := translate(call(ctx))
		if err == nil || !retryable(err) || attempt == leaseAttempts {
			return err
		}
		if werr := sleepJitter(ctx, attempt); werr != nil {
			return errors.Join(err, werr)
		}
	}
}

func (t *FleetTable) ensure(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ready {
		return nil
	}
	describe := func() (*dynamodb.DescribeTableOutput, error) {
		var out *dynamodb.DescribeTableOutput
		err := fleetRetry(ctx, func(ctx context.Context) (err error) {
			out, err = t.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.table)})
			return err
		})
		return out, err
	}
	out, err := describe()
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		err = fleetRetry(ctx, func(ctx context.Context) error {
			_, err := t.api.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:   aws.String(t.table),
				BillingMode: types.BillingModePayPerRequest,
				KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
					{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
				AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
					{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
			})
			return err
		})
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) { // another session or worker may create it too
			return fmt.Errorf("create fleet table %s: %w", t.table, err)
		}
	case err != nil:
		return fmt.Errorf("describe fleet table %s: %w", t.table, err)
	case out.Table.TableStatus == types.TableStatusActive:
		t.ready = true
		return nil
	}
	if err := poll(ctx, func() (bool, error) {
		out, err := describe()
		if errors.As(err, &nf) {
			return false, nil
		}
		return err == nil && out.Table.TableStatus == types.TableStatusActive, err
	}); err != nil {
		return fmt.Errorf("wait for fleet table %s: %w", t.table, err)
	}
	t.ready = true
	return nil
}

func fleetKey(id, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(id), "sk": str(sk)}
}

func segKey(id string, n int) map[string]types.AttributeValue {
	return fleetKey(id, fmt.Sprintf("seg#%06d", n))
}

func flag(b bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: b} }

// Create writes the fleet's segment rows, then its record: a record is
// there only with all its rows, so a session stopped in between (a crash,
// Ctrl-C) leaves no record, and its resume creates the missing rows (a
// row already there is left as it is: no worker touches a fleet before
// its record exists).
func (t *FleetTable) Create(ctx context.Context, r fleet.Record) error {
	if err := t.ensure(ctx); err != nil {
		return fmt.Errorf("create fleet %s: %w", r.ID, err)
	}
	if _, err := t.Record(ctx, r.ID); err == nil {
		return fmt.Errorf("create fleet %s: %w", r.ID, fleet.ErrExists)
	} else if !errors.Is(err, fleet.ErrNotFound) {
		return fmt.Errorf("create fleet %s: %w", r.ID, err)
	}
	for n := range r.Segments {
		item := segKey(r.ID, n)
		item["n"], item["state"], item["claim"], item["beat"] = num(int64(n)), str(fleet.StateOpen), num(0), num(0)
		err := fleetRetry(ctx, func(ctx context.Context) error {
			_, err := t.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.table), Item: item,
				ConditionExpression: aws.String("attribute_not_exists(pk)")})
			return err
		})
		if err != nil && !errors.Is(err, engine.ErrConditionFailed) {
			return fmt.Errorf("create fleet %s: segment %d: %w", r.ID, n, err)
		}
	}
	item, err := recordItem(r)
	if err != nil {
		return fmt.Errorf("create fleet %s: %w", r.ID, err)
	}
	err = fleetRetry(ctx, func(ctx context.Context) error {
		_, err := t.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.table), Item: item,
			ConditionExpression: aws.String("attribute_not_exists(pk)")})
		return err
	})
	if errors.Is(err, engine.ErrConditionFailed) {
		return fmt.Errorf("create fleet %s: %w", r.ID, fleet.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create fleet %s: %w", r.ID, err)
	}
	return nil
}

// Record reads the fleet record.
func (t *FleetTable) Record(ctx context.Context, id string) (fleet.Record, error) {
	if err := t.ensure(ctx); err != nil {
		return fleet.Record{}, fmt.Errorf("read fleet %s: %w", id, err)
	}
	var out *dynamodb.GetItemOutput
	err := fleetRetry(ctx, func(ctx context.Context) (err error) {
		out, err = t.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.table),
			Key: fleetKey(id, "record"), ConsistentRead: aws.Bool(true)})
		return err
	})
	if err != nil {
		return fleet.Record{}, fmt.Errorf("read fleet %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return fleet.Record{}, fmt.Errorf("read fleet %s: %w", id, fleet.ErrNotFound)
	}
	r, err := recordOf(out.Item)
	if err != nil {
		return fleet.Record{}, fmt.Errorf("read fleet %s: %w", id, err)
	}
	return r, nil
}

// SetFlags replaces the operator controls of an existing record.
func (t *FleetTable) SetFlags(ctx context.Context, id string, f fleet.Flags) error {
	err := fleetRetry(ctx, func(ctx context.Context) error {
		_, err := t.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(t.table), Key: fleetKey(id, "record"),
			UpdateExpression:          aws.String("SET rate = :r, paused = :p, cancelled = :c"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":r": num(int64(f.Rate)), ":p": flag(f.Paused), ":c": flag(f.Cancelled)},
		})
		return err
	})
	if errors.Is(err, engine.ErrConditionFailed) {
		err = fleet.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("set fleet %s controls: %w", id, err)
	}
	return nil
}

// Segments reads every segment row, strongly consistent, in order.
func (t *FleetTable) Segments(ctx context.Context, id string) ([]fleet.Segment, error) {
	var segs []fleet.Segment
	var start map[string]types.AttributeValue
	for {
		var out *dynamodb.QueryOutput
		err := fleetRetry(ctx, func(ctx context.Context) (err error) {
			out, err = t.api.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(t.table), ConsistentRead: aws.Bool(true),
				KeyConditionExpression:    aws.String("pk = :id AND begins_with(sk, :seg)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(id), ":seg": str("seg#")},
				ExclusiveStartKey:         start})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("read fleet %s segments: %w", id, err)
		}
		for _, it := range out.Items {
			s, err := segmentOf(it)
			if err != nil {
				return nil, fmt.Errorf("read fleet %s segments: %w", id, err)
			}
			segs = append(segs, s)
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			return segs, nil
		}
	}
}
