package dynamo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
)

// Maintenance flags shared by several locks: the flag's item carries its
// holders and its earlier value next to the flag, in attr+"_holders" (a
// string set of the holding locks' dataset/env) and attr+"_before" (the
// flag's value before the first holder set it; absent when the flag was
// absent). Each change is one UpdateItem conditioned on the holders read
// just before, retried when another lock changed them meanwhile.

// flagAttempts bounds the retries of a flag update that lost a race.
const flagAttempts = 20

// flagItem addresses one shared flag.
type flagItem struct {
	table, attr string
	key         map[string]types.AttributeValue
	names       map[string]string // #a, #h, #b and the key attributes
	keysExist   string            // the item exists (an update must not create it)
}

func (s *Store) flagItem(ctx context.Context, table string, key engine.Item, attr string) (*flagItem, error) {
	if table == "" {
		table = s.table
	}
	k, err := s.typedKey(ctx, table, key)
	if err != nil {
		return nil, fmt.Errorf("on %s: %w", table, err)
	}
	f := &flagItem{table: table, attr: attr, key: k,
		names: map[string]string{"#a": attr, "#h": attr + "_holders", "#b": attr + "_before"}}
	var cond []string
	i := 0
	for name := range k {
		p := "#k" + strconv.Itoa(i)
		f.names[p] = name
		cond = append(cond, "attribute_exists("+p+")")
		i++
	}
	f.keysExist = joinAnd(cond)
	return f, nil
}

// read returns the flag's item and its holders.
func (s *Store) readFlag(ctx context.Context, f *flagItem) (map[string]types.AttributeValue, []string, error) {
	var out *dynamodb.GetItemOutput
	err := s.retry(ctx, func(ctx context.Context) (err error) {
		out, err = s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: f.key, ConsistentRead: aws.Bool(true)})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if out.Item == nil {
		return nil, nil, fmt.Errorf("on %s %v: no such item", f.table, avKey(f.key))
	}
	var holders []string
	if ss, ok := out.Item[f.attr+"_holders"].(*types.AttributeValueMemberSS); ok {
		holders = slices.Sorted(slices.Values(ss.Value))
	}
	return out.Item, holders, nil
}

// HoldFlag adds holder to the flag's holders and sets attr to true on the
// existing item with key in table (the store's own table when ""); the
// first holder records the value it replaces.
func (s *Store) HoldFlag(ctx context.Context, table string, key engine.Item, attr, holder string) (engine.FlagHold, error) {
	f, err := s.flagItem(ctx, table, key, attr)
	if err != nil {
		return engine.FlagHold{}, fmt.Errorf("hold flag %s: %w", attr, err)
	}
	me := &types.AttributeValueMemberSS{Value: []string{holder}}
	on := &types.AttributeValueMemberBOOL{Value: true}
	for range flagAttempts {
		item, holders, err := s.readFlag(ctx, f)
		if err != nil {
			return engine.FlagHold{}, fmt.Errorf("hold flag %s: %w", attr, err)
		}
		in := &dynamodb.UpdateItemInput{TableName: aws.String(f.table), Key: f.key, ExpressionAttributeNames: maps.Clone(f.names),
			ExpressionAttributeValues: map[string]types.AttributeValue{":on": on, ":me": me}}
		var before types.AttributeValue
		if len(holders) == 0 {
			// The first holder: the flag is the application's, keep it.
			before = item[attr]
			cond := f.keysExist + " AND attribute_not_exists(#h) AND attribute_not_exists(#a)"
			upd := "SET #a = :on, #h = :me REMOVE #b"
			if before != nil {
				cond = f.keysExist + " AND attribute_not_exists(#h) AND #a = :before"
				upd = "SET #a = :on, #h = :me, #b = :before"
				in.ExpressionAttributeValues[":before"] = before
			}
			in.ConditionExpression, in.UpdateExpression = aws.String(cond), aws.String(upd)
		} else {
			before = item[attr+"_before"]
			in.ConditionExpression = aws.String("attribute_exists(#h)")
			in.UpdateExpression = aws.String("SET #a = :on ADD #h :me")
			delete(in.ExpressionAttributeNames, "#b")
			for p := range f.names {
				if strings.HasPrefix(p, "#k") {
					delete(in.ExpressionAttributeNames, p)
				}
			}
		}
		err = s.updateRetry(ctx, in)
		if errors.Is(err, engine.ErrConditionFailed) {
			continue // another lock, or the application, changed the flag: read again
		}
		if err != nil {
			return engine.FlagHold{}, fmt.Errorf("hold flag %s on %s: %w", attr, f.table, err)
		}
		h := engine.FlagHold{Others: othersOf(holders, holder)}
		if before != nil {
			h.Before = fromAV(before)
		}
		return h, nil
	}
	return engine.FlagHold{}, fmt.Errorf("hold flag %s on %s: it kept changing, %d attempts", attr, f.table, flagAttempts)
}

