package sqlite

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// readValue converts a value the driver returned into the value model.
func readValue(v any) any {
	switch x := v.(type) {
	case int64:
		return engine.Number(strconv.FormatInt(x, 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil // SQLite stores NaN as NULL; Inf has no Number form
		}
		return engine.Number(strconv.FormatFloat(x, 'f', -1, 64))
	case []byte: // database/sql already copied it
		return x
	case time.Time: // only from expressions over date columns
		return x.UTC().Format(time.RFC3339Nano)
	default: // string, bool, nil
		return v
	}
}

// bindValue converts a value-model value into a SQLite argument.
func bindValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, []byte:
		return v, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case engine.Number:
		return bindNumber(x)
	case engine.StringSet, engine.NumberSet, engine.BinarySet, []any, map[string]any, engine.Item:
		b, err := json.Marshal(plainJSON(v))
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	c, err := engine.FromExpr(v)
	if err != nil {
		return nil, err
	}
	return bindValue(c)
}

// bindNumber binds an integral Number within int64 as INTEGER, any other
// as REAL (the nearest float64: SQLite has no wider decimal type).
func bindNumber(n engine.Number) (any, error) {
	s := string(n)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("invalid number %q", s)
	}
	if r.IsInt() && r.Num().IsInt64() {
		return r.Num().Int64(), nil
	}
	f, _ := r.Float64()
	if math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %s out of SQLite's range", s)
	}
	// REAL is a float64: refuse to round a number it cannot hold (its
	// shortest decimal form must be the number) rather than lose digits.
	if back, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64)); !ok || back.Cmp(r) != 0 {
		return nil, fmt.Errorf("number %s has more digits than SQLite's REAL holds (it would be stored as %s); store it as text in a TEXT column",
			s, strconv.FormatFloat(f, 'g', -1, 64))
	}
	return f, nil
}

// plainJSON turns a value into what encoding/json writes as natural JSON:
// Numbers as JSON numbers, sets as arrays, binary as base64 strings.
func plainJSON(v any) any {
	switch x := v.(type) {
	case engine.Number:
		return json.Number(x)
	case engine.NumberSet:
		out := make([]any, len(x))
		for i, n := range x {
			out[i] = json.Number(n)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainJSON(e)
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
	default: // string, bool, nil, []byte, StringSet, BinarySet
		return v
	}
}
