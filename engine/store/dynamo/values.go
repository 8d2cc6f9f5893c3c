package dynamo

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
)

// toAV converts a value-model value to a DynamoDB attribute value, exactly
// (a Number stays its decimal string).
func toAV(v any) (types.AttributeValue, error) {
	switch x := v.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case string:
		return &types.AttributeValueMemberS{Value: x}, nil
	case engine.Number:
		return &types.AttributeValueMemberN{Value: string(x)}, nil
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}, nil
	case []byte:
		return &types.AttributeValueMemberB{Value: x}, nil
	case engine.StringSet:
		if len(x) == 0 {
			return nil, errEmptySet("string")
		}
		return &types.AttributeValueMemberSS{Value: []string(x)}, nil
	case engine.NumberSet:
		if len(x) == 0 {
			return nil, errEmptySet("number")
		}
		ns := make([]string, len(x))
		for i, n := range x {
			ns[i] = string(n)
		}
		return &types.AttributeValueMemberNS{Value: ns}, nil
	case engine.BinarySet:
		if len(x) == 0 {
			return nil, errEmptySet("binary")
		}
		return &types.AttributeValueMemberBS{Value: [][]byte(x)}, nil
	case []any:
		l := make([]types.AttributeValue, len(x))
		for i, e := range x {
			av, err := toAV(e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			l[i] = av
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case engine.Item:
		return toAV(map[string]any(x))
	case map[string]any:
		m, err := toAVMap(x)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	c, err := engine.FromExpr(v) // Go numbers, typed slices
	if err != nil {
		return nil, err
	}
	return toAV(c)
}

// errEmptySet is toAV's error for an empty set of kind ("string", …),
// which DynamoDB refuses ("ValidationException: … may not be empty").
func errEmptySet(kind string) error {
	return fmt.Errorf("DynamoDB does not allow an empty %s set; remove the attribute instead", kind)
}

// checkValue reports the first value in v that DynamoDB refuses — an
// empty set, at any depth — as toAV would, without converting v.
func checkValue(v any) error {
	switch x := v.(type) {
	case engine.StringSet:
		if len(x) == 0 {
			return errEmptySet("string")
		}
	case engine.NumberSet:
		if len(x) == 0 {
			return errEmptySet("number")
		}
	case engine.BinarySet:
		if len(x) == 0 {
			return errEmptySet("binary")
		}
	case []any:
		for i, e := range x {
			if err := checkValue(e); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
	case engine.Item:
		return checkValue(map[string]any(x))
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if err := checkValue(x[k]); err != nil {
				return fmt.Errorf("attribute %q: %w", k, err)
			}
		}
	}
	return nil
}

// CheckValue reports whether DynamoDB accepts v as the value of attribute
// attr; migrate asks it while planning, so a dry-run flags an item a live
// run could not write (an empty set) and a live run fails the item without
// sending the doomed write.
func (s *Store) CheckValue(attr string, v any) error {
	if err := checkValue(v); err != nil {
		return fmt.Errorf("attribute %s: %w", attr, err)
	}
	return nil
}

func toAVMap(m map[string]any) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		av, err := toAV(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

// fromAV converts a DynamoDB attribute value to the value model.
func fromAV(av types.AttributeValue) any {
	switch x := av.(type) {
	case *types.AttributeValueMemberS:
		return x.Value
	case *types.AttributeValueMemberN:
		return engine.Number(x.Value)
	case *types.AttributeValueMemberB:
		return x.Value
	case *types.AttributeValueMemberBOOL:
		return x.Value
	case *types.AttributeValueMemberNULL:
		return nil
	case *types.AttributeValueMemberSS:
		return engine.StringSet(x.Value)
	case *types.AttributeValueMemberNS:
		ns := make(engine.NumberSet, len(x.Value))
		for i, n := range x.Value {
			ns[i] = engine.Number(n)
		}
		return ns
	case *types.AttributeValueMemberBS:
		return engine.BinarySet(x.Value)
	case *types.AttributeValueMemberL:
		l := make([]any, len(x.Value))
		for i, e := range x.Value {
			l[i] = fromAV(e)
		}
		return l
	case *types.AttributeValueMemberM:
		return map[string]any(fromAVMap(x.Value))
	}
	return nil
}

func fromAVMap(m map[string]types.AttributeValue) engine.Item {
	it := make(engine.Item, len(m))
	for k, v := range m {
		it[k] = fromAV(v)
	}
	return it
}
