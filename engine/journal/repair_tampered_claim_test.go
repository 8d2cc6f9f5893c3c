package journal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
)

// TestOpenLeavesATamperedLaggingRowAlone holds docs/journal.md: the next
// run or resume repairs a row a crash left behind its session.end "only
// when the chain verifies and its last event is that session.end". Here
// the last event is that session.end, but an earlier event was edited: a
// writable Open must not set the row from the chain (which would make an
// edited session look ended in good order), and verify still names the
// edit.
func TestOpenLeavesATamperedLaggingRowAlone(t *testing.T) {
	ctx := context.Background()
	j, path := openTemp(t)
	s := endedSession(t, j, engine.OutcomeAborted)
	j.Close()
	db := rawDB(t, path)
	for _, q := range []string{
		`UPDATE events SET data = '{"text":"edited"}' WHERE session = ? AND seq = 2`,
		`UPDATE sessions SET outcome = '', ended = NULL WHERE id = ?`, // left behind its session.end
	} {
		if _, err := db.Exec(q, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	w, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	info, err := w.Session(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Outcome != engine.OutcomeRunning || !info.Ended.IsZero() {
		t.Errorf("after Open: outcome %q, ended %v; want the row left as it was (running) since the chain does not hold", info.Outcome, info.Ended)
	}
	res, err := w.Verify(ctx, s.ID)
	if err != nil || res.OK || res.Repairable || res.BadSeq != 2 || !strings.Contains(res.Reason, "hash mismatch") {
		t.Errorf("Verify() = %+v, %v; want a hash mismatch at seq 2, not repairable", res, err)
	}
}
