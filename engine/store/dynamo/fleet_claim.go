package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
)

// Claim takes a segment still exactly as seen (claim counter and beat),
// neither done nor failed, for owner: claim and beat go up by one.
func (t *FleetTable) Claim(ctx context.Context, id string, seen fleet.Segment, owner string, at time.Time) (fleet.Segment, error) {
	var out *dynamodb.UpdateItemOutput
	err := fleetRetry(ctx, func(ctx context.Context) (err error) {
		out, err = t.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(t.table), Key: segKey(id, seen.N),
			UpdateExpression:         aws.String("SET claim = :next, beat = beat + :one, #state = :claimed, #owner = :owner, updated = :at"),
			ConditionExpression:      aws.String("claim = :claim AND beat = :beat AND #state IN (:open, :claimed)"),
			ExpressionAttributeNames: map[string]string{"#state": "state", "#owner": "owner"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":next": num(seen.Claim + 1), ":one": num(1),
				":claimed": str(fleet.StateClaimed), ":open": str(fleet.StateOpen), ":owner": str(owner),
				":at": num(at.UnixNano()), ":claim": num(seen.Claim), ":beat": num(seen.Beat)},
			ReturnValues: types.ReturnValueAllNew,
		})
		return err
	})
	if errors.Is(err, engine.ErrConditionFailed) {
		err = fleet.ErrClaimLost
	}
	if err != nil {
		return fleet.Segment{}, fmt.Errorf("claim fleet %s segment %d: %w", id, seen.N, err)
	}
	return segmentOf(out.Attributes)
}

// Renew bumps the beat of a segment still held under claim.
func (t *FleetTable) Renew(ctx context.Context, id string, n int, claim int64, at time.Time) error {
	return t.held(ctx, "renew", id, n, claim, "SET beat = beat + :one, updated = :at",
		map[string]types.AttributeValue{":at": num(at.UnixNano())}, nil)
}

// Save checkpoints a segment still held under c.Claim.
func (t *FleetTable) Save(ctx context.Context, id string, c fleet.Checkpoint) error {
	vals, err := checkpointValues(c)
	if err != nil {
		return fmt.Errorf("checkpoint fleet %s segment %d: %w", id, c.N, err)
	}
	return t.held(ctx, "checkpoint", id, c.N, c.Claim,
		"SET beat = beat + :one, updated = :at, #cursor = :cursor, #data = :data, counts = :counts", vals,
		map[string]string{"#cursor": "cursor", "#data": "data"})
}

// Finish sets the final state of a segment still held under c.Claim.
func (t *FleetTable) Finish(ctx context.Context, id string, c fleet.Checkpoint, state, errText string) error {
	vals, err := checkpointValues(c)
	if err != nil {
		return fmt.Errorf("finish fleet %s segment %d: %w", id, c.N, err)
	}
	vals[":state"], vals[":error"] = str(state), str(errText)
	return t.held(ctx, "finish", id, c.N, c.Claim,
		"SET beat = beat + :one, updated = :at, #cursor = :cursor, #data = :data, counts = :counts, #st = :state, #error = :error", vals,
		map[string]string{"#cursor": "cursor", "#data": "data", "#error": "error"})
}

func checkpointValues(c fleet.Checkpoint) (map[string]types.AttributeValue, error) {
	counts, err := json.Marshal(c.Counts)
	if err != nil {
		return nil, err
	}
	return map[string]types.AttributeValue{":at": num(c.At.UnixNano()), ":cursor": bin(c.Cursor),
		":data": bin(c.Data), ":counts": str(string(counts))}, nil
}

// bin stores b behind a one-byte tag: a binary attribute may not be
// empty on every DynamoDB-compatible server, and a nil cursor must read
// back as nil (unbin).
func bin(b []byte) types.AttributeValue {
	return &types.AttributeValueMemberB{Value: append([]byte{1}, b...)}
}

// held runs an update of a segment conditioned on its claim counter and
// its state being claimed; a failed condition is fleet.ErrClaimLost.
func (t *FleetTable) held(ctx context.Context, op, id string, n int, claim int64, update string,
	vals map[string]types.AttributeValue, names map[string]string) error {
	if names == nil {
		names = map[string]string{}
	}
	names["#st"] = "state"
	vals[":one"], vals[":mine"], vals[":claimed"] = num(1), num(claim), str(fleet.StateClaimed)
	err := fleetRetry(ctx, func(ctx context.Context) error {
		_, err := t.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(t.table), Key: segKey(id, n),
			UpdateExpression: aws.String(update), ConditionExpression: aws.String("claim = :mine AND #st = :claimed"),
			ExpressionAttributeNames: names, ExpressionAttributeValues: vals})
		return err
	})
	if errors.Is(err, engine.ErrConditionFailed) {
		err = fleet.ErrClaimLost
	}
	if err != nil {
		return fmt.Errorf("%s fleet %s segment %d (claim %d): %w", op, id, n, claim, err)
	}
	return nil
}
