package engine_test

import (
	"testing"

	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// TestRestoreBatchNotCheckpointedIsNotWritten: a restore writes a batch
// only after the checkpoint holding its intent is durable. When the
// journal refuses the second batch's checkpoint, the restore stops with
// the first batch written and not one item of the second.
func TestRestoreBatchNotCheckpointedIsNotWritten(t *testing.T) {
	t.Parallel()
	const rows, batch = 100, 30
	rb := rig.DataRunbook(t, 2, "", `      - {id: snapshot, kind: backup, with: {native: false}}
      - {id: bump, kind: migrate, with: {set: {count: "item.count + 1"}, batch_size: 40}}
      - {id: undo, kind: restore, with: {from: snapshot, batch_size: 30}}
`)
	r := rig.NewSQLite(t, rb, rows)
	for _, id := range []string{"snapshot", "bump"} {
		if _, err := r.Run(r.StepContext(id)); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	sc := r.StepContext("undo")
	j := &rig.RefuseCheckpoints{Journal: sc.Journal, Step: "undo", OK: 1, Err: errRefused}
	sc.Journal = j
	if _, err := r.Run(sc); err == nil {
		t.Fatal("the restore went on past a checkpoint the journal refused")
	}
	if n := j.Saved.Load(); n != 2 {
		t.Fatalf("%d checkpoints attempted, want 2 (the second refused)", n)
	}
	var restored, migrated int
	if err := r.SQLDB(t).QueryRow(`SELECT count(*) FILTER (WHERE count = id), count(*) FILTER (WHERE count = id + 1) FROM users`).
		Scan(&restored, &migrated); err != nil {
		t.Fatal(err)
	}
	if restored != batch || migrated != rows-batch {
		t.Errorf("%d rows restored, %d still migrated; want the first batch (%d) restored, not one row of the batch whose checkpoint was refused",
			restored, migrated, batch)
	}
}
