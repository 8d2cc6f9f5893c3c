package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/lockstep-run/lockstep/engine"
	"path/filepath"
	"regexp"
	"sync"
	"time"
)

// BackupResult is the result of a backup step (journaled with step.end);
// restore-drill and verify find the manifest through it.
type BackupResult struct {
	Manifest    string             `json:"manifest"` // path of manifest.json
	Export      string             `json:"export"`   // path of items.jsonl.gz
	Table       string             `json:"table"`
	ItemCount   int64              `json:"item_count"`
	Bytes       int64              `json:"bytes"`
	GzipBytes   int64              `json:"gzip_bytes"`
	SHA256      string             `json:"sha256"`
	Checksum    string             `json:"checksum"` // ChecksumMethod
	Native      *engine.BackupInfo `json:"native,omitempty"`
	NativeError string             `json:"native_error,omitempty"`
	PITR        *engine.PITRStatus `json:"pitr,omitempty"`
	Dump        *engine.DumpInfo   `json:"dump,omitempty"`
	ElapsedMS   int64              `json:"elapsed_ms"`
}

// runBackup takes a native backup when the store supports it (a failure
// there is a warning: the logical export still runs), journals the PITR
// status, then exports every item to gzipped JSON lines plus a manifest.
func runBackup(ctx context.Context, sc *engine.StepContext) (any, error) {
	start := time.Now()
	st, err := sc.EnvStore(ctx)
	if err != nil {
		return nil, err
	}
	info, err := st.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup %s: describe table: %w", sc.Step.ID, err)
	}
	res := BackupResult{Table: info.Table, Checksum: ChecksumMethod}
	spec := sc.Step.Backup
	if nb, ok := st.(engine.NativeBackuper); ok {
		if spec == nil || spec.Native {
			if err := nativeBackup(ctx, sc, nb, info, &res); err != nil {
				return nil, err
			}
		}
		if p, err := nb.PITRStatus(ctx); err == nil {
			res.PITR = &p
			_ = sc.EmitOutput(fmt.Sprintf("point-in-time recovery: enabled=%t", p.Enabled))
		}
	}
	dir := filepath.Join(sc.WorkDir, "backups", safeName(sc.Session.ID+"-"+sc.Step.ID))
	if spec != nil && spec.Dir != "" {
		getenv := sc.Getenv
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		base, err := sc.Runbook.ExpandPath(spec.Dir, getenv)
		if err != nil {
			return nil, fmt.Errorf("backup %s: dir: %w", sc.Step.ID, err)
		}
		dir = filepath.Join(base, safeName(sc.Session.ID+"-"+sc.Step.ID))
	}
	if err := sc.EmitOutput(fmt.Sprintf("exporting %s (about %d items) to %s", info.Table, info.ItemCount, dir)); err != nil {
		return nil, err
	}
	prog := engine.NewItemProgress(sc, info.ItemCount)
	man, path, err := exportTable(ctx, sc.ClockOrSystem(), prog.Counting(st), info, dir)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", sc.Step.ID, err)
	}
	prog.Finish()
	if d, ok := st.(engine.Dumper); ok {
		if err := dumpBackup(ctx, sc, d, dir, &res); err != nil {
			return nil, err
		}
	}
	res.Manifest, res.Export = path, filepath.Join(dir, man.File)
	res.ItemCount, res.Bytes, res.GzipBytes, res.SHA256 = man.ItemCount, man.Bytes, man.GzipBytes, man.SHA256
	res.ElapsedMS = time.Since(start).Milliseconds()
	if sc.Emit != nil {
		if err := sc.Emit(engine.NewEvent(sc.Step.ID, engine.Result{Value: man})); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// nativeBackup asks the store for a server-side backup; an unsupported or
// failed one is journaled as a warning.
func nativeBackup(ctx context.Context, sc *engine.StepContext, nb engine.NativeBackuper, info engine.TableInfo, res *BackupResult) error {
	name := safeName(fmt.Sprintf("%s-%s-%s", info.Table, sc.Step.ID, sc.ClockOrSystem().Now().UTC().Format("20060102T150405Z")))
	bi, err := nb.CreateBackup(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res.NativeError = err.Error()
		return sc.EmitWarning(engine.Warning{Message: "native backup unavailable; continuing with the logical export", Error: err.Error()})
	}
	res.Native = &bi
	return sc.EmitOutput(fmt.Sprintf("native backup %s: %s", bi.Name, bi.Status))
}

// dumpBackup writes the database's own dump of the table next to the
// logical export. A missing tool is said, a failing one is a warning:
// the logical export, verified by restore-drill, is the backup either way.
func dumpBackup(ctx context.Context, sc *engine.StepContext, d engine.Dumper, dir string, res *BackupResult) error {
	info, err := d.Dump(ctx, dir)
	switch {
	case errors.Is(err, engine.ErrNoDumpTool):
		return sc.EmitOutput(fmt.Sprintf("no database dump: %v; the logical export is the backup", err))
	case err != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return sc.EmitWarning(engine.Warning{Message: "database dump failed; the logical export is the backup", Error: err.Error()})
	}
	res.Dump = &info
	return sc.EmitOutput(fmt.Sprintf("%s dump: %s (%d bytes); restore with: %s", info.Tool, info.File, info.Bytes, info.Restore))
}

// unsafeChars is compiled on first use: Go initialises every linked
// package on every command (issue 17).
var unsafeChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9_.-]+`) })

// safeName keeps letters, digits, '_', '.' and '-' (file and table names).
func safeName(s string) string { return unsafeChars().ReplaceAllString(s, "_") }

// backupResult finds the result of backup step id among sc.Results.
func backupResult(sc *engine.StepContext, id string) (BackupResult, error) {
	var r BackupResult
	raw, ok := sc.Results[id]
	if !ok {
		return r, fmt.Errorf("no result of backup step %q: run it first", id)
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("result of backup step %q: %w", id, err)
	}
	if r.Manifest == "" {
		return r, errors.New("backup step " + id + " has no logical export manifest")
	}
	return r, nil
}
