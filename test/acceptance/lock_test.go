package acceptance

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// leaseTTL is the lock step's lease duration in the lock tests: the
// holder renews it every third of it, so a killed holder's lease outlives
// it by at least two thirds.
const leaseTTL = 9 * time.Second

// lockRunbook takes the lease, holds it in a long shell step when $HOLD is
// set, and releases it.
func lockRunbook(store string) string {
	return fmt.Sprintf(`lockstep: 1
name: acc-lock
title: Hold the migration lease
version: 2
strategy: big-bang
roles:
  responsible: [alice, bob]
environments:
  test:
    store: %s
phases:
  - name: run
    steps:
      - {id: lock, kind: lock, with: {ttl: %s}}
      - id: hold
        kind: shell
        with: {run: 'if [ -n "$HOLD" ]; then touch "$ACC_DIR/holding"; exec sleep 60; fi'}
      - {id: unlock, kind: unlock}
`, store, leaseTTL)
}

// TestLockRefusesSecondSession: while session A (alice) holds the lease of
// a dataset+environment, session B (bob, another machine: another
// journal) is refused by its lock step, which names alice and A's
// session. A killed with SIGKILL keeps the lease until it expires; then B
// takes it over, giving a reason.
func TestLockRefusesSecondSession(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"dynamodb", "sqlite"} {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t)
			var store string
			switch backend {
			case "dynamodb":
				endpoint := dynalite.Start(t)
				seedDynamo(t, dynamoClient(t, endpoint), "counters", randomCounts(t, 10, "item-"))
				store = dynamoStore(endpoint, "counters")
			case "sqlite":
				path := filepath.Join(h.dir, "data.db")
				seedSQLite(t, path, "counters", 10)
				store = sqliteStore(path, "counters")
			}
			testLock(t, h, h.writeFile("lock.yaml", lockRunbook(store)))
		})
	}
}

func testLock(t *testing.T, h *harness, rb string) {
	aJournal, bJournal := filepath.Join(h.dir, "alice.db"), filepath.Join(h.dir, "bob.db")
	a := h.startWith(aJournal, []string{"HOLD=1"}, "run", rb, "--env", "test", "--plain", "--operator", "alice")
	h.waitFile(a, "holding", time.Minute)
	aDB := readJournal(t, aJournal)
	aID := sessionsOf(t, aDB)[0].ID

	refused := func(when string) {
		t.Helper()
		r := h.startWith(bJournal, nil, "run", rb, "--env", "test", "--plain", "--operator", "bob").Wait(time.Minute)
		if r.Code != 1 {
			t.Fatalf("%s: bob's session: exit %d, want 1 (refused by the lock)\n%s", when, r.Code, r)
		}
		out := r.Stdout + r.Stderr
		if !strings.Contains(out, "alice") || !strings.Contains(out, aID) {
			t.Errorf("%s: bob's refusal does not name alice and her session %s\n%s", when, aID, r)
		}
		bDB := readJournal(t, bJournal)
		list := sessionsOf(t, bDB)
		b := list[len(list)-1]
		end, ok := lastStepEnd(t, bDB, b.ID, "lock")
		if !ok || end.Status != "failed" || !strings.Contains(end.Error, "alice") || !strings.Contains(end.Error, aID) {
			t.Errorf("%s: bob's lock step ended %+v, want failed naming alice and %s", when, end, aID)
		}
		for _, e := range eventsOf(t, bDB, b.ID, "step.start") {
			if e.Step == "hold" {
				t.Errorf("%s: bob's session went past the lock step", when)
			}
		}
		// Plain mode answers a failed step without retry/skip in the
		// answers file with abort.
		if b.Outcome != "aborted" && b.Outcome != "failed" {
			t.Errorf("%s: bob's session outcome %q, want aborted or failed", when, b.Outcome)
		}
	}

	refused("while alice's session runs")
	a.kill9()
	killed := time.Now()
	refused("after alice's session was killed, before her lease expires")

	// Once the lease expired, bob may take it over, with a reason.
	time.Sleep(time.Until(killed.Add(leaseTTL + time.Second)))
	answers := h.writeFile("bob-answers.yaml", "lock: {reason: \"alice's session was killed\"}\n")
	r := h.startWith(bJournal, nil, "run", rb, "--env", "test", "--plain", "--operator", "bob", "--answers", answers).Wait(time.Minute)
	if r.Code != 0 {
		t.Fatalf("bob's session after the lease expired: exit %d, want 0\n%s", r.Code, r)
	}
	bDB := readJournal(t, bJournal)
	list := sessionsOf(t, bDB)
	var res struct {
		TakenOver      bool   `json:"taken_over"`
		PreviousHolder string `json:"previous_holder"`
		Reason         string `json:"reason"`
	}
	end, _ := lastStepEnd(t, bDB, list[len(list)-1].ID, "lock")
	if err := json.Unmarshal(end.Result, &res); err != nil || !res.TakenOver || res.PreviousHolder != "alice" || res.Reason == "" {
		t.Errorf("bob's lock result %s, want taken over from alice with a reason (%v)", end.Result, err)
	}
}
