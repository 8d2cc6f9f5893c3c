package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// testLease checks the Leaser contract. Lease.Acquired is the caller's
// "now": the store compares expiries with it, so the test needs no sleep.
func (s *suite) testLease(t *testing.T) {
	st := s.new(t, Seed(3))
	ls, ok := st.(engine.Leaser)
	if !ok {
		t.Skip("store is not an engine.Leaser")
	}
	t0 := time.Date(2026, 5, 1, 22, 0, 0, 0, time.UTC)
	alice := engine.Lease{Dataset: "split-address", Env: "staging", Holder: "alice", Session: "s-alice",
		Acquired: t0, Expires: t0.Add(time.Minute)}
	bob := engine.Lease{Dataset: "split-address", Env: "staging", Holder: "bob", Session: "s-bob",
		Acquired: t0.Add(10 * time.Second), Expires: t0.Add(70 * time.Second)}

	got, err := ls.AcquireLease(ctx(t), alice, false)
	if err != nil {
		t.Fatalf("AcquireLease(alice)=%v", err)
	}
	if got.Holder != "alice" || got.Session != "s-alice" || !got.Expires.Equal(alice.Expires) {
		t.Errorf("AcquireLease(alice)=%+v", got)
	}
	var held *engine.LeaseHeldError
	if _, err := ls.AcquireLease(ctx(t), bob, true); !errors.As(err, &held) {
		t.Fatalf("AcquireLease(bob, live lease)=%v, want *LeaseHeldError", err)
	}
	if held.Lease.Holder != "alice" || held.Lease.Session != "s-alice" || !held.Lease.Acquired.Equal(t0) {
		t.Errorf("LeaseHeldError.Lease=%+v, want alice's", held.Lease)
	}
	// Another environment of the same dataset is a different lease.
	prod := bob
	prod.Env = "production"
	if _, err := ls.AcquireLease(ctx(t), prod, false); err != nil {
		t.Errorf("AcquireLease(bob, production)=%v", err)
	}
	// Alice re-acquires (same session) and renews.
	alice.Expires = t0.Add(2 * time.Minute)
	if _, err := ls.AcquireLease(ctx(t), alice, false); err != nil {
		t.Errorf("AcquireLease(alice again)=%v", err)
	}
	alice.Expires = t0.Add(3 * time.Minute)
	if got, err := ls.RenewLease(ctx(t), alice); err != nil || !got.Expires.Equal(alice.Expires) {
		t.Errorf("RenewLease(alice)=%+v, %v", got, err)
	}
	// Expired: refused without takeover, taken with it.
	bob.Acquired = t0.Add(4 * time.Minute)
	bob.Expires = bob.Acquired.Add(time.Minute)
	if _, err := ls.AcquireLease(ctx(t), bob, false); !errors.As(err, &held) {
		t.Fatalf("AcquireLease(bob, expired, no takeover)=%v, want *LeaseHeldError", err)
	}
	if _, err := ls.AcquireLease(ctx(t), bob, true); err != nil {
		t.Fatalf("AcquireLease(bob, takeover)=%v", err)
	}
	// Alice lost it: renewing or releasing it says who holds it now, and
	// her release leaves bob's lease in place.
	var lost *engine.LeaseLostError
	_, err = ls.RenewLease(ctx(t), alice)
	if !errors.Is(err, engine.ErrLeaseLost) || !errors.As(err, &lost) || lost.Holder.Session != "s-bob" || lost.Holder.Holder != "bob" {
		t.Errorf("RenewLease(alice after takeover)=%v, want a *LeaseLostError naming bob", err)
	}
	err = ls.ReleaseLease(ctx(t), alice)
	if !errors.Is(err, engine.ErrLeaseLost) || !errors.As(err, &lost) || lost.Holder.Session != "s-bob" {
		t.Errorf("ReleaseLease(alice after takeover)=%v, want a *LeaseLostError naming bob", err)
	}
	if _, err := ls.AcquireLease(ctx(t), alice, false); !errors.As(err, &held) || held.Lease.Session != "s-bob" {
		t.Errorf("AcquireLease(alice after her release of a lost lease)=%v, want bob's lease still held", err)
	}
	bob.Expires = bob.Expires.Add(time.Minute)
	if _, err := ls.RenewLease(ctx(t), bob); err != nil {
		t.Errorf("RenewLease(bob)=%v", err)
	}
	if err := ls.ReleaseLease(ctx(t), bob); err != nil {
		t.Errorf("ReleaseLease(bob)=%v", err)
	}
	if err := ls.ReleaseLease(ctx(t), bob); err != nil {
		t.Errorf("ReleaseLease(bob, again)=%v, want nil", err)
	}
	_, err = ls.RenewLease(ctx(t), bob)
	if !errors.As(err, &lost) || lost.Holder != (engine.Lease{}) {
		t.Errorf("RenewLease(bob after release)=%v, want a *LeaseLostError with no holder", err)
	}
	alice.Acquired = bob.Acquired
	alice.Expires = alice.Acquired.Add(time.Minute)
	if _, err := ls.AcquireLease(ctx(t), alice, false); err != nil {
		t.Errorf("AcquireLease(alice after release)=%v", err)
	}
}

