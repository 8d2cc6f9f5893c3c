package steps

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// Export file names inside an export directory.
const (
	ExportItemsFile    = "items.jsonl.gz"
	ExportManifestFile = "manifest.json"
	// ChecksumMethod names how ExportManifest.SHA256 is computed: the sum
	// modulo 2^256 of the SHA-256 digests of every item line (MarshalItem
	// bytes, no newline), so it does not depend on scan order.
	ChecksumMethod = "sum-sha256-lines"
)

// ExportManifest describes a logical export (manifest.json).
type ExportManifest struct {
	Table     string    `json:"table"`
	Key       []string  `json:"key"`
	ItemCount int64     `json:"item_count"`
	SHA256    string    `json:"sha256"`   // see ChecksumMethod
	Checksum  string    `json:"checksum"` // ChecksumMethod
	Bytes     int64     `json:"bytes"`    // uncompressed lines, newlines included
	GzipBytes int64     `json:"gzip_bytes"`
	Created   time.Time `json:"created"`
	Store     string    `json:"store"` // backend: dynamodb | sqlite
	File      string    `json:"file"`  // items file, relative to the manifest
}

// ItemChecksum is the order-independent checksum of a set of item lines.
type ItemChecksum struct{ acc [4]uint64 }

// Add adds one line (without its newline).
func (c *ItemChecksum) Add(line []byte) {
	d := sha256.Sum256(line)
	var carry uint64
	for i := 3; i >= 0; i-- {
		w := binary.BigEndian.Uint64(d[i*8:])
		s := c.acc[i] + w
		c2 := uint64(0)
		if s < w {
			c2 = 1
		}
		s2 := s + carry
		if s2 < s {
			c2++
		}
		c.acc[i], carry = s2, c2
	}
}

// Hex returns the checksum as 64 hex digits.
func (c *ItemChecksum) Hex() string {
	var b [32]byte
	for i, w := range c.acc {
		binary.BigEndian.PutUint64(b[i*8:], w)
	}
	return hex.EncodeToString(b[:])
}

// exportTable writes every item of st as gzipped JSON lines into dir and
// then the manifest. Memory stays bounded: pages are streamed.
func exportTable(ctx context.Context, clock engine.Clock, st engine.Store, info engine.TableInfo, dir string) (ExportManifest, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ExportManifest{}, "", fmt.Errorf("export: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ExportItemsFile), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return ExportManifest{}, "", fmt.Errorf("export: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 256<<10)
	gz := gzip.NewWriter(bw)
	man := ExportManifest{Table: info.Table, Key: info.Key, Checksum: ChecksumMethod, Created: clock.Now().UTC(),
		Store: info.Backend, File: ExportItemsFile}
	var sum ItemChecksum
	err = migrate.ScanAllConsistent(ctx, clock, st, migrate.DataSegments, 0, func(items []engine.Item) error {
		for _, it := range items {
			line, err := engine.MarshalItem(it)
			if err != nil {
				return err
			}
			sum.Add(line)
			man.ItemCount++
			man.Bytes += int64(len(line)) + 1
			if _, err := gz.Write(append(line, '\n')); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = gz.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return ExportManifest{}, "", fmt.Errorf("export %s: %w", info.Table, err)
	}
	if fi, err := f.Stat(); err == nil {
		man.GzipBytes = fi.Size()
	}
	man.SHA256 = sum.Hex()
	path := filepath.Join(dir, ExportManifestFile)
	b, _ := json.MarshalIndent(man, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return ExportManifest{}, "", fmt.Errorf("export: write manifest: %w", err)
	}
	return man, path, nil
}

// ReadManifest reads an export's manifest.json.
func ReadManifest(path string) (ExportManifest, error) {
	var m ExportManifest
	b, err := os.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("read manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("read manifest %s: %w", path, err)
	}
	return m, nil
}

// ErrExportCorrupt marks an export that cannot be read back as written.
var ErrExportCorrupt = errors.New("export corrupt")

// readExport streams the items of the export next to manifestPath, calling
// fn with each item and its 1-based line number. It returns the count and
// checksum of what it read.
func readExport(manifestPath string, man ExportManifest, fn func(line int, it engine.Item) error) (int64, string, error) {
	file := man.File
	if file == "" {
		file = ExportItemsFile
	}
	f, err := os.Open(filepath.Join(filepath.Dir(manifestPath), file))
	if err != nil {
		return 0, "", fmt.Errorf("open export: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return 0, "", fmt.Errorf("line 1 unreadable: %w: %w", ErrExportCorrupt, err)
	}
	r := bufio.NewReaderSize(gz, 64<<10)
	var sum ItemChecksum
	var n int64
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			n++
			if line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			}
			it, uerr := engine.UnmarshalItem(line)
			if uerr != nil {
				return n, "", fmt.Errorf("line %d unreadable: %w: %w", n, ErrExportCorrupt, uerr)
			}
			sum.Add(line)
			if ferr := fn(int(n), it); ferr != nil {
				return n, "", ferr
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, "", fmt.Errorf("line %d unreadable: %w: %w", n+1, ErrExportCorrupt, err)
		}
	}
	return n, sum.Hex(), nil
}
