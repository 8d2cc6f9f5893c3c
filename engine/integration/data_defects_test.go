package integration_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// warningsFor returns the journaled per-item warnings of key, as text.
func warningsFor(r *rig.Data, key string) []string {
	var out []string
	for _, ev := range r.EventsOf(engine.EvWarning) {
		var w struct{ Key, Message, Error string }
		if ev.Decode(&w) == nil && w.Key == key {
			out = append(out, w.Message+": "+w.Error)
		}
	}
	return out
}

// TestMigrateDynamoKeepsNumberDigits: a number with more digits than
// float64 holds is copied digit for digit; arithmetic or an ordering
// comparison on it fails the item, journaled with its key and a hint,
// instead of writing a rounded value. Exact numbers still compute.
func TestMigrateDynamoKeepsNumberDigits(t *testing.T) {
	t.Parallel()
	const long, wide = "12345678901234567890.123456789", "123456789.123456789"
	tests := []struct {
		name         string
		with         string
		want         map[string]any // id → out attribute after the step (nil: absent)
		wantFailures int64
	}{
		{"copied as-is", `{set: {out: "item.amount"}}`,
			map[string]any{"1": engine.Number(long), "2": engine.Number(wide), "3": engine.Number("42.5")}, 0},
		{"copied inside a map", `{set: {out: "{'a': item.amount}"}}`,
			map[string]any{"1": map[string]any{"a": engine.Number(long)}, "2": map[string]any{"a": engine.Number(wide)},
				"3": map[string]any{"a": engine.Number("42.5")}}, 0},
		{"arithmetic", `{set: {out: "item.amount * 2"}}`,
			map[string]any{"1": nil, "2": nil, "3": engine.Number("85")}, 2},
		{"comparison in where", `{where: "item.amount > 0", set: {out: "'positive'"}}`,
			map[string]any{"1": nil, "2": nil, "3": "positive"}, 2},
		{"nil check", `{where: "item.amount != nil", set: {out: "item.amount ?? 0"}}`,
			map[string]any{"1": engine.Number(long), "2": engine.Number(wide), "3": engine.Number("42.5")}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := "      - {id: copy, kind: migrate, with: " + tt.with + "}\n"
			r := newDynamoRig(t, 2, "", steps, 0, nil)
			items := []engine.Item{
				{"id": engine.Number("1"), "amount": engine.Number(long)},
				{"id": engine.Number("2"), "amount": engine.Number(wide)},
				{"id": engine.Number("3"), "amount": engine.Number("42.5")},
			}
			if err := r.Seed.Put(r.Ctx, items); err != nil {
				t.Fatalf("seed: %v", err)
			}
			res, err := r.Run(r.StepContext("copy"))
			if tt.wantFailures == 0 && err != nil || tt.wantFailures > 0 && !errors.Is(err, migrate.ErrItemsLeft) {
				t.Fatalf("migrate error = %v, want %d items left", err, tt.wantFailures)
			}
			if got := res.(migrate.Result); got.Failures != tt.wantFailures {
				t.Errorf("failures = %d, want %d (%+v)", got.Failures, tt.wantFailures, got.MigrateCounts)
			}
			all := r.All()
			for id, want := range tt.want {
				if got := all[id]["out"]; !engine.EqualValues(got, want) || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("item %s: out = %#v, want %#v", id, got, want)
				}
				if got, orig := all[id]["amount"], items[id[0]-'1']["amount"]; got != orig {
					t.Errorf("item %s: amount = %#v, want %#v unchanged", id, got, orig)
				}
			}
			if tt.wantFailures > 0 {
				w := strings.Join(warningsFor(r, "id=1"), "\n")
				if !strings.Contains(w, "amount="+long+" has more digits than expressions compute exactly; copy it as-is or use a transform command") {
					t.Errorf("warnings for id=1 = %q, want the number named with a hint", w)
				}
			}
		})
	}
}

