package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// TestWritesFencedByLease: a write whose context carries a lease commits
// only while the lease row names its session; once another session took
// the lease over (or it is gone) the whole write fails with a
// *engine.LeaseLostError naming the holder, and nothing of it is applied
// (the same table as the SQLite store's test).
func TestWritesFencedByLease(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	alice := engine.Lease{Dataset: "users", Env: "prod", Holder: "alice", Session: "s-alice", Acquired: t0, Expires: t0.Add(time.Hour)}
	bob := engine.Lease{Dataset: "users", Env: "prod", Holder: "bob", Session: "s-bob",
		Acquired: alice.Expires.Add(time.Second), Expires: alice.Expires.Add(time.Hour)}
	tests := []struct {
		name     string
		holder   *engine.Lease // who holds the lease when alice writes; nil: nobody
		batch    bool
		wantLost string // "" = applied
	}{
		{"alice holds it, one update", &alice, false, ""},
		{"alice holds it, batch", &alice, true, ""},
		{"taken over, one update", &bob, false, "now held by bob (session s-bob)"},
		{"taken over, batch", &bob, true, "now held by bob (session s-bob)"},
		{"released by someone else, batch", nil, true, "lease lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seed []engine.Item
			for i := range 4 {
				seed = append(seed, engine.Item{"id": engine.Number(fmt.Sprint(i)), "city": "Lyon"})
			}
			st := newTable(t, "CREATE TABLE items (id bigint PRIMARY KEY, city text, v integer)", seed)
			ctx := context.Background()
			if _, err := st.AcquireLease(ctx, alice, false); err != nil {
				t.Fatal(err)
			}
			switch tt.holder {
			case &bob:
				if _, err := st.AcquireLease(ctx, bob, true); err != nil {
					t.Fatal(err)
				}
			case nil:
				if err := st.ReleaseLease(ctx, alice); err != nil {
					t.Fatal(err)
				}
			}
			fenced := engine.WithLeaseFences(ctx, alice)
			var us []engine.Update
			for i := range 4 {
				us = append(us, engine.Update{Key: engine.Item{"id": engine.Number(fmt.Sprint(i))},
					Set: engine.Attrs(map[string]any{"city": "Paris"}), Version: 2, Guard: engine.Guard{VersionAttr: "v", Below: 2}})
			}
			var errs []error
			if tt.batch {
				errs = st.UpdateBatch(fenced, us)
			} else {
				errs = []error{st.Update(fenced, us[0])}
				us = us[:1]
			}
			for i, err := range errs {
				var lost *engine.LeaseLostError
				switch {
				case tt.wantLost == "" && err != nil:
					t.Errorf("write %d = %v, want applied", i, err)
				case tt.wantLost != "" && (!errors.As(err, &lost) || !errors.Is(err, engine.ErrLeaseLost) || !contains(err, tt.wantLost)):
					t.Errorf("write %d = %v, want a *LeaseLostError saying %q", i, err, tt.wantLost)
				}
			}
			applied := 0
			for _, u := range us {
				it, _, err := st.Get(ctx, u.Key)
				if err != nil {
					t.Fatal(err)
				}
				if it["city"] == "Paris" {
					applied++
				}
			}
			if want := map[bool]int{true: len(us), false: 0}[tt.wantLost == ""]; applied != want {
				t.Errorf("%d of %d writes applied, want %d", applied, len(us), want)
			}
		})
	}
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }
