package integration_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/steps"
)

// Helpers copied from engine's own tests (an engine_test package cannot be
// imported), so the moved tests keep their assertions word for word.

// cancelJournal cancels the run after n checkpoints: a crash mid-run.
type cancelJournal struct {
	engine.Journal
	n      int
	cancel context.CancelFunc
	mu     sync.Mutex
	count  int
}

func (j *cancelJournal) SaveCheckpoint(ctx context.Context, s, step string, seg int, cur []byte, data any) error {
	err := j.Journal.SaveCheckpoint(ctx, s, step, seg, cur, data)
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.count++; j.count == j.n {
		j.cancel()
	}
	return err
}

const counterSteps = `      - id: bump
        kind: migrate
        with:
          set: {count: "item.count + 1"}
          batch_size: 40
          segments: 4
`

const backupSteps = `      - {id: snapshot, kind: backup}
      - {id: drill, kind: restore-drill, with: {from: snapshot}}
`

// backupOf runs the backup step and returns its result.
func backupOf(t *testing.T, r *dataRig) steps.BackupResult {
	t.Helper()
	res, err := r.run(r.stepContext("snapshot"))
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	return res.(steps.BackupResult)
}

// exportLines reads the gzipped export.
func exportLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func writeExport(t *testing.T, path string, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write(data)
	gz.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// otherRunbookRig is a second session, of another runbook (dataset) with
// the same steps, on r's store: a different lease.
func otherRunbookRig(t *testing.T, r *dataRig, name string) *dataRig {
	t.Helper()
	rb := *r.rb
	rb.Name = name
	return newDataRig(t, &rb, r.st, t.TempDir())
}

// journaledMigrated is the migrated count of the step's last journaled
// progress event.
func journaledMigrated(t *testing.T, r *dataRig) int64 {
	t.Helper()
	evs := r.eventsOf(engine.EvProgress)
	if len(evs) == 0 {
		t.Fatal("no progress event journaled")
	}
	var p struct{ Migrated int64 }
	if err := evs[len(evs)-1].Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p.Migrated
}

// reasonAnswer answers the takeover prompt with reason.
func reasonAnswer(reason string, asked *[]engine.Prompt) func(context.Context, engine.Prompt) (engine.Answer, error) {
	return func(_ context.Context, p engine.Prompt) (engine.Answer, error) {
		*asked = append(*asked, p)
		return engine.Answer{Reason: reason}, nil
	}
}
