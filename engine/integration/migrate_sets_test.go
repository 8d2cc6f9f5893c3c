package integration_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// setSteps migrate DynamoDB sets with expressions, which see them as lists.
const setSteps = `      - id: sets
        kind: migrate
        with:
          set:
            tags: 'concat(item.tags, ["migrated", "t1"])'
            tags2: 'item.tags'
            nums: 'map(item.nums, # * 10)'
            same: 'item.same'
            drop: 'filter(item.drop, # != "old")'
            codes: 'map(item.codes, string(#))'
`

// copySteps copy sets unchanged.
const copySteps = `      - id: copy
        kind: migrate
        with:
          set: {same: 'item.same', nums: 'item.nums'}
`

// seedSets writes two items holding string, number and binary sets.
func seedSets(t *testing.T, r *rig.Data) {
	t.Helper()
	var items []engine.Item
	for _, id := range []string{"1", "2"} {
		items = append(items, engine.Item{"id": engine.Number(id),
			"tags": engine.StringSet{"all", "t1"}, "nums": engine.NumberSet{"1", "2"},
			"same": engine.StringSet{"a", "b"}, "drop": engine.StringSet{"old"},
			"codes": engine.NumberSet{"7"}, "bin": engine.BinarySet{[]byte("x")}})
	}
	if err := r.Seed.Put(r.Ctx, items); err != nil {
		t.Fatalf("seed: %v", err)
	}
}

func TestMigrateDynamoWritesSetsBackAsSets(t *testing.T) {
	t.Parallel()
	// A copy of a set is no change at all.
	r := newDynamoRig(t, 2, "", copySteps, 0, nil)
	seedSets(t, r)
	res, err := r.Run(r.StepContext("copy"))
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	if got := res.(migrate.Result); got.Unchanged != 2 || got.Migrated != 0 {
		t.Errorf("copy counts = %+v, want 2 unchanged, 0 migrated", got.MigrateCounts)
	}

	r = newDynamoRig(t, 2, "", setSteps, 0, nil)
	seedSets(t, r)

	// The dry-run diff names a type change and shows no unchanged set.
	sc := r.StepContext("sets")
	sc.Mode = engine.ModeDryRun
	res, err = r.Run(sc)
	if err != nil {
		t.Fatalf("dry-run: %v", err)
	}
	samples := res.(migrate.Result).Samples
	if len(samples) == 0 {
		t.Fatal("dry-run showed no samples")
	}
	d := samples[0]
	if got, want := d.Types["codes"], "number set → list"; got != want {
		t.Errorf("Types[codes] = %q, want %q (all: %v)", got, want, d.Types)
	}
	if _, ok := d.Types["tags"]; ok {
		t.Errorf("Types[tags] = %q, want none: a string set stays one", d.Types["tags"])
	}
	if _, ok := d.After["same"]; ok {
		t.Errorf("dry-run would write same = %v, a copy of the set", d.After["same"])
	}
	if s := d.String(); !strings.Contains(s, "(number set → list)") {
		t.Errorf("diff text lacks the type change:\n%s", s)
	}

	res, err = r.Run(r.StepContext("sets"))
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if got := res.(migrate.Result); got.Migrated != 2 || got.Failures != 0 || got.Conflicts != 0 {
		t.Fatalf("counts = %+v, want 2 migrated, no failure or conflict", got.MigrateCounts)
	}
	it, ok, err := r.Seed.Get(r.Ctx, engine.Item{"id": engine.Number("1")})
	if err != nil || !ok {
		t.Fatalf("Get() = %v, %v", ok, err)
	}
	for _, c := range []struct {
		attr string
		want any
	}{
		{"tags", engine.StringSet{"all", "t1", "migrated"}},
		{"tags2", []any{"all", "t1"}}, // a new attribute: a list
		{"nums", engine.NumberSet{"10", "20"}},
		{"same", engine.StringSet{"a", "b"}},
		{"codes", []any{"7"}},
		{"bin", engine.BinarySet{[]byte("x")}},
	} {
		got := it[c.attr]
		if c.attr == "tags2" { // order as the scan returned the set
			if l, ok := got.([]any); !ok || !engine.EqualValues(engine.StringSet{l[0].(string), l[1].(string)}, engine.StringSet{"all", "t1"}) {
				t.Errorf("%s = %#v, want a list of all, t1", c.attr, got)
			}
			continue
		}
		if !engine.EqualValues(got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.attr, got, c.want)
		}
	}
	if v, ok := it["drop"]; ok {
		t.Errorf("drop = %#v, want the emptied set removed", v)
	}
}

