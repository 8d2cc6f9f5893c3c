package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// resultRow is one line of a step result shown as a table: a label in
// words and its value for people ("size", "15.8 MiB").
type resultRow struct{ Key, Value string }

// resultRows flattens a step's JSON result into rows, in the order the
// result lists its keys: nested objects become "probe rate", arrays of
// objects "results 1 rows". Byte counts read as sizes, "_ms" fields as
// durations, rates as per-second counts and integers with separators, so
// a newcomer never reads "16587500" or a result wrapped mid-token. A
// result that is not an object is one row, "value".
func resultRows(raw json.RawMessage) []resultRow {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || v == nil {
		return nil
	}
	var rows []resultRow
	if _, ok := v.(map[string]any); !ok {
		return []resultRow{{"value", resultValue("value", v)}}
	}
	walkOrdered(raw, "", func(key string, val any) {
		rows = append(rows, resultRow{resultLabel(key), resultValue(key, val)})
	})
	return rows
}

// walkOrdered calls leaf for every scalar (or array of scalars) of the JSON
// object raw, keys in document order, joined with spaces.
func walkOrdered(raw json.RawMessage, prefix string, leaf func(key string, val any)) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return
		}
		key, _ := t.(string)
		var sub json.RawMessage
		if err := dec.Decode(&sub); err != nil {
			return
		}
		walkValue(sub, strings.TrimSpace(prefix+" "+key), leaf)
	}
}

func walkValue(sub json.RawMessage, key string, leaf func(string, any)) {
	sub = bytes.TrimSpace(sub)
	switch {
	case len(sub) > 0 && sub[0] == '{':
		walkOrdered(sub, key, leaf)
	case len(sub) > 0 && sub[0] == '[':
		var items []json.RawMessage
		if json.Unmarshal(sub, &items) != nil {
			return
		}
		scalars := true
		for _, it := range items {
			if t := bytes.TrimSpace(it); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
				scalars = false
			}
		}
		if !scalars {
			for i, it := range items {
				walkValue(it, fmt.Sprintf("%s %d", key, i+1), leaf)
			}
			return
		}
		var parts []string
		for _, it := range items {
			parts = append(parts, resultValue(key, decodeScalar(it)))
		}
		leaf(key, strings.Join(parts, ", "))
	default:
		leaf(key, decodeScalar(sub))
	}
}

func decodeScalar(raw json.RawMessage) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	return v
}

// lazyRegexp returns a function that compiles expr on its first call:
// Go initialises every linked package on every command, and most commands
// show no results (issue 17).
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// unitSuffix matches the unit a key's name carries, dropped from its label.
var unitSuffix = lazyRegexp(`[ _](ms|ns)$`)

// resultLabel turns a JSON key into words: "elapsed_ms" → "elapsed",
// "items_per_sec" → "items per sec".
func resultLabel(key string) string {
	key = unitSuffix().ReplaceAllString(key, "")
	return strings.ReplaceAll(key, "_", " ")
}

// resultValue renders one value for people, by what its key says it holds.
func resultValue(key string, v any) string {
	k := strings.ToLower(key)
	words := strings.FieldsFunc(k, func(r rune) bool { return r == '_' || r == ' ' })
	has := func(w string) bool { return slices.Contains(words, w) }
	switch v := v.(type) {
	case nil:
		return "—"
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case string:
		return strings.Join(strings.Fields(v), " ")
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return v.String()
		}
		switch {
		case has("ms"):
			return engine.FormatDuration(time.Duration(f * float64(time.Millisecond)))
		case has("ns"):
			return engine.FormatDuration(time.Duration(f))
		case has("bytes") || has("size"):
			return humanBytes(f)
		case has("rate") || has("sec"):
			return humanNumber(f) + "/s"
		}
		return humanNumber(f)
	}
	return fmt.Sprint(v)
}

// humanNumber is an integer with thousands separators, or a fraction
// with at most two decimals.
func humanNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		if f < 0 {
			return "-" + count(int64(-f))
		}
		return count(int64(f))
	}
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
	if i := strings.IndexByte(s, '.'); i > 0 && f >= 1000 {
		return count(int64(f)) + s[i:]
	}
	return s
}

// humanBytes is a byte count in binary units: "812 B", "15.8 MiB".
func humanBytes(f float64) string {
	const unit = 1024
	if math.Abs(f) < unit {
		return fmt.Sprintf("%.0f B", f)
	}
	exp, div := 0, float64(unit)
	for n := math.Abs(f) / unit; n >= unit && exp < 5; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", f/div, "KMGTPE"[exp])
}

// resultLines renders rows as an aligned two-column table, labels padded
// to the widest one.
func resultLines(rows []resultRow, indent string) []string {
	wk := 0
	for _, r := range rows {
		wk = max(wk, len([]rune(r.Key)))
	}
	lines := make([]string, 0, len(rows))
	for _, r := range rows {
		lines = append(lines, fmt.Sprintf("%s%-*s  %s", indent, wk, r.Key, r.Value))
	}
	return lines
}

// resultLine matches a result line of timeline.Timeline's Markdown.
var resultLine = lazyRegexp("^- Result: (`+)(.*)`+$")

// Note lines of timeline.Timeline's Markdown, which name the event kind:
// the session's ("- 2026-… UTC **rollback.request** during …") and a
// step's ("- warning: text (2026-… UTC)").
var (
	sessionNoteLine = lazyRegexp(`^(- \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \*\*)([a-z_.]+)(\*\*.*)$`)
	stepNoteLine    = lazyRegexp(`^- ([a-z_.]+): (.*\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\))$`)
)

// humaniseTimeline makes a timeline's Markdown read for people: each raw
// JSON result line becomes an aligned key/value block taken in at a
// glance, and the event kinds naming notes become words.
func humaniseTimeline(md string) string {
	lines := strings.Split(md, "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if m := sessionNoteLine().FindStringSubmatch(l); m != nil {
			out = append(out, m[1]+eventWords(engine.EventKind(m[2]))+noteFigures(m[3]))
			continue
		}
		if m := stepNoteLine().FindStringSubmatch(l); m != nil {
			out = append(out, "- "+eventWords(engine.EventKind(m[1]))+": "+m[2])
			continue
		}
		m := resultLine().FindStringSubmatch(l)
		if m == nil {
			out = append(out, l)
			continue
		}
		rows := resultRows(json.RawMessage(m[2]))
		if len(rows) == 0 {
			out = append(out, l)
			continue
		}
		out = append(out, "", "Result:", "", "```")
		out = append(out, resultLines(rows, "")...)
		out = append(out, "```", "")
	}
	return strings.Join(out, "\n")
}

// noteFigures rewrites a note's raw JSON text ("**: {"rate":320}") as
// figures for people ("**: rate 320/s").
func noteFigures(rest string) string {
	i := strings.Index(rest, ": {")
	if i < 0 {
		return rest
	}
	rows := resultRows(json.RawMessage(rest[i+2:]))
	if len(rows) == 0 {
		return rest
	}
	parts := make([]string, len(rows))
	for j, r := range rows {
		parts[j] = r.Key + " " + r.Value
	}
	return rest[:i+2] + strings.Join(parts, ", ")
}
