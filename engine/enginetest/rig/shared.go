package rig

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/steps"
)

// Helpers shared by the backup, lock and migrate tests of engine and
// engine/integration.

// BackupSteps backs the table up and drills a restore of the backup.
const BackupSteps = `      - {id: snapshot, kind: backup}
      - {id: drill, kind: restore-drill, with: {from: snapshot}}
`

// BackupOf runs the backup step and returns its result.
func BackupOf(t *testing.T, r *Data) steps.BackupResult {
	t.Helper()
	res, err := r.Run(r.StepContext("snapshot"))
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	return res.(steps.BackupResult)
}

// ExportLines reads the gzipped export.
func ExportLines(t *testing.T, path string) []string {
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

// WriteExport writes data gzipped to path.
func WriteExport(t *testing.T, path string, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write(data)
	gz.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// OtherRunbook is a second session, of another runbook (dataset) with
// the same steps, on r's store: a different lease.
func OtherRunbook(t *testing.T, r *Data, name string) *Data {
	t.Helper()
	rb := *r.RB
	rb.Name = name
	return NewData(t, &rb, r.St, t.TempDir())
}

// JournaledMigrated is the migrated count of the step's last journaled
// progress event.
func JournaledMigrated(t *testing.T, r *Data) int64 {
	t.Helper()
	evs := r.EventsOf(engine.EvProgress)
	if len(evs) == 0 {
		t.Fatal("no progress event journaled")
	}
	var p struct{ Migrated int64 }
	if err := evs[len(evs)-1].Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p.Migrated
}

// ReasonAnswer answers the takeover prompt with reason.
func ReasonAnswer(reason string, asked *[]engine.Prompt) func(context.Context, engine.Prompt) (engine.Answer, error) {
	return func(_ context.Context, p engine.Prompt) (engine.Answer, error) {
		*asked = append(*asked, p)
		return engine.Answer{Reason: reason}, nil
	}
}
