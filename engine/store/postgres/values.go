package postgres

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// readValue turns what a row holds for column c (as selected by
// selectExpr) into an item value.
func readValue(c column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.kind {
	case kindNumber:
		s, _ := v.(string)
		if _, err := strconv.ParseFloat(s, 64); err != nil || s == "NaN" || s == "Infinity" || s == "-Infinity" {
			return s, nil // NaN and infinities have no Number form
		}
		return engine.Number(s), nil
	case kindJSON, kindArray:
		s, _ := v.(string)
		out, err := decodeJSON([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("column %q (%s): %w", c.name, c.typ, err)
		}
		return out, nil
	case kindTime:
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format(time.RFC3339Nano), nil
		}
		return fmt.Sprint(v), nil // ±infinity
	}
	return v, nil // string, bool, []byte
}

// decodeJSON decodes JSON with its numbers as engine.Number.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return fromJSON(v), nil
}

func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		return engine.Number(x.String())
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSON(e)
		}
	case []any:
		for i, e := range x {
			x[i] = fromJSON(e)
		}
	}
	return v
}

// plainJSON turns an item value into one encoding/json writes as plain
// JSON: numbers exact, sets as arrays, binary as base64.
func plainJSON(v any) any {
	switch x := v.(type) {
	case engine.Number:
		return json.Number(x)
	case engine.NumberSet:
		out := make([]json.Number, len(x))
		for i, n := range x {
			out[i] = json.Number(n)
		}
		return out
	case engine.Item:
		return plainJSON(map[string]any(x))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plainJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainJSON(e)
		}
		return out
	}
	return v
}

// bindValue returns the argument for value v written to column c and the
// SQL expression that casts placeholder ph ($n) to the column's type.
func bindValue(c column, v any, ph string) (arg any, expr string, err error) {
	if v == nil {
		return nil, ph + "::" + c.typ, nil
	}
	switch v.(type) {
	case string, []byte, bool, engine.Number, engine.StringSet, engine.NumberSet, engine.BinarySet,
		[]any, map[string]any, engine.Item:
	default:
		conv, err := engine.FromExpr(v)
		if err != nil {
			return nil, "", fmt.Errorf("column %q (%s): %w", c.name, c.typ, err)
		}
		return bindValue(c, conv, ph)
	}
	switch c.kind {
	case kindBytes:
		switch x := v.(type) {
		case []byte:
			return x, ph + "::bytea", nil
		case string, engine.Number: // text goes in as its UTF-8 bytes
			t, _ := scalarText(x)
			return []byte(t), ph + "::bytea", nil
		}
	case kindJSON:
		b, err := json.Marshal(plainJSON(v))
		if err != nil {
			return nil, "", fmt.Errorf("column %q (%s): %w", c.name, c.typ, err)
		}
		return string(b), ph + "::text::" + c.typ, nil
	case kindArray:
		elems, ok := arrayElems(v)
		if !ok {
			break
		}
		return elems, ph + "::text[]::" + c.typ, nil
	default:
		if s, ok := scalarText(v); ok {
			return s, ph + "::text::" + c.typ, nil
		}
	}
	return nil, "", fmt.Errorf("column %q of type %s cannot hold a %s value", c.name, c.typ, typeName(v))
}

// scalarText is the text form of a scalar value, which the server casts
// to the column's type.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case engine.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// arrayElems is a list or set as the text of its elements (nil for NULL;
// maps and lists nested in it as JSON).
func arrayElems(v any) ([]*string, bool) {
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case engine.StringSet:
		for _, e := range x {
			list = append(list, e)
		}
	case engine.NumberSet:
		for _, e := range x {
			list = append(list, e)
		}
	default:
		return nil, false
	}
	out := make([]*string, len(list))
	for i, e := range list {
		if e == nil {
			continue
		}
		s, ok := scalarText(e)
		if !ok {
			b, err := json.Marshal(plainJSON(e))
			if err != nil {
				return nil, false
			}
			s = string(b)
		}
		out[i] = &s
	}
	return out, true
}

func typeName(v any) string {
	switch v.(type) {
	case []byte:
		return "binary"
	case map[string]any, engine.Item:
		return "map"
	case []any:
		return "list"
	case engine.StringSet, engine.NumberSet, engine.BinarySet:
		return "set"
	case bool:
		return "boolean"
	case engine.Number:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// guardExpr is the column as compared in a guard: json has no equality
// operator, so it compares as jsonb.
func (c column) guardExpr() string {
	switch {
	case c.typ == "json":
		return quote(c.name) + "::jsonb"
	case c.citext:
		// citext folds case in any collation: its text, byte by byte.
		return quote(c.name) + `::text COLLATE "C"`
	case c.collatable:
		// Byte by byte, as the transform read it: in a case-insensitive
		// collation "ABC" another writer wrote since equals the "abc"
		// read, and the guard would let a write computed from "abc"
		// overwrite it.
		return quote(c.name) + ` COLLATE "C"`
	}
	return quote(c.name)
}

// guardCast adapts a bound value's expression to guardExpr.
func (c column) guardCast(expr string) string {
	switch {
	case c.typ == "json":
		return "(" + expr + ")::jsonb"
	case c.citext: // text against text: citext's own operator would fold case
		return "(" + expr + ")::text"
	}
	return expr
}
