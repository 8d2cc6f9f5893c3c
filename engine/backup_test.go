package engine_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/steps"
)

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

func TestBackupAndDrillSQLite(t *testing.T) {
	t.Parallel()
	r := newSQLiteRig(t, dataRunbook(t, 2, "", backupSteps), 700)
	br := backupOf(t, r)
	if br.ItemCount != 700 || len(br.SHA256) != 64 || br.Checksum != steps.ChecksumMethod {
		t.Fatalf("backup = %+v, want 700 items and a checksum", br)
	}
	man, err := steps.ReadManifest(br.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if man.ItemCount != 700 || man.SHA256 != br.SHA256 || man.Table != "users" || man.Store != "sqlite" {
		t.Errorf("manifest = %+v", man)
	}
	if want := filepath.Join(r.dir, "work", "backups"); !strings.HasPrefix(br.Manifest, want) {
		t.Errorf("manifest at %s, want under %s", br.Manifest, want)
	}
	lines := exportLines(t, br.Export)
	if len(lines) != 700 {
		t.Fatalf("export has %d lines, want 700", len(lines))
	}
	res, err := r.run(r.stepContext("drill"))
	if err != nil {
		t.Fatalf("drill: %v", err)
	}
	dr := res.(steps.DrillResult)
	if !dr.Match || dr.Restored != 700 || dr.SHA256 != man.SHA256 || !dr.Dropped {
		t.Errorf("drill = %+v", dr)
	}
	assertNoScratch(t, r, dr.Scratch)
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

// assertNoScratch checks the scratch table is gone.
func assertNoScratch(t *testing.T, r *dataRig, name string) {
	t.Helper()
	sc, ok := r.st.(engine.ScratchCreator)
	if !ok {
		return
	}
	// Creating it again succeeds only if the drill dropped it.
	st, err := sc.CreateScratch(r.ctx, name)
	if err != nil {
		t.Fatalf("scratch table %s still exists: %v", name, err)
	}
	st.Close()
	sc.DropScratch(r.ctx, name)
}

func TestDrillDetectsCorruptExport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		corrupt func(t *testing.T, path string)
		want    string
	}{
		{"changed line", func(t *testing.T, path string) {
			lines := exportLines(t, path)
			lines[10] = strings.Replace(lines[10], "user", "uzer", 1)
			writeExport(t, path, []byte(strings.Join(lines, "\n")+"\n"))
		}, "checksum mismatch"},
		{"missing line", func(t *testing.T, path string) {
			lines := exportLines(t, path)
			writeExport(t, path, []byte(strings.Join(lines[1:], "\n")+"\n"))
		}, "count mismatch: export has 99 items, manifest says 100"},
		{"unreadable line", func(t *testing.T, path string) {
			lines := exportLines(t, path)
			lines[4] = `{"id":{"N":`
			writeExport(t, path, []byte(strings.Join(lines, "\n")+"\n"))
		}, "line 5 unreadable"},
		{"bad gzip", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			b[len(b)-6] ^= 0xff // the gzip trailer's CRC
			os.WriteFile(path, b, 0o600)
		}, "unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSQLiteRig(t, dataRunbook(t, 2, "", backupSteps), 100)
			br := backupOf(t, r)
			tt.corrupt(t, br.Export)
			res, err := r.run(r.stepContext("drill"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("drill error = %v, want %q", err, tt.want)
			}
			if !errors.Is(err, steps.ErrDrillMismatch) && !errors.Is(err, steps.ErrExportCorrupt) {
				t.Errorf("error %v is neither ErrDrillMismatch nor ErrExportCorrupt", err)
			}
			assertNoScratch(t, r, res.(steps.DrillResult).Scratch)
		})
	}
}

func TestBackupChecksumIsOrderIndependent(t *testing.T) {
	t.Parallel()
	lines := [][]byte{[]byte(`{"id":{"N":"1"}}`), []byte(`{"id":{"N":"2"}}`), []byte(`{"id":{"N":"3"}}`)}
	var a, b, c steps.ItemChecksum
	for _, l := range lines {
		a.Add(l)
	}
	for i := len(lines) - 1; i >= 0; i-- {
		b.Add(lines[i])
	}
	c.Add(lines[0])
	c.Add(lines[0])
	c.Add(lines[2])
	if a.Hex() != b.Hex() {
		t.Errorf("order changed the checksum: %s vs %s", a.Hex(), b.Hex())
	}
	if a.Hex() == c.Hex() {
		t.Error("a duplicated line replacing another kept the checksum")
	}
}
