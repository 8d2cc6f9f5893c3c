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

var _ engine.LeaseTaker = (*Store)(nil)

// TakeLease takes the lease over with a PutItem conditioned on the record
// being exactly seen: same session, expiry and renewal count. A renewal
// or a new holder since makes it a *engine.LeaseHeldError; a lease
// released meanwhile is acquired as usual.
func (s *Store) TakeLease(ctx context.Context, l engine.Lease, seen engine.Lease) (engine.Lease, error) {
	if l.Acquired.IsZero() {
		l.Acquired = time.Now()
	}
	if err := s.ensureLeaseTable(ctx); err != nil {
		return engine.Lease{}, fmt.Errorf("take over lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	cond := "#session = :seen AND #expires = :seenexp AND "
	values := map[string]types.AttributeValue{
		":seen": &types.AttributeValueMemberS{Value: seen.Session}, ":seenexp": nanos(seen.Expires)}
	if seen.Renewals == 0 {
		cond += "attribute_not_exists(#renewals)"
	} else {
		cond += "#renewals = :seenren"
		values[":seenren"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(seen.Renewals, 10)}
	}
	err := s.retry(ctx, func(ctx context.Context) error {
		_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.leaseTable), Item: leaseItem(l), ConditionExpression: aws.String(cond),
			ExpressionAttributeNames:  map[string]string{"#session": "session", "#expires": "expires", "#renewals": "renewals"},
			ExpressionAttributeValues: values,
		})
		return err
	})
	if errors.Is(err, engine.ErrConditionFailed) {
		cur, found, rerr := s.readLease(ctx, l)
		switch {
		case rerr != nil:
			err = rerr
		case !found: // released meanwhile
			return s.AcquireLease(ctx, l, false)
		case cur.Session == l.Session: // our own write, its answer lost and retried
			return l, nil
		default:
			err = &engine.LeaseHeldError{Lease: cur}
		}
	}
	if err != nil {
		return engine.Lease{}, fmt.Errorf("take over lease %s/%s: %w", l.Dataset, l.Env, err)
	}
	return l, nil
}