// UnholdFlag removes holder from the flag's holders; the last one out
// restores the value from before the first holder, or removes the flag
// when it was absent.
func (s *Store) UnholdFlag(ctx context.Context, table string, key engine.Item, attr, holder string) (engine.FlagHold, error) {
	f, err := s.flagItem(ctx, table, key, attr)
	if err != nil {
		return engine.FlagHold{}, fmt.Errorf("let go of flag %s: %w", attr, err)
	}
	for range flagAttempts {
		item, holders, err := s.readFlag(ctx, f)
		if err != nil {
			return engine.FlagHold{}, fmt.Errorf("let go of flag %s: %w", attr, err)
		}
		h := engine.FlagHold{Others: othersOf(holders, holder)}
		if h.Held = len(h.Others) < len(holders); !h.Held {
			return h, nil
		}
		before := item[attr+"_before"]
		if before != nil {
			h.Before = fromAV(before)
		}
		in := &dynamodb.UpdateItemInput{TableName: aws.String(f.table), Key: f.key,
			ExpressionAttributeNames: map[string]string{"#h": attr + "_holders"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":id": &types.AttributeValueMemberS{Value: holder}, ":one": &types.AttributeValueMemberN{Value: "1"}}}
		switch {
		case len(h.Others) > 0: // the others keep it on
			in.ConditionExpression = aws.String("contains(#h, :id) AND size(#h) > :one")
			in.UpdateExpression = aws.String("DELETE #h :me")
			in.ExpressionAttributeValues[":me"] = &types.AttributeValueMemberSS{Value: []string{holder}}
		case before != nil: // the last one: restore the earlier value
			in.ConditionExpression = aws.String("contains(#h, :id) AND size(#h) = :one")
			in.UpdateExpression = aws.String("SET #a = :before REMOVE #h, #b")
			in.ExpressionAttributeNames["#a"], in.ExpressionAttributeNames["#b"] = attr, attr+"_before"
			in.ExpressionAttributeValues[":before"] = before
		default: // the last one, and the flag was absent
			in.ConditionExpression = aws.String("contains(#h, :id) AND size(#h) = :one")
			in.UpdateExpression = aws.String("REMOVE #a, #h, #b")
			in.ExpressionAttributeNames["#a"], in.ExpressionAttributeNames["#b"] = attr, attr+"_before"
		}
		err = s.updateRetry(ctx, in)
		if errors.Is(err, engine.ErrConditionFailed) {
			continue // another lock came or went: read again
		}
		if err != nil {
			return engine.FlagHold{}, fmt.Errorf("let go of flag %s on %s: %w", attr, f.table, err)
		}
		h.Restored = len(h.Others) == 0
		return h, nil
	}
	return engine.FlagHold{}, fmt.Errorf("let go of flag %s on %s: it kept changing, %d attempts", attr, f.table, flagAttempts)
}

// othersOf is holders without self.
func othersOf(holders []string, self string) []string {
	var out []string
	for _, h := range holders {
		if h != self {
			out = append(out, h)
		}
	}
	return out
}

// avKey renders a typed key for an error.
func avKey(k map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(k))
	for n, v := range k {
		out[n] = fromAV(v)
	}
	return out
}
