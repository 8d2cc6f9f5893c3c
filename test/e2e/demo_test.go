package e2e

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo migrates 100,000 rows")
	}
	e := newEnv(t)
	dir := filepath.Join(e.dir, "demo")
	for run := 1; run <= 2; run++ { // re-runnable: the second run recreates the directory
		r := e.mustRun(0, "demo", "--plain", "--dir", dir)
		if !strings.Contains(r.Stdout, "✓ completed") {
			t.Fatalf("run %d: demo did not complete\n%s", run, r)
		}
	}
	journal := filepath.Join(dir, "journal.db")
	r := e.mustRun(0, "journal", "verify", "--journal", journal)
	if n := strings.Count(r.Stdout, "ok   "); n != 1 {
		t.Errorf("demo journal holds %d verified sessions, want 1 (recreated)\n%s", n, r)
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, "users.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var users int
	if err := db.QueryRow(`SELECT count(*) FROM users`).Scan(&users); err != nil {
		t.Fatal(err)
	}
	if users != 100_000 {
		t.Errorf("demo database holds %d users, want 100000", users)
	}
	if _, err := os.Stat(filepath.Join(dir, "announcements.txt")); err != nil {
		t.Errorf("the file notification was not written: %v", err)
	}
}

func TestDemoRefusesAForeignDirectory(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(e.dir, "mine")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e.writeFile("mine/precious.txt", "keep me")
	r := e.mustRun(2, "demo", "--plain", "--dir", dir)
	if !strings.Contains(r.Stderr, "not made by lockstep demo") {
		t.Errorf("stderr does not explain the refusal\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "precious.txt")); err != nil {
		t.Errorf("demo touched a foreign directory: %v", err)
	}
}

func TestDemoResumesMidMigration(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo migrates 100,000 rows")
	}
	e := newEnv(t)
	dir := filepath.Join(e.dir, "demo")
	p := e.start("demo", "--plain", "--dir", dir)
	p.waitOutput("▶ backfill (migrate)")
	time.Sleep(200 * time.Millisecond) // well inside the ~5 s migration
	if code := p.signal(syscall.SIGINT); code != 3 {
		t.Fatalf("demo exit %d after SIGINT during the migration, want 3\n%s%s", code, p.Stdout, p.Stderr)
	}
	journal := filepath.Join(dir, "journal.db")
	if !strings.Contains(p.Stderr.String(), "lockstep resume ") || !strings.Contains(p.Stderr.String(), journal) {
		t.Errorf("the stopped demo does not say how to resume it\n%s", p.Stderr)
	}
	// The resumed demo finds its database again from its journal's directory.
	r := e.mustRun(0, "resume", "--plain", "--journal", journal)
	if !strings.Contains(r.Stdout, "backfill") || !strings.Contains(r.Stdout, "✓ completed") {
		t.Errorf("resume did not finish the migration\n%s", r)
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, "users.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var split, v1, unsplit int
	if err := db.QueryRow(`SELECT count(street_name), sum(v = 1), sum(street_name IS NULL AND trim(address) != '') FROM users`).Scan(&split, &v1, &unsplit); err != nil {
		t.Fatal(err)
	}
	if split == 0 || split != v1 || unsplit != 0 {
		t.Errorf("after resume: %d split, %d at version 1, %d addresses left unsplit", split, v1, unsplit)
	}
	e.mustRun(0, "journal", "verify", "--journal", journal)
}