func (s *suite) testSetFlag(t *testing.T) {
	st := s.new(t, Seed(3))
	ls, ok := st.(engine.Leaser)
	if !ok {
		t.Skip("store is not an engine.Leaser")
	}
	if err := ls.SetFlag(ctx(t), "", key("item-001"), "flag", true); err != nil {
		t.Fatalf("SetFlag(on)=%v", err)
	}
	if got := mustGet(t, st, "item-001")["flag"]; got != true && !engine.EqualValues(got, engine.Number("1")) {
		t.Errorf("flag=%#v after SetFlag(on), want true or 1", got)
	}
	if got := mustGet(t, st, "item-002")["flag"]; got != nil {
		t.Errorf("flag of another item=%#v, want nil", got)
	}
	if err := ls.SetFlag(ctx(t), "", key("item-001"), "flag", false); err != nil {
		t.Fatalf("SetFlag(off)=%v", err)
	}
	if got := mustGet(t, st, "item-001")["flag"]; got != nil {
		t.Errorf("flag=%#v after SetFlag(off), want nil", got)
	}
	if err := ls.SetFlag(ctx(t), "", key("ghost"), "flag", true); err == nil {
		t.Error("SetFlag(missing item)=nil, want an error")
	}
	if _, ok, _ := st.Get(ctx(t), key("ghost")); ok {
		t.Error("SetFlag created a missing item")
	}
	t.Run("Shared", s.testSharedFlag)
}

// testSharedFlag checks engine.FlagHolder: a flag held by several locks
// stays on until the last lets go, which restores the value from before
// the first (or removes it when it was absent).
func (s *suite) testSharedFlag(t *testing.T) {
	st := s.new(t, []engine.Item{
		{KeyAttr: "zero", "flag": engine.Number("0")},
		{KeyAttr: "seven", "flag": engine.Number("7")},
		{KeyAttr: "absent"},
	})
	fh, ok := st.(engine.FlagHolder)
	if !ok {
		t.Skip("store is not an engine.FlagHolder")
	}
	on := func(id string) bool {
		got := mustGet(t, st, id)["flag"]
		return got == true || engine.EqualValues(got, engine.Number("1"))
	}
	const a, b = "users-migration/prod", "orders-migration/prod"

	// Two locks share the flag of an item that had none.
	h, err := fh.HoldFlag(ctx(t), "", key("absent"), "flag", a)
	if err != nil || h.Before != nil || len(h.Others) != 0 || !on("absent") {
		t.Fatalf("HoldFlag(a)=%+v, %v (on %t); want on, before absent, no others", h, err, on("absent"))
	}
	h, err = fh.HoldFlag(ctx(t), "", key("absent"), "flag", b)
	if err != nil || h.Before != nil || len(h.Others) != 1 || h.Others[0] != a {
		t.Fatalf("HoldFlag(b)=%+v, %v; want before absent (not a's true), others [a]", h, err)
	}
	h, err = fh.UnholdFlag(ctx(t), "", key("absent"), "flag", a)
	if err != nil || !h.Held || h.Restored || len(h.Others) != 1 || h.Others[0] != b {
		t.Fatalf("UnholdFlag(a)=%+v, %v; want held, not restored, others [b]", h, err)
	}
	if !on("absent") {
		t.Fatal("the first lock to let go cleared a flag the other still holds")
	}
	h, err = fh.UnholdFlag(ctx(t), "", key("absent"), "flag", b)
	if err != nil || !h.Held || !h.Restored || len(h.Others) != 0 {
		t.Fatalf("UnholdFlag(b)=%+v, %v; want held and restored", h, err)
	}
	if got := mustGet(t, st, "absent")["flag"]; got != nil {
		t.Errorf("flag=%#v after the last lock let go, want absent", got)
	}
	if h, err = fh.UnholdFlag(ctx(t), "", key("absent"), "flag", b); err != nil || h.Held || h.Restored {
		t.Errorf("UnholdFlag(b, again)=%+v, %v; want nothing done", h, err)
	}

	// An earlier value comes back, also after the holder set it again
	// (a resume) and when the other lock lets go last.
	for _, tt := range []struct {
		id   string
		want engine.Number
	}{{"zero", "0"}, {"seven", "7"}} {
		h, err := fh.HoldFlag(ctx(t), "", key(tt.id), "flag", a)
		if err != nil || !engine.EqualValues(h.Before, tt.want) || !on(tt.id) {
			t.Fatalf("%s: HoldFlag(a)=%+v, %v (on %t); want on, before %s", tt.id, h, err, on(tt.id), tt.want)
		}
		if h, err := fh.HoldFlag(ctx(t), "", key(tt.id), "flag", a); err != nil || !engine.EqualValues(h.Before, tt.want) || len(h.Others) != 0 {
			t.Fatalf("%s: HoldFlag(a, again)=%+v, %v; want before %s, no others", tt.id, h, err, tt.want)
		}
		if _, err := fh.HoldFlag(ctx(t), "", key(tt.id), "flag", b); err != nil {
			t.Fatal(err)
		}
		if h, err := fh.UnholdFlag(ctx(t), "", key(tt.id), "flag", a); err != nil || h.Restored || !on(tt.id) {
			t.Fatalf("%s: UnholdFlag(a)=%+v, %v (on %t); want still on for b", tt.id, h, err, on(tt.id))
		}
		if h, err := fh.UnholdFlag(ctx(t), "", key(tt.id), "flag", b); err != nil || !h.Restored {
			t.Fatalf("%s: UnholdFlag(b)=%+v, %v; want restored", tt.id, h, err)
		}
		if got := mustGet(t, st, tt.id)["flag"]; !engine.EqualValues(got, tt.want) {
			t.Errorf("%s: flag=%#v after the last lock let go, want %s restored", tt.id, got, tt.want)
		}
	}

	if _, err := fh.HoldFlag(ctx(t), "", key("ghost"), "flag", a); err == nil {
		t.Error("HoldFlag(missing item)=nil, want an error")
	}
	if _, ok, _ := st.Get(ctx(t), key("ghost")); ok {
		t.Error("HoldFlag created a missing item")
	}
}

