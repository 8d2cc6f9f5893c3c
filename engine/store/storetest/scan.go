package storetest

import (
	"fmt"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
)

func (s *suite) testScan(t *testing.T) {
	seed := Seed(57)
	st := s.new(t, seed)
	for _, total := range []int{1, 3, 8} {
		for _, limit := range []int{7, 100} {
			t.Run(fmt.Sprintf("segments=%d/limit=%d", total, limit), func(t *testing.T) {
				checkAll(t, ScanAll(t, st, total, limit), seed)
			})
		}
	}
	t.Run("segments share the work", func(t *testing.T) {
		// With 3 segments over 57 items no segment should be empty.
		for seg := range 3 {
			p, err := st.Scan(ctx(t), engine.ScanRequest{Segment: seg, TotalSegments: 3, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) == 0 {
				t.Errorf("segment %d of 3 is empty", seg)
			}
		}
	})
	t.Run("empty table", func(t *testing.T) {
		empty := s.new(t, nil)
		p, err := empty.Scan(ctx(t), engine.ScanRequest{Segment: 0, TotalSegments: 1, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 0 || p.Next != nil {
			t.Errorf("Scan(empty)=%d items, next %q; want none, nil", len(p.Items), p.Next)
		}
	})
}

func (s *suite) testScanResume(t *testing.T) {
	seed := Seed(40)
	st := s.new(t, seed)
	const total, limit = 2, 4
	seen := map[string]engine.Item{}
	cursors := make([][]byte, total)
	for seg := range total {
		p, err := st.Scan(ctx(t), engine.ScanRequest{Segment: seg, TotalSegments: total, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if p.Next == nil {
			t.Fatalf("segment %d ended after one page of %d; want more", seg, len(p.Items))
		}
		for _, it := range p.Items {
			seen[it[KeyAttr].(string)] = it
		}
		cursors[seg] = p.Next
	}
	// A new process resumes each segment from its journaled cursor.
	fresh := s.reopenStore(t, st)
	for seg := range total {
		cur := append([]byte(nil), cursors[seg]...)
		for cur != nil {
			p, err := fresh.Scan(ctx(t), engine.ScanRequest{Segment: seg, TotalSegments: total, Cursor: cur, Limit: limit})
			if err != nil {
				t.Fatalf("resume segment %d: %v", seg, err)
			}
			for _, it := range p.Items {
				id := it[KeyAttr].(string)
				if _, dup := seen[id]; dup {
					t.Fatalf("resumed scan returned %q again", id)
				}
				seen[id] = it
			}
			cur = p.Next
		}
	}
	checkAll(t, seen, seed)
}

func (s *suite) testGet(t *testing.T) {
	seed := Seed(5)
	st := s.new(t, seed)
	got := mustGet(t, st, "item-002")
	if d := Diff(got, seed[2]); d != "" {
		t.Errorf("Get(item-002):%s", d)
	}
	it, ok, err := st.Get(ctx(t), key("nope"))
	if err != nil || ok || it != nil {
		t.Errorf("Get(nope)=%v, %v, %v; want nil, false, nil", it, ok, err)
	}
}

func (s *suite) testDescribe(t *testing.T) {
	seed := Seed(23)
	st := s.new(t, seed)
	info, err := st.Describe(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Key) != 1 || info.Key[0] != KeyAttr {
		t.Errorf("Describe().Key=%v, want [%s]", info.Key, KeyAttr)
	}
	if info.Table == "" || info.Backend == "" {
		t.Errorf("Describe()=%+v, want table and backend", info)
	}
	if !info.Approximate && info.ItemCount != int64(len(seed)) {
		t.Errorf("Describe().ItemCount=%d, want %d", info.ItemCount, len(seed))
	}
	if info.ItemCount < 0 || info.ItemCount > int64(len(seed)) {
		t.Errorf("Describe().ItemCount=%d, want 0..%d", info.ItemCount, len(seed))
	}
	if !info.Approximate && info.SizeBytes <= 0 {
		t.Errorf("Describe().SizeBytes=%d, want > 0", info.SizeBytes)
	}
}
