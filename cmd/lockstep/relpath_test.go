package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// relRunbook keeps its data next to it: a sqlite store, a sql step on it
// and a shell step, all with relative paths.
const relRunbook = `lockstep: 1
name: rel
title: Relative paths
version: 1
strategy: multi-step
roles: {responsible: [u]}
environments:
  local:
    store: {kind: sqlite, path: shop2.db, table: items, key: [id]}
phases:
  - name: p
    steps:
      - {id: check, kind: manual, checklist: [ready]}
      - {id: ddl, kind: sql, with: {statements: ["ALTER TABLE items ADD COLUMN up TEXT"]}}
      - {id: mig, kind: migrate, with: {set: {up: 'upper(item.name)'}}}
      - {id: here, kind: shell, with: {run: "pwd > where.txt"}}
`

// TestResumeFromAnotherDirectory: a session started from the runbook's
// directory and resumed from another one touches the same database: the
// runbook's relative paths are relative to its file, not to the
// operator's working directory; no empty database appears elsewhere.
func TestResumeFromAnotherDirectory(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "shop2.db")
	sqlExec(t, db, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, v INTEGER)",
		"INSERT INTO items (id, name) VALUES (1, 'a'), (2, 'b')")
	writeTestFile(t, filepath.Join(dir, "shop.yaml"), relRunbook)
	writeTestFile(t, filepath.Join(dir, "a.yaml"), "check: {check: [ready]}\n")
	env := map[string]string{"LOCKSTEP_JOURNAL": filepath.Join(dir, "journal.db")}

	t.Chdir(dir)
	if _, errOut, err := execCmd(env, "run", "shop.yaml", "--env", "local", "--plain", "--yes"); exitCode(err) != exitBadInput {
		t.Fatalf("run = %v (exit %d), want exit 2 at the checklist\n%s", err, exitCode(err), errOut)
	}
	t.Chdir(other)
	if out, errOut, err := execCmd(env, "resume", "--plain", "--answers", "../a.yaml", "--yes"); err != nil {
		t.Fatalf("resume from another directory = %v\n%s\n%s", err, out, errOut)
	}

	if got := sqlQuery(t, db, "SELECT group_concat(up, ',') FROM items ORDER BY id"); got != "A,B" {
		t.Errorf("items.up = %q, want A,B (migrated in %s)", got, db)
	}
	if _, err := os.Stat(filepath.Join(other, "shop2.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(other/shop2.db) = %v, want no database created in the working directory", err)
	}
	where, err := os.ReadFile(filepath.Join(dir, "where.txt"))
	if err != nil {
		t.Fatalf("the shell step did not run in the runbook's directory: %v", err)
	}
	if got, want := evalPath(t, strings.TrimSpace(string(where))), evalPath(t, dir); got != want {
		t.Errorf("shell step ran in %s, want %s", got, want)
	}
}

// TestRunMissingStoreFile: an environment store whose file does not
// exist fails with its path and what to do, and creates nothing.
func TestRunMissingStoreFile(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "shop.yaml"), strings.Replace(relRunbook, "{id: check, kind: manual, checklist: [ready]}", "{id: check, kind: manual}", 1))
	env := map[string]string{"LOCKSTEP_JOURNAL": filepath.Join(dir, "journal.db")}
	t.Chdir(dir)
	out, errOut, err := execCmd(env, "run", "shop.yaml", "--env", "local", "--plain", "--yes")
	if err == nil {
		t.Fatalf("run = nil, want the sql step to fail\n%s", out)
	}
	want := filepath.Join(dir, "shop2.db") + " does not exist; create it or fix `path:` at shop.yaml:9:12"
	if !strings.Contains(out.String()+errOut.String(), want) {
		t.Errorf("output does not say %q\n%s\n%s", want, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "shop2.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(shop2.db) = %v, want no database created", err)
	}
}

// execCmd runs the lockstep command line args in-process with env.
func execCmd(env map[string]string, args ...string) (out, errOut *bytes.Buffer, err error) {
	f, out, errOut := testFactory(env, "u")
	cmd := newRootCmd(f)
	cmd.SetArgs(args)
	cmd.SetOut(f.Out)
	cmd.SetErr(f.ErrOut)
	return out, errOut, cmd.ExecuteContext(context.Background())
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func sqlExec(t *testing.T, path string, statements ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range statements {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func sqlQuery(t *testing.T, path, query string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s sql.NullString
	if err := db.QueryRow(query).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s.String
}

func evalPath(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
