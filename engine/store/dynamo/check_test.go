package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// TestCheckUpdatePredictsRefusals: CheckUpdate refuses exactly the
// writes DynamoDB refuses whole. Where dynalite enforces the limit (item
// size) the write is also sent, and must fail exactly when CheckUpdate
// said so.
func TestCheckUpdatePredictsRefusals(t *testing.T) {
	st := newTable(t, dynalite.Shared(t), nil)
	ctx := context.Background()
	// fill returns a name of n bytes minus what an item {id, v: 2,
	// name: ""} takes, so that the item holding it is n bytes.
	fill := func(id string, n int) string {
		base := engine.ItemSize(engine.Item{storetest.KeyAttr: id, "v": engine.Number("2"), "name": ""})
		return strings.Repeat("x", n-base)
	}
	manyEquals := make([]engine.Attr, 160) // 320 operators in under 4 KB
	for i := range manyEquals {
		manyEquals[i] = engine.Attr{Name: fmt.Sprintf("a%03d", i), Value: "x"}
	}
	manyGuards := make([]engine.Attr, 400)
	for i := range manyGuards {
		manyGuards[i] = engine.Attr{Name: fmt.Sprintf("attr%03d", i)}
	}
	tests := []struct {
		name   string
		id     string
		set    map[string]any
		guard  []engine.Attr
		refuse bool
		live   bool // dynalite enforces it too
	}{
		{name: "small", id: "small", set: map[string]any{"name": "a"}, live: true},
		{name: "at 400 KB", id: "at", set: map[string]any{"name": fill("at", dynamo.MaxItemBytes)}, live: true},
		{name: "a byte over 400 KB", id: "over", set: map[string]any{"name": fill("over", dynamo.MaxItemBytes+1)}, refuse: true, live: true},
		{name: "condition over 4 KB", id: "guards", set: map[string]any{"name": "a"}, guard: manyGuards, refuse: true},
		{name: "condition over 300 operators", id: "operators", set: map[string]any{"name": "a"}, guard: manyEquals, refuse: true},
		{name: "condition of 100 guards", id: "fine", set: map[string]any{"name": "a"}, guard: manyEquals[:100]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := engine.Item{storetest.KeyAttr: tt.id}
			if err := st.Put(ctx, []engine.Item{before}); err != nil {
				t.Fatal(err)
			}
			u := engine.Update{Key: before, Set: engine.Attrs(tt.set), Version: 2,
				Guard: engine.Guard{VersionAttr: "v", Below: 2, Unchanged: tt.guard}}
			err := st.CheckUpdate(ctx, before, u)
			if tt.refuse != (err != nil) || err != nil && !errors.Is(err, engine.ErrRejected) {
				t.Errorf("CheckUpdate()=%v, want refused=%t (ErrRejected)", err, tt.refuse)
			}
			if !tt.live {
				return
			}
			if err := st.Update(ctx, u); tt.refuse != (err != nil) {
				t.Errorf("Update()=%v, want refused=%t as CheckUpdate predicted", err, tt.refuse)
			}
		})
	}
}
