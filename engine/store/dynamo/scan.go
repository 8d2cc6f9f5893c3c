package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lockstep-run/lockstep/engine"
)

// Scan reads one page of one segment of a parallel Scan. The cursor is the
// LastEvaluatedKey in engine.MarshalItem's typed JSON.
func (s *Store) Scan(ctx context.Context, req engine.ScanRequest) (engine.Page, error) {
	in := &dynamodb.ScanInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(req.Consistent)}
	if req.TotalSegments > 1 {
		in.Segment = aws.Int32(int32(req.Segment))
		in.TotalSegments = aws.Int32(int32(req.TotalSegments))
	}
	if req.Limit > 0 {
		in.Limit = aws.Int32(int32(req.Limit))
	}
	if req.Cursor != nil {
		start, err := engine.UnmarshalItem(req.Cursor)
		if err != nil {
			return engine.Page{}, fmt.Errorf("scan %s: bad cursor: %w", s.table, err)
		}
		if in.ExclusiveStartKey, err = toAVMap(start); err != nil {
			return engine.Page{}, fmt.Errorf("scan %s: bad cursor: %w", s.table, err)
		}
	}
	out, err := s.api.Scan(ctx, in)
	if err != nil {
		return engine.Page{}, fmt.Errorf("scan %s segment %d: %w", s.table, req.Segment, translate(err))
	}
	page := engine.Page{Items: make([]engine.Item, len(out.Items)), Scanned: int(out.ScannedCount)}
	for i, it := range out.Items {
		page.Items[i] = fromAVMap(it)
	}
	if len(out.LastEvaluatedKey) > 0 {
		if page.Next, err = engine.MarshalItem(fromAVMap(out.LastEvaluatedKey)); err != nil {
			return engine.Page{}, fmt.Errorf("scan %s: %w", s.table, err)
		}
	}
	return page, nil
}

// Get reads one item with a strongly consistent GetItem.
func (s *Store) Get(ctx context.Context, key engine.Item) (engine.Item, bool, error) {
	k, err := toAVMap(key)
	if err != nil {
		return nil, false, fmt.Errorf("get from %s: %w", s.table, err)
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, false, fmt.Errorf("get from %s: %w", s.table, translate(err))
	}
	if out.Item == nil {
		return nil, false, nil
	}
	return fromAVMap(out.Item), true, nil
}

// Describe returns the key schema, DynamoDB's approximate item count and
// size (refreshed by DynamoDB about every six hours) and the provisioned
// capacity (0 for on-demand).
func (s *Store) Describe(ctx context.Context) (engine.TableInfo, error) {
	out, err := s.describeTable(ctx)
	if err != nil {
		return engine.TableInfo{}, fmt.Errorf("describe %s: %w", s.table, err)
	}
	t := out.Table
	info := engine.TableInfo{
		Table:       s.table,
		Key:         append([]string(nil), s.key...),
		ItemCount:   aws.ToInt64(t.ItemCount),
		SizeBytes:   aws.ToInt64(t.TableSizeBytes),
		Approximate: true,
		Backend:     "dynamodb",
	}
	onDemand := t.BillingModeSummary != nil && t.BillingModeSummary.BillingMode == "PAY_PER_REQUEST"
	if pt := t.ProvisionedThroughput; pt != nil && !onDemand {
		info.ReadCapacityUnits = aws.ToInt64(pt.ReadCapacityUnits)
		info.WriteCapacityUnits = aws.ToInt64(pt.WriteCapacityUnits)
	}
	return info, nil
}
