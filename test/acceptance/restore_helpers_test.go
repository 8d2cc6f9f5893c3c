package acceptance

import (
	"fmt"
	"strings"
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

// waitStepEnd waits until step has a step.end event in the journal.
func (h *harness) waitStepEnd(p *proc, step string, timeout time.Duration) {
	h.t.Helper()
	ended := func() bool {
		db := h.journalDB()
		if db == nil {
			return false
		}
		var n int
		err := db.QueryRow(`SELECT count(*) FROM events WHERE kind = 'step.end' AND step = ?`, step).Scan(&n)
		if err != nil && !strings.Contains(err.Error(), "no such table") { // still creating the schema
			h.t.Fatalf("read step ends: %v", err)
		}
		return n > 0
	}
	if err := p.Until(timeout, 20*time.Millisecond, ended); err != nil {
		h.t.Fatalf("%s did not end: %v\n%s", step, err, p.Output())
	}
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
