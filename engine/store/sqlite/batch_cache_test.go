package sqlite_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"weak"

	"github.com/lockstep-run/lockstep/engine"
)

// TestUpdateBatchKeepsNoItem: UpdateBatch reuses its statement and
// argument arrays from call to call (the store keeps them), yet keeps no
// reference to the caller's updates once it returns (engine.BatchUpdater's
// contract): a key item passed to it is collected as soon as the caller
// drops it, and a second batch on the reused arrays writes its own
// values, not the first one's.
func TestUpdateBatchKeepsNoItem(t *testing.T) {
	var seed []engine.Item
	for i := range 20 {
		seed = append(seed, engine.Item{"id": engine.Number(fmt.Sprint(i)), "address": fmt.Sprintf("%d Main St", i)})
	}
	st := newTable(t, "CREATE TABLE items (id INTEGER PRIMARY KEY, address TEXT, city TEXT, data BLOB, v INTEGER)", seed)
	ctx := context.Background()
	// The key item carries a blob the store never reads and the write
	// binds another: weak pointers to both tell whether the store still
	// holds the item (its rendered statements) or the arguments.
	batch := func(city string, n int) ([]engine.Update, []weak.Pointer[byte]) {
		us := make([]engine.Update, n)
		var ws []weak.Pointer[byte]
		for i := range us {
			tag, data := make([]byte, 64), make([]byte, 64)
			ws = append(ws, weak.Make(&tag[0]), weak.Make(&data[0]))
			key := engine.Item{"id": engine.Number(fmt.Sprint(i)), "tag": tag}
			us[i] = engine.Update{Key: key, Set: []engine.Attr{{Name: "city", Value: fmt.Sprintf("%s %d", city, i)}, {Name: "data", Value: data}}}
		}
		return us, ws
	}
	us, ws := batch("Paris", 20)
	for i, err := range st.UpdateBatch(ctx, us) {
		if err != nil {
			t.Fatalf("UpdateBatch()[%d]=%v", i, err)
		}
	}
	us = nil
	runtime.GC()
	runtime.GC()
	for i, w := range ws {
		if w.Value() != nil {
			t.Errorf("update %d's %s still reachable after UpdateBatch returned and the caller dropped it", i/2, []string{"key item", "set value"}[i%2])
		}
	}
	us, _ = batch("Oslo", 10)
	for i, err := range st.UpdateBatch(ctx, us) {
		if err != nil {
			t.Fatalf("second UpdateBatch()[%d]=%v", i, err)
		}
	}
	for i := range 20 {
		want := fmt.Sprintf("Oslo %d", i)
		if i >= 10 {
			want = fmt.Sprintf("Paris %d", i)
		}
		got, _, err := st.Get(ctx, engine.Item{"id": engine.Number(fmt.Sprint(i))})
		if err != nil || got["city"] != want {
			t.Errorf("row %d city=%v (%v), want %q", i, got["city"], err, want)
		}
	}
}
