package engine

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// ToExpr converts an item to the map an expr-lang expression sees as
// `item`: a Number becomes an int when it is integral and fits in int64,
// a float64 when it is not integral and float64 holds it (see
// numberToExpr), and stays a Number otherwise; sets become []any; []byte
// stays; nested maps and lists are converted recursively.
//
// A Number that stays a Number is passed through untouched: copied as-is
// it is written back digit for digit (FromExpr keeps it), string(x) gives
// its digits, == and != are exact (it equals no int or float64), and
// arithmetic or an ordering comparison on it is an evaluation error, so
// the item fails instead of being written rounded (see ErrInexactNumber).
func ToExpr(it Item) map[string]any {
	out := make(map[string]any, len(it))
	ToExprInto(out, it)
	return out
}

// ToExprInto adds ToExpr(it)'s entries to out.
func ToExprInto(out map[string]any, it Item) {
	for k, v := range it {
		out[k] = ToExprValue(v)
	}
}

// ToExprValue converts one attribute value as ToExpr converts an item.
func ToExprValue(v any) any {
	switch x := v.(type) {
	case Number:
		return numberToExpr(x)
	case StringSet:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case NumberSet:
		out := make([]any, len(x))
		for i, n := range x {
			out[i] = numberToExpr(n)
		}
		return out
	case BinarySet:
		out := make([]any, len(x))
		for i, b := range x {
			out[i] = b
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ToExprValue(e)
		}
		return out
	case Item:
		return ToExpr(x)
	case map[string]any:
		return ToExpr(Item(x))
	default:
		return v
	}
}

// numberToExpr returns n as an int when integral and within int64, as a
// float64 when it has a fractional part and float64 holds it (the
// shortest decimal form of the nearest float64 is n: copying or comparing
// it is exact), and as n itself otherwise: an integer beyond int64 or a
// decimal with more digits than float64 keeps. Expressions cannot compute
// with such a Number, so nothing rounds it silently. Text that is not a
// number at all is returned as a string.
func numberToExpr(n Number) any {
	s := string(n)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return int(i)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err == nil && strconv.FormatFloat(f, 'f', -1, 64) == s && f != math.Trunc(f) {
		return f // the common case: a short decimal written in its shortest form
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return s // not a number at all: let the expression see the text
	}
	if r.IsInt() {
		if r.Num().IsInt64() {
			return int(r.Num().Int64())
		}
		return n // beyond int64: int64 overflows, float64 rounds
	}
	if err != nil || math.IsInf(f, 0) {
		return n
	}
	if back, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64)); ok && back.Cmp(r) == 0 {
		return f
	}
	return n
}

// IsInexactNumber reports whether v is a number as numberToExpr passes it
// through: one expressions cannot compute with exactly.
func IsInexactNumber(v any) bool {
	_, ok := v.(Number)
	return ok
}

// FromExpr converts an expression result back to the value model: Go
// integers become an exact Number, float64 a Number with the shortest
// exact decimal form (NaN and ±Inf are errors); strings, bools, nil,
// []byte, Numbers and sets are kept; slices and string-keyed maps are
// converted recursively.
func FromExpr(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, []byte, Number, StringSet, NumberSet, BinarySet:
		return v, nil
	case int:
		return Number(strconv.FormatInt(int64(x), 10)), nil
	case int8:
		return Number(strconv.FormatInt(int64(x), 10)), nil
	case int16:
		return Number(strconv.FormatInt(int64(x), 10)), nil
	case int32:
		return Number(strconv.FormatInt(int64(x), 10)), nil
	case int64:
		return Number(strconv.FormatInt(x, 10)), nil
	case uint:
		return Number(strconv.FormatUint(uint64(x), 10)), nil
	case uint8:
		return Number(strconv.FormatUint(uint64(x), 10)), nil
	case uint16:
		return Number(strconv.FormatUint(uint64(x), 10)), nil
	case uint32:
		return Number(strconv.FormatUint(uint64(x), 10)), nil
	case uint64:
		return Number(strconv.FormatUint(x, 10)), nil
	case float32:
		return floatNumber(float64(x))
	case float64:
		return floatNumber(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := FromExpr(e)
			if err != nil {
				return nil, fmt.Errorf("list element %d: %w", i, err)
			}
			out[i] = c
		}
		return out, nil
	case Item:
		return FromExpr(map[string]any(x))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := FromExpr(e)
			if err != nil {
				return nil, fmt.Errorf("map key %q: %w", k, err)
			}
			out[k] = c
		}
		return out, nil
	}
	return fromExprReflect(v)
}

// fromExprReflect handles typed slices ([]string, []int, …) and maps with
// string keys that expression functions may return.
func fromExprReflect(v any) (any, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			c, err := FromExpr(rv.Index(i).Interface())
			if err != nil {
				return nil, fmt.Errorf("list element %d: %w", i, err)
			}
			out[i] = c
		}
		return out, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			k := it.Key().String()
			c, err := FromExpr(it.Value().Interface())
			if err != nil {
				return nil, fmt.Errorf("map key %q: %w", k, err)
			}
			out[k] = c
		}
		return out, nil
	case reflect.String:
		return rv.String(), nil
	}
	return nil, fmt.Errorf("value of type %T has no store representation", v)
}

func floatNumber(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %v cannot be stored", f)
	}
	return Number(strconv.FormatFloat(f, 'f', -1, 64)), nil
}

