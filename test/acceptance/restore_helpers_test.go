package acceptance

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// restoreRunbook is plan B of the counter migration: back up, migrate,
// wait while "the application" writes (until the file app-done exists),
// then restore the backup over the migrated items.
func restoreRunbook(name, store string, maxRate, batch int) string {
	rate := ""
	if maxRate > 0 {
		rate = fmt.Sprintf("\n    max_write_rate: %d", maxRate)
	}
	return fmt.Sprintf(`lockstep: 1
name: %s
title: Increment every counter once, then put them back
version: %d
strategy: multi-step
roles:
  responsible: [acc-op]
environments:
  test:
    store: %s%s
phases:
  - name: run
    steps:
      - {id: snapshot, kind: backup, with: {native: false}}
      - id: bump
        kind: migrate
        with:
          where: "item.v == nil || item.v < %d"
          set: {count: "item.count + 1"}
          batch_size: %d
          segments: 2
      - {id: app, kind: shell, idempotent: true, with: {run: "while [ ! -f app-done ]; do sleep 0.05; done"}}
      - {id: undo, kind: restore, with: {from: snapshot, batch_size: %d}}
`, name, targetVersion, store, rate, targetVersion, batch, batch)
}

// restoreResult is the part of a restore step's result the tests read.
type restoreResult struct {
	Backup    int64  `json:"backup"`
	Restored  int64  `json:"restored"`
	Unchanged int64  `json:"unchanged"`
	Conflicts int64  `json:"conflicts"`
	Deleted   int64  `json:"deleted"`
	Forced    int64  `json:"forced"`
	Kept      int64  `json:"kept"`
	Recovered int64  `json:"recovered"`
	Decision  string `json:"decision"`
	Resumed   bool   `json:"resumed"`
}

// waitStepEnd waits until step has ended in the only session.
func (h *harness) waitStepEnd(p *proc, step string, timeout time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p.Exited() {
			h.t.Fatalf("lockstep exited before %s ended\n%s", step, p.Output())
		}
		if _, err := os.Stat(h.journal); err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if list := h.sessions(); len(list) == 1 {
			if _, ok := lastStepEnd(h.t, h.journalDB(), list[0].ID, step); ok {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("%s did not end within %v\n%s", step, timeout, p.Output())
}

// checkRestored checks every row against the seed: back at the seed
// version and count, except the app's rows, which hold appWant.
func checkRestored(t *testing.T, seeded map[string]int64, got map[string]row, app map[string]row) {
	t.Helper()
	bad := 0
	for id, c := range seeded {
		want := row{Count: c, V: seedVersion}
		if w, ok := app[id]; ok {
			want = w
		}
		if g, ok := got[id]; (ok || want != row{}) && g != want {
			if bad++; bad <= 5 {
				t.Errorf("item %s = %+v after the restore, want %+v", id, g, want)
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d items in all are wrong", bad)
	}
}
