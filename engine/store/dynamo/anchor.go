package dynamo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.Anchorer = (*Store)(nil)

// Journal anchors (engine.Anchor) live in their own table, named by
// $LOCKSTEP_ANCHOR_TABLE or DefaultAnchorTable, created on first use
// (PAY_PER_REQUEST), one item per session end: pk = "<runbook>/<env>",
// sk = "<session>#<events, 20 digits>", and attributes session, events,
// head and time (unix nanoseconds).

// DefaultAnchorTable is the anchor table's name unless
// $LOCKSTEP_ANCHOR_TABLE names another.
const DefaultAnchorTable = "lockstep-anchors"

func anchorTable() string {
	if t := os.Getenv("LOCKSTEP_ANCHOR_TABLE"); t != "" {
		return t
	}
	return DefaultAnchorTable
}

func anchorPK(runbook, env string) *types.AttributeValueMemberS {
	return &types.AttributeValueMemberS{Value: runbook + "/" + env}
}

func anchorKey(a engine.Anchor) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": anchorPK(a.Runbook, a.Env),
		"sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("%s#%020d", a.SessionID, a.Events)},
	}
}

// RecordAnchor stores a with a conditional put (no overwrite). The same
// anchor again is a no-op; the same session and events count with another
// head fails with engine.ErrAnchorConflict.
func (s *Store) RecordAnchor(ctx context.Context, a engine.Anchor) error {
	if a.Time.IsZero() {
		a.Time = time.Now()
	}
	table := anchorTable()
	if err := s.ensureAnchorTable(ctx, table); err != nil {
		return fmt.Errorf("record anchor of session %s: %w", a.SessionID, err)
	}
	item := anchorKey(a)
	item["session"] = &types.AttributeValueMemberS{Value: a.SessionID}
	item["events"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(a.Events, 10)}
	item["head"] = &types.AttributeValueMemberS{Value: a.Head}
	item["time"] = nanos(a.Time)
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err = translate(err); errors.Is(err, engine.ErrConditionFailed) {
		out, gerr := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: anchorKey(a), ConsistentRead: aws.Bool(true)})
		switch {
		case gerr != nil:
			err = translate(gerr)
		case attrS(out.Item, "head") == a.Head:
			err = nil
		default:
			err = fmt.Errorf("%w: session %s event %d is anchored with head %.16s…",
				engine.ErrAnchorConflict, a.SessionID, a.Events, attrS(out.Item, "head"))
		}
	}
	if err != nil {
		return fmt.Errorf("record anchor of session %s: %w", a.SessionID, err)
	}
	return nil
}

// Anchors returns the anchors of runbook in env. A missing table holds
// none. (The table is scanned: the store's narrow API has no Query, and
// anchors are few.)
func (s *Store) Anchors(ctx context.Context, runbook, env string) ([]engine.Anchor, error) {
	table := anchorTable()
	var (
		out   []engine.Anchor
		start map[string]types.AttributeValue
	)
	for {
		page, err := s.api.Scan(ctx, &dynamodb.ScanInput{
			TableName: aws.String(table), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true),
			FilterExpression:          aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": anchorPK(runbook, env)},
		})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read anchors of %s in %s: %w", runbook, env, translate(err))
		}
		for _, it := range page.Items {
			a := engine.Anchor{Runbook: runbook, Env: env, SessionID: attrS(it, "session"), Head: attrS(it, "head")}
			a.Events, _ = strconv.ParseInt(attrN(it, "events"), 10, 64)
			ns, _ := strconv.ParseInt(attrN(it, "time"), 10, 64)
			a.Time = time.Unix(0, ns).UTC()
			out = append(out, a)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}

// ensureAnchorTable creates the anchor table when missing and waits for
// it to be active.
func (s *Store) ensureAnchorTable(ctx context.Context, table string) error {
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
			return fmt.Errorf("create anchor table %s: %w", table, translate(err))
		}
	case err != nil:
		return fmt.Errorf("describe anchor table %s: %w", table, translate(err))
	case out.Table.TableStatus == types.TableStatusActive:
		return nil
	}
	if err := s.waitActive(ctx, table); err != nil {
		return fmt.Errorf("wait for anchor table %s: %w", table, err)
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