// EqualValues reports whether a and b are the same value in the value
// model: Numbers (and Go numeric types) compare numerically as decimals
// ("1.0" equals "1"), sets compare regardless of order, lists in order,
// maps by key; Item and map[string]any are interchangeable.
func EqualValues(a, b any) bool {
	if ra, ok := numericRat(a); ok {
		rb, ok := numericRat(b)
		return ok && ra.Cmp(rb) == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case StringSet:
		y, ok := b.(StringSet)
		return ok && sameSet(x, y, func(p, q string) bool { return p == q })
	case NumberSet:
		y, ok := b.(NumberSet)
		return ok && sameSet(x, y, func(p, q Number) bool { return EqualValues(p, q) })
	case BinarySet:
		y, ok := b.(BinarySet)
		return ok && sameSet(x, y, bytes.Equal)
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, EqualValues)
	case Item:
		return equalMaps(x, b)
	case map[string]any:
		return equalMaps(x, b)
	}
	return reflect.DeepEqual(a, b)
}

func equalMaps(x map[string]any, b any) bool {
	var y map[string]any
	switch m := b.(type) {
	case Item:
		y = m
	case map[string]any:
		y = m
	default:
		return false
	}
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		w, ok := y[k]
		if !ok || !EqualValues(v, w) {
			return false
		}
	}
	return true
}

// sameSet reports whether x and y hold the same elements (each element of
// x matched by a distinct element of y).
func sameSet[T any](x, y []T, eq func(T, T) bool) bool {
	if len(x) != len(y) {
		return false
	}
	used := make([]bool, len(y))
outer:
	for _, e := range x {
		for j, f := range y {
			if !used[j] && eq(e, f) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

// numericRat returns v as an exact rational when it is a Number or a Go
// numeric type.
func numericRat(v any) (*big.Rat, bool) {
	switch x := v.(type) {
	case Number:
		return new(big.Rat).SetString(string(x))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		n, err := FromExpr(x)
		if err != nil {
			return nil, false
		}
		return new(big.Rat).SetString(string(n.(Number)))
	}
	return nil, false
}

// CompareNumbers compares two decimal Numbers numerically: -1, 0 or +1.
// ok is false when either is not a valid number.
func CompareNumbers(a, b Number) (cmp int, ok bool) {
	ra, ok1 := new(big.Rat).SetString(string(a))
	rb, ok2 := new(big.Rat).SetString(string(b))
	if !ok1 || !ok2 {
		return 0, false
	}
	return ra.Cmp(rb), true
}

// KeyOf returns the key attributes of it (a new Item holding only the
// attributes named in key that it has).
func KeyOf(it Item, key []string) Item {
	out := make(Item, len(key))
	for _, k := range key {
		if v, ok := it[k]; ok {
			out[k] = v
		}
	}
	return out
}

// KeyText renders a key for messages: {id=7}, attributes in name order
// (SQL stores' errors name rows this way).
func KeyText(key Item) string {
	parts := make([]string, 0, len(key))
	for _, k := range slices.Sorted(maps.Keys(key)) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, key[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// AsStoredLike returns v, a value an expression computed, with the set
// types of old, the value the attribute had, restored: expressions see
// sets as lists, so a list whose elements are all of a set's element type
// (strings, Numbers or []byte) where old was a set of that type becomes
// that set again, duplicates dropped (the first kept). Maps are matched key
// by key and lists position by position, so sets nested in them are
// restored too. Anything else is returned as is: a list where there was no
// set, or whose elements do not fit the set, stays a list.
//
// empty is true when v is an empty list where old was a set: DynamoDB
// allows no empty set, and the caller removes the attribute (as DynamoDB's
// own DELETE of a set's last elements does). An empty set nested in a map
// removes that key of the map; nested in a list it stays an empty list.
func AsStoredLike(old, v any) (out any, empty bool) {
	switch o := old.(type) {
	case StringSet, NumberSet, BinarySet:
		l, ok := v.([]any)
		if !ok {
			return v, false
		}
		if len(l) == 0 {
			return v, true
		}
		if s, ok := listAsSet(o, l); ok {
			return s, false
		}
	case Item:
		return AsStoredLike(map[string]any(o), v)
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			return v, false
		}
		res := make(map[string]any, len(m))
		for k, e := range m {
			ov, had := o[k]
			if !had {
				res[k] = e
				continue
			}
			if r, empty := AsStoredLike(ov, e); !empty {
				res[k] = r
			}
		}
		return res, false
	case []any:
		l, ok := v.([]any)
		if !ok {
			return v, false
		}
		res := make([]any, len(l))
		for i, e := range l {
			res[i] = e
			if i < len(o) {
				res[i], _ = AsStoredLike(o[i], e)
			}
		}
		return res, false
	}
	return v, false
}

// listAsSet converts l to a set of the same type as set when every element
// of l fits it, dropping duplicates.
func listAsSet(set any, l []any) (any, bool) {
	switch set.(type) {
	case StringSet:
		return dedupe[StringSet](l, func(e any) (string, string, bool) {
			s, ok := e.(string)
			return s, s, ok
		})
	case NumberSet:
		return dedupe[NumberSet](l, func(e any) (Number, string, bool) {
			n, ok := e.(Number)
			if !ok {
				return "", "", false
			}
			r, ok := new(big.Rat).SetString(string(n)) // 1.0 and 1 are one element
			if !ok {
				return "", "", false
			}
			return n, r.RatString(), true
		})
	case BinarySet:
		return dedupe[BinarySet](l, func(e any) ([]byte, string, bool) {
			b, ok := e.([]byte)
			return b, string(b), ok
		})
	}
	return nil, false
}

// dedupe converts every element of l with conv, which also gives its
// identity, keeping the first of equal ones; false when one does not fit.
func dedupe[S ~[]E, E any](l []any, conv func(any) (E, string, bool)) (any, bool) {
	out := make(S, 0, len(l))
	seen := make(map[string]bool, len(l))
	for _, e := range l {
		v, k, ok := conv(e)
		if !ok {
			return nil, false
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out, true
}