// testTakeLease checks engine.LeaseTaker: a lease is taken over only if
// its record is still the one the taker saw; a renewal since (the holder
// is alive) refuses it, and a lease released meanwhile is just acquired.
func (s *suite) testTakeLease(t *testing.T) {
	st := s.new(t, Seed(1))
	lt, ok := st.(engine.LeaseTaker)
	if !ok {
		t.Skip("store is not an engine.LeaseTaker")
	}
	ls := st.(engine.Leaser)
	t0 := time.Date(2026, 5, 1, 22, 0, 0, 0, time.UTC)
	alice := engine.Lease{Dataset: "split-address", Env: "take", Holder: "alice", Session: "s-alice",
		Acquired: t0, Expires: t0.Add(time.Minute)}
	bob := engine.Lease{Dataset: "split-address", Env: "take", Holder: "bob", Session: "s-bob",
		Acquired: t0.Add(time.Hour), Expires: t0.Add(2 * time.Hour)}
	if _, err := ls.AcquireLease(ctx(t), alice, false); err != nil {
		t.Fatal(err)
	}
	var held *engine.LeaseHeldError
	if _, err := ls.AcquireLease(ctx(t), bob, false); !errors.As(err, &held) {
		t.Fatalf("AcquireLease(bob)=%v, want *LeaseHeldError", err)
	}
	seen := held.Lease
	// Alice renews while bob waits: her record changed.
	alice.Expires = t0.Add(2 * time.Minute)
	renewed, err := ls.RenewLease(ctx(t), alice)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Renewals != 0 && renewed.Renewals != seen.Renewals+1 { // a store that counts renewals
		t.Errorf("RenewLease Renewals=%d, want %d", renewed.Renewals, seen.Renewals+1)
	}
	if _, err := lt.TakeLease(ctx(t), bob, seen); !errors.As(err, &held) || held.Lease.Session != "s-alice" {
		t.Fatalf("TakeLease(bob, record renewed since)=%v, want a *LeaseHeldError naming alice", err)
	}
	// Unchanged since bob's second look: taken.
	if _, err := lt.TakeLease(ctx(t), bob, held.Lease); err != nil {
		t.Fatalf("TakeLease(bob, record unchanged)=%v", err)
	}
	if _, err := ls.RenewLease(ctx(t), alice); !errors.Is(err, engine.ErrLeaseLost) {
		t.Errorf("RenewLease(alice after takeover)=%v, want ErrLeaseLost", err)
	}
	// Released meanwhile: carol just acquires it.
	if err := ls.ReleaseLease(ctx(t), bob); err != nil {
		t.Fatal(err)
	}
	carol := bob
	carol.Holder, carol.Session = "carol", "s-carol"
	if _, err := lt.TakeLease(ctx(t), carol, bob); err != nil {
		t.Errorf("TakeLease(carol, lease released meanwhile)=%v", err)
	}
}
