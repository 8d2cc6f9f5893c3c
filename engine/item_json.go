package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// MarshalItem encodes an item as typed JSON in DynamoDB's style
// ({"a":{"S":"x"},"n":{"N":"1.50"},"b":{"B":"<base64>"},"l":{"L":[…]},
// "m":{"M":{…}},"ss":{"SS":[…]},"t":{"BOOL":true},"z":{"NULL":true}}).
// The encoding is lossless and deterministic: keys are sorted and set
// elements ordered, so equal items give equal bytes and stable checksums.
func MarshalItem(it Item) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeMap(&buf, it); err != nil {
		return nil, fmt.Errorf("marshal item: %w", err)
	}
	return buf.Bytes(), nil
}

func writeMap(buf *bytes.Buffer, m map[string]any) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, k)
		buf.WriteByte(':')
		if err := writeValue(buf, m[k]); err != nil {
			return fmt.Errorf("attribute %q: %w", k, err)
		}
	}
	buf.WriteByte('}')
	return nil
}

func writeValue(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString(`{"NULL":true}`)
	case string:
		buf.WriteString(`{"S":`)
		writeString(buf, x)
		buf.WriteByte('}')
	case Number:
		if !validNumber(x) {
			return fmt.Errorf("invalid number %q", string(x))
		}
		buf.WriteString(`{"N":`)
		writeString(buf, string(x))
		buf.WriteByte('}')
	case bool:
		fmt.Fprintf(buf, `{"BOOL":%t}`, x)
	case []byte:
		buf.WriteString(`{"B":"`)
		buf.WriteString(base64.StdEncoding.EncodeToString(x))
		buf.WriteString(`"}`)
	case StringSet:
		s := slices.Clone(x)
		slices.Sort(s)
		writeStrings(buf, "SS", s)
	case NumberSet:
		s := make([]string, len(x))
		for i, n := range x {
			if !validNumber(n) {
				return fmt.Errorf("invalid number %q in set", string(n))
			}
			s[i] = string(n)
		}
		slices.SortFunc(s, compareDecimal)
		writeStrings(buf, "NS", s)
	case BinarySet:
		s := slices.Clone([][]byte(x))
		slices.SortFunc(s, bytes.Compare)
		enc := make([]string, len(s))
		for i, b := range s {
			enc[i] = base64.StdEncoding.EncodeToString(b)
		}
		writeStrings(buf, "BS", enc)
	case []any:
		buf.WriteString(`{"L":[`)
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeValue(buf, e); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		buf.WriteString(`]}`)
	case Item:
		return writeValue(buf, map[string]any(x))
	case map[string]any:
		buf.WriteString(`{"M":`)
		if err := writeMap(buf, x); err != nil {
			return err
		}
		buf.WriteByte('}')
	default:
		// Go numbers and typed slices: FromExpr maps them onto the value
		// model types handled above, so this recursion ends.
		c, err := FromExpr(v)
		if err != nil {
			return err
		}
		return writeValue(buf, c)
	}
	return nil
}

func writeStrings(buf *bytes.Buffer, tag string, s []string) {
	buf.WriteString(`{"` + tag + `":[`)
	for i, e := range s {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, e)
	}
	buf.WriteString(`]}`)
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always marshals
	buf.Write(b)
}

func compareDecimal(a, b string) int {
	ra, _ := new(big.Rat).SetString(a)
	rb, _ := new(big.Rat).SetString(b)
	if c := ra.Cmp(rb); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// validNumber reports whether n is a decimal number (no NaN, no Inf, no
// hexadecimal), the forms DynamoDB accepts.
func validNumber(n Number) bool {
	s := string(n)
	if s == "" || strings.ContainsAny(s, "xXpP_/") {
		return false
	}
	lower := strings.ToLower(s)
	if strings.Contains(lower, "inf") || strings.Contains(lower, "nan") {
		return false
	}
	_, ok := new(big.Rat).SetString(s)
	return ok
}

// UnmarshalItem decodes typed JSON written by MarshalItem (or DynamoDB
// JSON in general) back into an item.
func UnmarshalItem(b []byte) (Item, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("unmarshal item: %w", err)
	}
	if raw == nil {
		return nil, errors.New("unmarshal item: not a JSON object")
	}
	it, err := decodeMap(raw)
	if err != nil {
		return nil, fmt.Errorf("unmarshal item: %w", err)
	}
	return Item(it), nil
}

func decodeMap(raw map[string]json.RawMessage) (map[string]any, error) {
	out := make(map[string]any, len(raw))
	for k, r := range raw {
		v, err := decodeValue(r)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

func decodeValue(r json.RawMessage) (any, error) {
	var typed map[string]json.RawMessage
	if err := json.Unmarshal(r, &typed); err != nil {
		return nil, err
	}
	if len(typed) != 1 {
		return nil, fmt.Errorf("want exactly one type tag, got %d", len(typed))
	}
	for tag, body := range typed {
		return decodeTagged(tag, body)
	}
	panic("unreachable")
}

func decodeTagged(tag string, body json.RawMessage) (any, error) {
	switch tag {
	case "S":
		var s string
		err := json.Unmarshal(body, &s)
		return s, err
	case "N":
		var s string
		if err := json.Unmarshal(body, &s); err != nil {
			return nil, err
		}
		if !validNumber(Number(s)) {
			return nil, fmt.Errorf("invalid number %q", s)
		}
		return Number(s), nil
	case "B":
		var b []byte // encoding/json decodes base64 into []byte
		err := json.Unmarshal(body, &b)
		if b == nil && err == nil {
			b = []byte{}
		}
		return b, err
	case "BOOL":
		var t bool
		err := json.Unmarshal(body, &t)
		return t, err
	case "NULL":
		return nil, nil
	case "SS":
		var s []string
		err := json.Unmarshal(body, &s)
		return StringSet(s), err
	case "NS":
		return decodeNumberSet(body)
	case "BS":
		var s [][]byte
		err := json.Unmarshal(body, &s)
		return BinarySet(s), err
	case "L":
		return decodeList(body)
	case "M":
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, err
		}
		return decodeMap(raw)
	}
	return nil, fmt.Errorf("unknown type tag %q", tag)
}

func decodeNumberSet(body json.RawMessage) (any, error) {
	var s []string
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, err
	}
	ns := make(NumberSet, len(s))
	for i, e := range s {
		if !validNumber(Number(e)) {
			return nil, fmt.Errorf("invalid number %q in set", e)
		}
		ns[i] = Number(e)
	}
	return ns, nil
}

func decodeList(body json.RawMessage) (any, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	out := make([]any, len(raw))
	for i, r := range raw {
		v, err := decodeValue(r)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}