// TestMigrateDynamoEmptySetFromTransformNamesAttribute: an external
// transform emitting an empty set fails the item naming the attribute,
// in the dry-run as in the live run, instead of DynamoDB's
// "ValidationException ... for key :v0".
func TestMigrateDynamoEmptySetFromTransformNamesAttribute(t *testing.T) {
	t.Setenv("LOCKSTEP_TEST_EMPTY_SETS", "1")
	steps := fmt.Sprintf(`      - id: ext
        kind: migrate
        with:
          transform: [%q, "-test.run=^TestMigrateHelperEmptySets$"]
          error_budget: 10
`, os.Args[0])
	r := newDynamoRig(t, 2, "", steps, 0, nil)
	seedSets(t, r)
	const want = `attribute tags: DynamoDB does not allow an empty string set; remove the attribute instead`
	for _, mode := range []engine.Mode{engine.ModeDryRun, engine.ModeLive} {
		sc := r.StepContext("ext")
		sc.Mode = mode
		res, err := r.Run(sc)
		if err != nil && !errors.Is(err, migrate.ErrItemsLeft) {
			t.Fatalf("%s: %v", mode, err)
		}
		if got := res.(migrate.Result); got.Failures != 2 || got.Migrated != 0 {
			t.Errorf("%s: counts = %+v, want 2 failures", mode, got.MigrateCounts)
		}
	}
	named := 0
	for _, ev := range r.EventsOf(engine.EvWarning) {
		if strings.Contains(string(ev.Data), want) {
			named++
		}
	}
	if named != 4 {
		t.Errorf("%d warnings say %q, want 4 (2 items, dry-run and live)", named, want)
	}
}

// TestMigrateHelperEmptySets is not a test: run by the test above as an
// external transform, it empties each item's string set tags.
func TestMigrateHelperEmptySets(t *testing.T) {
	t.Parallel()
	if os.Getenv("LOCKSTEP_TEST_EMPTY_SETS") == "" {
		t.Skip("helper process for the empty set test")
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		it, err := engine.UnmarshalItem(in.Bytes())
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad input:", err)
			os.Exit(2)
		}
		it["tags"] = engine.StringSet{}
		b, _ := engine.MarshalItem(it)
		fmt.Println(string(b))
	}
	os.Exit(0)
}

// TestMigrateDynamoReadsMapsWithoutSpuriousConflicts: a transform reading
// a map attribute guards it; the guard holds on dynalite (which compares
// whole maps by reference) and a set nested in the map rewritten by the
// expression stays a set.
func TestMigrateDynamoReadsMapsWithoutSpuriousConflicts(t *testing.T) {
	t.Parallel()
	steps := `      - id: nested
        kind: migrate
        with:
          set:
            city: 'item.address.city'
            meta: '{"labels": concat(item.meta.labels, ["y"]), "n": item.meta.n + 1}'
`
	r := newDynamoRig(t, 2, "", steps, 0, nil)
	var items []engine.Item
	for i := 1; i <= 20; i++ {
		items = append(items, engine.Item{"id": engine.Number(fmt.Sprint(i)),
			"address": map[string]any{"street": "Main St", "city": fmt.Sprint("City", i), "lines": []any{"a", engine.Number("1")}},
			"meta":    map[string]any{"labels": engine.StringSet{"x"}, "n": engine.Number("1")}})
	}
	if err := r.Seed.Put(r.Ctx, items); err != nil {
		t.Fatalf("seed: %v", err)
	}
	res, err := r.Run(r.StepContext("nested"))
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if got := res.(migrate.Result); got.Migrated != 20 || got.Conflicts != 0 || got.Failures != 0 {
		t.Errorf("counts = %+v, want 20 migrated, no conflict", got.MigrateCounts)
	}
	it, _, err := r.Seed.Get(r.Ctx, engine.Item{"id": engine.Number("3")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"labels": engine.StringSet{"x", "y"}, "n": engine.Number("2")}
	if it["city"] != "City3" || !engine.EqualValues(it["meta"], want) {
		t.Errorf("item 3 = %v, want city City3 and meta %v", it, want)
	}
}
