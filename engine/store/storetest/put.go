package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

// RoundTripItems are items with every value type the backend supports:
// strings, numbers, binary and null; and unless scalarsOnly also bools,
// maps, lists, sets and big decimals (in the "doc" and "flag"
// attributes). There are more than 25, DynamoDB's batch write size.
func RoundTripItems(scalarsOnly bool) []engine.Item {
	items := []engine.Item{
		{KeyAttr: "s", "name": "héllo \"wörld\"\n\t<&>", "note": ""},
		{KeyAttr: "n", "n": engine.Number("-7"), "v": engine.Number("3")},
		{KeyAttr: "f", "n": engine.Number("3.25")},
		{KeyAttr: "i64", "n": engine.Number("9007199254740993")},
		{KeyAttr: "zero", "n": engine.Number("0")},
		{KeyAttr: "b", "data": []byte{0, 1, 2, 255}},
		{KeyAttr: "null", "note": nil, "name": "has null"},
	}
	if !scalarsOnly {
		items = append(items,
			engine.Item{KeyAttr: "big", "n": engine.Number("123456789012345678901234567890.000001")},
			engine.Item{KeyAttr: "bool", "flag": true, "note": "x"},
			engine.Item{KeyAttr: "doc", "doc": map[string]any{
				"street": "1 Main St",
				"geo":    map[string]any{"lat": engine.Number("48.8566"), "none": nil},
				"tags":   []any{"a", engine.Number("2"), false, []byte{9}, []any{}, map[string]any{}},
				"ss":     engine.StringSet{"x", "y"},
				"ns":     engine.NumberSet{"1", "2.5"},
				"bs":     engine.BinarySet{{1}, {2}},
			}},
			engine.Item{KeyAttr: "sets", "doc": engine.StringSet{"only"}},
			engine.Item{KeyAttr: "list", "doc": []any{engine.Number("1"), "two", nil}},
		)
	}
	for i := len(items); i < 60; i++ {
		items = append(items, engine.Item{KeyAttr: fmt.Sprintf("bulk-%02d", i), "name": strings.Repeat("x", i), "n": engine.Number(fmt.Sprint(i))})
	}
	return items
}

func (s *suite) testPutRoundTrip(t *testing.T) {
	items := RoundTripItems(s.scalarsOnly)
	st := s.new(t, nil)
	if err := st.Put(ctx(t), items); err != nil {
		t.Fatalf("Put()=%v", err)
	}
	checkAll(t, ScanAll(t, st, 3, 16), items)
	// Put replaces whole items: a second import of changed items leaves
	// no attribute of the first behind.
	again := []engine.Item{{KeyAttr: "s", "name": "replaced"}, {KeyAttr: "b", "n": engine.Number("1")}}
	if err := st.Put(ctx(t), again); err != nil {
		t.Fatalf("Put(again)=%v", err)
	}
	for _, w := range again {
		if d := Diff(mustGet(t, st, w[KeyAttr].(string)), w); d != "" {
			t.Errorf("after second Put, item %v:%s", w[KeyAttr], d)
		}
	}
	if err := st.Put(ctx(t), nil); err != nil {
		t.Errorf("Put(nil)=%v, want nil", err)
	}
}

func (s *suite) testScratch(t *testing.T) {
	seed := Seed(10)
	st := s.new(t, seed)
	sc, ok := st.(engine.ScratchCreator)
	if !ok {
		t.Skip("store is not an engine.ScratchCreator")
	}
	info, err := st.Describe(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	name := info.Table + "_scratch"
	scratch, err := sc.CreateScratch(ctx(t), name)
	if err != nil {
		t.Fatalf("CreateScratch(%s)=%v", name, err)
	}
	if got := ScanAll(t, scratch, 1, 100); len(got) != 0 {
		t.Errorf("new scratch table has %d items, want 0", len(got))
	}
	sinfo, err := scratch.Describe(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if sinfo.Table != name || fmt.Sprint(sinfo.Key) != fmt.Sprint(info.Key) {
		t.Errorf("scratch Describe()=%+v, want table %s key %v", sinfo, name, info.Key)
	}
	if err := scratch.Put(ctx(t), seed); err != nil {
		t.Fatalf("Put into scratch=%v", err)
	}
	checkAll(t, ScanAll(t, scratch, 2, 4), seed)
	if err := scratch.Close(); err != nil {
		t.Errorf("Close(scratch)=%v", err)
	}
	if err := sc.DropScratch(ctx(t), info.Table); err == nil {
		t.Errorf("DropScratch(own table %s)=nil, want a refusal", info.Table)
	}
	if err := sc.DropScratch(ctx(t), name); err != nil {
		t.Fatalf("DropScratch(%s)=%v", name, err)
	}
	// Dropped: the name can be created again, empty.
	again, err := sc.CreateScratch(ctx(t), name)
	if err != nil {
		t.Fatalf("CreateScratch(%s) after drop=%v", name, err)
	}
	if got := ScanAll(t, again, 1, 100); len(got) != 0 {
		t.Errorf("recreated scratch table has %d items, want 0", len(got))
	}
	again.Close()
	if err := sc.DropScratch(ctx(t), name); err != nil {
		t.Fatalf("DropScratch(%s)=%v", name, err)
	}
	checkAll(t, ScanAll(t, st, 1, 100), seed)
}