// TestMigrateDynamoVersionNotNumber: an item whose version attribute is a
// string fails (journaled with its key and what to do), instead of being
// retried as a conflict its guard can never resolve. Estimate counts it.
func TestMigrateDynamoVersionNotNumber(t *testing.T) {
	t.Parallel()
	steps := rig.CounterSteps + "      - {id: size, kind: estimate, with: {exact_count: true}}\n"
	r := newDynamoRig(t, 2, "", steps, 0, nil)
	if err := r.Seed.Put(r.Ctx, []engine.Item{
		{"id": engine.Number("1"), "count": engine.Number("1"), "v": "0"},
		{"id": engine.Number("2"), "count": engine.Number("2"), "v": engine.Number("0")},
		{"id": engine.Number("3"), "count": engine.Number("3")},
	}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	est, err := r.Run(r.StepContext("size"))
	if err != nil {
		t.Fatalf("estimate: %v", err)
	}
	if e := est.(migrate.EstimateResult); e.MigrationSet != 3 || e.SampleErrors != 1 || len(e.ErrorKeys) != 1 ||
		!strings.Contains(e.ErrorKeys[0], `id=1: version attribute v is a string ("0"), not a number`) {
		t.Errorf("estimate set %d, errors %d %q; want 3 with id=1 in error", e.MigrationSet, e.SampleErrors, e.ErrorKeys)
	}
	res, err := r.Run(r.StepContext("bump"))
	if !errors.Is(err, migrate.ErrItemsLeft) || !strings.Contains(err.Error(), "1 item(s) failed") {
		t.Fatalf("migrate error = %v, want the failed item left behind", err)
	}
	got := res.(migrate.Result)
	if got.Migrated != 2 || got.Failures != 1 || got.Conflicts != 0 || got.Unresolved != 0 {
		t.Errorf("counts = %+v, want 2 migrated, 1 failure, no conflict", got.MigrateCounts)
	}
	want := `item failed: version attribute v is a string ("0"), not a number; fix the item or set version_attribute`
	if w := warningsFor(r, "id=1"); len(w) != 1 || w[0] != want {
		t.Errorf("warnings for id=1 = %q, want [%q]", w, want)
	}
	if it := r.All()["1"]; it["v"] != "0" || rig.AttrNum(it, "count") != 1 {
		t.Errorf("item 1 = %v, want unchanged", it)
	}
}

// TestEstimateDynamoStaleCount: DynamoDB's approximate count is 0 long
// after a load (dynalite always says 0). A sample that reads more items
// than the count says makes the count stale: the figures become lower
// bounds and big-bang is not recommended; exact_count counts them all.
func TestEstimateDynamoStaleCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		with      string
		wantCount int64
		wantStale bool
		recommend string
	}{
		{"sample", `{sample: 100}`, 100, true, "multi-step"},
		{"exact count", `{exact_count: true}`, 300, false, "big-bang"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := "      - {id: size, kind: estimate, with: " + tt.with + "}\n"
			r := newDynamoRig(t, 2, "    max_write_rate: 1000", steps, 300, nil)
			res, err := r.Run(r.StepContext("size"))
			if err != nil {
				t.Fatalf("estimate: %v", err)
			}
			e := res.(migrate.EstimateResult)
			if e.Count != tt.wantCount || e.MigrationSet != tt.wantCount || e.CountStale != tt.wantStale || e.Recommendation != tt.recommend {
				t.Fatalf("estimate count %d (stale %v), set %d, %s (%s); want %d, stale %v, %s",
					e.Count, e.CountStale, e.MigrationSet, e.Recommendation, e.Reason, tt.wantCount, tt.wantStale, tt.recommend)
			}
			if !tt.wantStale {
				return
			}
			if e.StaleCount != 0 || !strings.Contains(e.Reason, "stale") || !strings.Contains(e.Reason, "exact_count: true") {
				t.Errorf("reason = %q, want the stale count explained with exact_count", e.Reason)
			}
			var out []string
			for _, ev := range r.EventsOf(engine.EvOutput) {
				var o struct{ Text string }
				_ = ev.Decode(&o)
				out = append(out, o.Text)
			}
			if s := strings.Join(out, "\n"); !strings.Contains(s, "at least 100 items (the approximate count, 0, is stale), at least 100 to migrate") {
				t.Errorf("output = %q", s)
			}
			if len(r.EventsOf(engine.EvWarning)) != 1 {
				t.Error("stale count not journaled as a warning")
			}
		})
	}
}
