package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.Registrar = (*Store)(nil)

// The registry (engine.RegistryRecord) lives in its own table, named by
// the store spec's registry_table or DefaultRegistryTable, created on
// first use (PAY_PER_REQUEST), one item per session: pk = environment,
// sk = session id, and one attribute per field (times in unix
// nanoseconds, ended 0 while running).

// DefaultRegistryTable is the registry table's name unless the store spec
// names another (registry_table).
const DefaultRegistryTable = "lockstep-registry"

func (s *Store) registryTable() string {
	if s.spec.RegistryTable != "" {
		return s.spec.RegistryTable
	}
	return DefaultRegistryTable
}

func registryKey(env, session string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: env},
		"sk": &types.AttributeValueMemberS{Value: session},
	}
}

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func float(v float64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatFloat(v, 'g', -1, 64)}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func nanosOrZero(t time.Time) types.AttributeValue {
	if t.IsZero() {
		return num(0)
	}
	return nanos(t)
}

// registryAttrs are r's attributes other than the key.
func registryAttrs(r engine.RegistryRecord) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"runbook": str(r.Runbook), "version": num(int64(r.Version)), "sha256": str(r.SHA256), "mode": str(string(r.Mode)),
		"outcome": str(string(r.Outcome)), "operator": str(r.Operator), "host": str(r.Host),
		"started": nanosOrZero(r.Started), "ended": nanosOrZero(r.Ended), "migrated": num(r.Migrated),
		"head": str(r.Head), "events": num(r.Events), "items_per_sec": float(r.ItemsPerSec), "avg_item_b": num(r.AvgItemB),
		"journal": str(r.Journal),
	}
}

// RecordStart puts r as running with a conditional put (no overwrite);
// when the session's item exists (a resume) it is marked running again.
func (s *Store) RecordStart(ctx context.Context, r engine.RegistryRecord) error {
	r.Outcome = engine.OutcomeRunning
	table := s.registryTable()
	if err := s.ensureRegistryTable(ctx, table); err != nil {
		return fmt.Errorf("record start of session %s: %w", r.SessionID, err)
	}
	item := registryAttrs(r)
	for k, v := range registryKey(r.Env, r.SessionID) {
		item[k] = v
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err = translate(err); errors.Is(err, engine.ErrConditionFailed) {
		_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(table), Key: registryKey(r.Env, r.SessionID),
			UpdateExpression:          aws.String("SET outcome = :o"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":o": str(string(engine.OutcomeRunning))},
		})
		err = translate(err)
	}
	if err != nil {
		return fmt.Errorf("record start of session %s: %w", r.SessionID, err)
	}
	return nil
}

// RecordEnd records r's end with a conditional update (the item missing,
// or fewer events recorded, or the same end): a stale end is ignored, the
// same events count with another head refused (engine.ErrAnchorConflict).
func (s *Store) RecordEnd(ctx context.Context, r engine.RegistryRecord) error {
	table := s.registryTable()
	if err := s.ensureRegistryTable(ctx, table); err != nil {
		return fmt.Errorf("record end of session %s: %w", r.SessionID, err)
	}
	names, values := map[string]string{}, map[string]types.AttributeValue{}
	set := ""
	for k, v := range registryAttrs(r) {
		if set != "" {
			set += ", "
		}
		set += "#" + k + " = :" + k
		names["#"+k], values[":"+k] = k, v
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: registryKey(r.Env, r.SessionID),
		UpdateExpression:          aws.String("SET " + set),
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #events < :events OR (#events = :events AND #head = :head)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err = translate(err); errors.Is(err, engine.ErrConditionFailed) {
		out, gerr := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: registryKey(r.Env, r.SessionID), ConsistentRead: aws.Bool(true)})
		var events int64
		if gerr == nil {
			events, _ = strconv.ParseInt(attrN(out.Item, "events"), 10, 64)
		}
		switch {
		case gerr != nil:
			err = translate(gerr)
		case events > r.Events:
			err = nil // a stale end
		default:
			err = fmt.Errorf("%w: session %s event %d is recorded with head %.16s…",
				engine.ErrAnchorConflict, r.SessionID, events, attrS(out.Item, "head"))
		}
	}
	if err != nil {
		return fmt.Errorf("record end of session %s: %w", r.SessionID, err)
	}
	return nil
}

// Registry returns the records of env, newest first. A missing table
// holds none. (The table is scanned: the store's narrow API has no
// Query, and records are few.)
func (s *Store) Registry(ctx context.Context, env string) ([]engine.RegistryRecord, error) {
	var (
		out   []engine.RegistryRecord
		start map[string]types.AttributeValue
	)
	for {
		page, err := s.api.Scan(ctx, &dynamodb.ScanInput{
			TableName: aws.String(s.registryTable()), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true),
			FilterExpression:          aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(env)},
		})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read the registry of %s: %w", env, translate(err))
		}
		for _, it := range page.Items {
			out = append(out, registryRecord(it))
		}
		if len(page.LastEvaluatedKey) == 0 {
			engine.SortRegistry(out)
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}

func registryRecord(it map[string]types.AttributeValue) engine.RegistryRecord {
	i64 := func(name string) int64 { n, _ := strconv.ParseInt(attrN(it, name), 10, 64); return n }
	at := func(name string) time.Time {
		if n := i64(name); n != 0 {
			return time.Unix(0, n).UTC()
		}
		return time.Time{}
	}
	perSec, _ := strconv.ParseFloat(attrN(it, "items_per_sec"), 64)
	return engine.RegistryRecord{
		Env: attrS(it, "pk"), SessionID: attrS(it, "sk"), Runbook: attrS(it, "runbook"), Version: int(i64("version")),
		SHA256: attrS(it, "sha256"), Mode: engine.Mode(attrS(it, "mode")), Outcome: engine.Outcome(attrS(it, "outcome")),
		Operator: attrS(it, "operator"), Host: attrS(it, "host"), Started: at("started"), Ended: at("ended"),
		Migrated: i64("migrated"), Head: attrS(it, "head"), Events: i64("events"), ItemsPerSec: perSec, AvgItemB: i64("avg_item_b"),
		Journal: attrS(it, "journal"),
	}
}

// ensureRegistryTable creates the registry table when missing (on-demand
// billing) and waits for it to be active.
func (s *Store) ensureRegistryTable(ctx context.Context, table string) error {
	out, err := s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		_, err = s.api.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:   aws.String(table),
			BillingMode: types.BillingModePayPerRequest,
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			},
		})
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) { // another session may create it too
			return fmt.Errorf("create registry table %s: %w", table, translate(err))
		}
	case err != nil:
		return fmt.Errorf("describe registry table %s: %w", table, translate(err))
	case out.Table.TableStatus == types.TableStatusActive:
		return nil
	}
	if err := s.waitActive(ctx, table); err != nil {
		return fmt.Errorf("wait for registry table %s: %w", table, err)
	}
	return nil
}

func attrS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func attrN(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}
