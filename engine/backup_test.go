package engine_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/steps"
)

func TestBackupAndDrillSQLite(t *testing.T) {
	t.Parallel()
	r := rig.NewSQLite(t, rig.DataRunbook(t, 2, "", rig.BackupSteps), 700)
	br := rig.BackupOf(t, r)
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
	if want := filepath.Join(r.Dir, "work", "backups"); !strings.HasPrefix(br.Manifest, want) {
		t.Errorf("manifest at %s, want under %s", br.Manifest, want)
	}
	lines := rig.ExportLines(t, br.Export)
	if len(lines) != 700 {
		t.Fatalf("export has %d lines, want 700", len(lines))
	}
	res, err := r.Run(r.StepContext("drill"))
	if err != nil {
		t.Fatalf("drill: %v", err)
	}
	dr := res.(steps.DrillResult)
	if !dr.Match || dr.Restored != 700 || dr.SHA256 != man.SHA256 || !dr.Dropped {
		t.Errorf("drill = %+v", dr)
	}
	assertNoScratch(t, r, dr.Scratch)
}

// assertNoScratch checks the scratch table is gone.
func assertNoScratch(t *testing.T, r *rig.Data, name string) {
	t.Helper()
	sc, ok := r.St.(engine.ScratchCreator)
	if !ok {
		return
	}
	// Creating it again succeeds only if the drill dropped it.
	st, err := sc.CreateScratch(r.Ctx, name)
	if err != nil {
		t.Fatalf("scratch table %s still exists: %v", name, err)
	}
	st.Close()
	sc.DropScratch(r.Ctx, name)
}

func TestDrillDetectsCorruptExport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		corrupt func(t *testing.T, path string)
		want    string
	}{
		{"changed line", func(t *testing.T, path string) {
			lines := rig.ExportLines(t, path)
			lines[10] = strings.Replace(lines[10], "user", "uzer", 1)
			rig.WriteExport(t, path, []byte(strings.Join(lines, "\n")+"\n"))
		}, "checksum mismatch"},
		{"missing line", func(t *testing.T, path string) {
			lines := rig.ExportLines(t, path)
			rig.WriteExport(t, path, []byte(strings.Join(lines[1:], "\n")+"\n"))
		}, "count mismatch: export has 99 items, manifest says 100"},
		{"unreadable line", func(t *testing.T, path string) {
			lines := rig.ExportLines(t, path)
			lines[4] = `{"id":{"N":`
			rig.WriteExport(t, path, []byte(strings.Join(lines, "\n")+"\n"))
		}, "line 5 unreadable"},
		{"bad gzip", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			b[len(b)-6] ^= 0xff // the gzip trailer's CRC
			os.WriteFile(path, b, 0o600)
		}, "unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rig.NewSQLite(t, rig.DataRunbook(t, 2, "", rig.BackupSteps), 100)
			br := rig.BackupOf(t, r)
			tt.corrupt(t, br.Export)
			res, err := r.Run(r.StepContext("drill"))
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
