package engine

import "strings"

// ItemSize estimates an item's size in bytes with DynamoDB's rules, the
// basis of write and read capacity unit math: each attribute name's
// length plus its value's size, where a string or binary is its length,
// a number about one byte per two significant digits plus one, a bool or
// null one byte, a list or map three bytes plus one per element plus its
// elements (map element names included), and a set the sum of its elements.
func ItemSize(it Item) int {
	n := 0
	for k, v := range it {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []byte:
		return len(x)
	case Number:
		return numberSize(x)
	case bool, nil:
		return 1
	case StringSet:
		n := 0
		for _, s := range x {
			n += len(s)
		}
		return n
	case NumberSet:
		n := 0
		for _, s := range x {
			n += numberSize(s)
		}
		return n
	case BinarySet:
		n := 0
		for _, b := range x {
			n += len(b)
		}
		return n
	case []any:
		n := 3
		for _, e := range x {
			n += 1 + valueSize(e)
		}
		return n
	case Item:
		return mapSize(x)
	case map[string]any:
		return mapSize(x)
	}
	if c, err := FromExpr(v); err == nil {
		if _, same := c.(Number); same {
			return valueSize(c)
		}
	}
	return 0
}

func mapSize(m map[string]any) int {
	n := 3
	for k, e := range m {
		n += 1 + len(k) + valueSize(e)
	}
	return n
}

// numberSize is ceil(significant digits / 2) + 1, leading and trailing
// zeros trimmed, as DynamoDB counts it.
func numberSize(n Number) int {
	s := string(n)
	if d, ok := integerDigits(s); ok {
		return (d+1)/2 + 1
	}
	return generalNumberSize(s)
}

// generalNumberSize is numberSize of any number text.
func generalNumberSize(s string) int {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimLeft(s, "+-")
	whole, frac, _ := strings.Cut(s, ".")
	// Leading zeros, and trailing zeros (of the fraction, or of an integer,
	// which DynamoDB keeps as an exponent) are not significant.
	digits := strings.Trim(whole+frac, "0")
	return (len(digits)+1)/2 + 1
}

// integerDigits counts the significant digits of s when it is a plain
// integer (an optional sign, then digits only): numberSize's answer for
// the numbers most items hold, without cutting and trimming strings.
func integerDigits(s string) (int, bool) {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	lo, hi := 0, len(s)
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	for lo < hi && s[lo] == '0' {
		lo++
	}
	for hi > lo && s[hi-1] == '0' {
		hi--
	}
	return hi - lo, true
}
