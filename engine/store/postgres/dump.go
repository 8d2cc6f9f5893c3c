package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.Dumper = (*Store)(nil)

// Dump implements engine.Dumper with pg_dump: the table (schema and
// data) in pg_dump's custom format, in dir, restorable with pg_restore.
// The password never reaches pg_dump's command line (other users of the
// machine can read it there): it goes through PGPASSWORD.
func (s *Store) Dump(ctx context.Context, dir string) (engine.DumpInfo, error) {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return engine.DumpInfo{}, fmt.Errorf("pg_dump: %w", engine.ErrNoDumpTool)
	}
	version, _ := exec.CommandContext(ctx, bin, "--version").Output()
	file := filepath.Join(dir, s.table+".pgdump")
	dsn, pw := withoutPassword(s.rawDSN), dsnPassword(s.rawDSN)
	table := quote(s.schemaName) + "." + quote(s.table)
	cmd := exec.CommandContext(ctx, bin, "--format=custom", "--no-owner", "--no-privileges",
		"--table="+table, "--file="+file, "--dbname="+dsn)
	cmd.Env = os.Environ()
	if pw != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+pw)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		_ = os.Remove(file)
		return engine.DumpInfo{}, redactErr(fmt.Errorf("pg_dump %s: %w: %s", table, err, strings.TrimSpace(stderr.String())), s.rawDSN)
	}
	size, sum, err := fileSum(file)
	if err != nil {
		return engine.DumpInfo{}, fmt.Errorf("pg_dump %s: %w", table, err)
	}
	return engine.DumpInfo{
		Tool: strings.TrimSpace(string(version)), File: file, Bytes: size, SHA256: sum,
		Restore: fmt.Sprintf("pg_restore --no-owner --dbname=%q %q", RedactDSN(s.rawDSN), file),
	}, nil
}

// withoutPassword returns dsn with its password removed, in both URL and
// keyword/value forms.
func withoutPassword(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		if q.Has("password") {
			q.Del("password")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return strings.TrimSpace(kvPassword.ReplaceAllString(dsn, ""))
}

// fileSum returns the size and SHA-256 of the file at path.
func fileSum(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
