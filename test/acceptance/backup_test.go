package acceptance

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// backupItems is the size of the backup tests' datasets.
const backupItems = 2000

// backupRunbook backs the table up, waits (when $TAMPER is set) until the
// test has corrupted the export, and drills a restore of the backup.
func backupRunbook(store string) string {
	return fmt.Sprintf(`lockstep: 1
name: acc-backup
title: Back up and prove the backup restorable
version: 2
strategy: big-bang
roles:
  responsible: [acc-op]
environments:
  test:
    store: %s
phases:
  - name: backup
    steps:
      - {id: snapshot, kind: backup}
      - id: tamper
        kind: shell
        with: {run: 'if [ -n "$TAMPER" ]; then touch "$ACC_DIR/backed-up"; while [ ! -e "$ACC_DIR/tampered" ]; do sleep 0.05; done; fi'}
      - {id: drill, kind: restore-drill, with: {from: snapshot}}
`, store)
}

// backupResult and drillResult are the parts of the journaled results of
// the backup and restore-drill steps the tests read.
type backupResult struct {
	Manifest  string `json:"manifest"`
	Export    string `json:"export"`
	ItemCount int64  `json:"item_count"`
	SHA256    string `json:"sha256"`
}

type drillResult struct {
	Scratch  string `json:"scratch"`
	Expected int64  `json:"expected"`
	Imported int64  `json:"imported"`
	Restored int64  `json:"restored"`
	SHA256   string `json:"sha256"`
	Match    bool   `json:"match"`
	Dropped  bool   `json:"dropped"`
}

// backupTarget is a seeded store for the backup tests.
type backupTarget struct {
	store   string          // runbook store spec
	scratch func() []string // scratch tables left behind
}

// TestBackupAndRestoreDrill runs a backup and a restore drill with the
// binary on dynalite and on SQLite: the drill restores every item and
// matches the manifest's count and checksum. Then, per corruption, a
// session whose export is corrupted between the backup and the drill (one
// line edited, or one line garbled) fails at the drill, saying why.
func TestBackupAndRestoreDrill(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"dynamodb", "sqlite"} {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t)
			var target backupTarget
			switch backend {
			case "dynamodb":
				target = dynamoBackupTarget(t)
			case "sqlite":
				target = sqliteBackupTarget(t, filepath.Join(h.dir, "data.db"))
			}
			rb := h.writeFile("backup.yaml", backupRunbook(target.store))

			r := h.mustRun(0, 2*time.Minute, "run", rb, "--env", "test", "--plain")
			s := h.sessions()[0]
			var br backupResult
			var dr drillResult
			if status := h.stepResult(s.ID, "snapshot", &br); status != "done" || br.ItemCount != backupItems {
				t.Fatalf("backup ended %q with %+v, want done with %d items\n%s", status, br, backupItems, r)
			}
			if status := h.stepResult(s.ID, "drill", &dr); status != "done" || !dr.Match || dr.Restored != backupItems ||
				dr.Imported != backupItems || dr.Expected != backupItems || dr.SHA256 != br.SHA256 || !dr.Dropped {
				t.Errorf("drill ended %q with %+v, want done, a match of %d items with checksum %s, dropped", status, dr, backupItems, br.SHA256)
			}
			if left := target.scratch(); len(left) > 0 {
				t.Errorf("scratch tables left behind: %v", left)
			}

			for _, c := range []struct {
				name    string
				corrupt func(line []byte) []byte
				want    []string // in the drill's error
			}{
				{"edited line", editLine, []string{"checksum mismatch", "manifest says " + br.SHA256[:8]}},
				{"garbled line", func([]byte) []byte { return []byte(`{"id":{"S":`) }, []string{"line 1000 unreadable", "export corrupt"}},
			} {
				t.Run(c.name, func(t *testing.T) {
					testCorruptedDrill(t, h, rb, c.corrupt, c.want)
					if left := target.scratch(); len(left) > 0 {
						t.Errorf("scratch tables left behind after the failed drill: %v", left)
					}
				})
			}
		})
	}
}

// testCorruptedDrill runs the backup runbook, corrupts line 1000 of the
// export the backup step wrote (path from its journaled result) before
// the drill runs, and checks that the drill fails saying why.
func testCorruptedDrill(t *testing.T, h *harness, rb string, corrupt func([]byte) []byte, want []string) {
	for _, f := range []string{"backed-up", "tampered"} {
		os.Remove(filepath.Join(h.dir, f))
	}
	before := len(h.sessions())
	p := h.startWith(h.journal, []string{"TAMPER=1"}, "run", rb, "--env", "test", "--plain")
	h.waitFile(p, "backed-up", time.Minute)
	list := h.sessions()
	if len(list) != before+1 {
		t.Fatalf("journal has %d sessions, want %d", len(list), before+1)
	}
	id := list[len(list)-1].ID
	var br backupResult
	if status := h.stepResult(id, "snapshot", &br); status != "done" || br.Export == "" {
		t.Fatalf("backup ended %q with %+v, want done with an export", status, br)
	}
	rewriteLine(t, br.Export, 1000, corrupt)
	h.writeFile("tampered", "")

	r := p.Wait(2 * time.Minute)
	if r.Code != 1 {
		t.Fatalf("run with a corrupted export: exit %d, want 1\n%s", r.Code, r)
	}
	end, ok := lastStepEnd(t, h.journalDB(), id, "drill")
	if !ok || end.Status != "failed" {
		t.Fatalf("drill ended %+v, want failed", end)
	}
	for _, w := range want {
		if !strings.Contains(end.Error, w) {
			t.Errorf("drill error %q does not say %q", end.Error, w)
		}
		if !strings.Contains(r.Stdout+r.Stderr, w) {
			t.Errorf("the operator is not told %q\n%s", w, r)
		}
	}
}

// editLine changes the first string value of an export line: still a
// valid item, but not the one backed up.
func editLine(line []byte) []byte {
	return bytes.Replace(line, []byte(`{"S":"`), []byte(`{"S":"tampered `), 1)
}

// rewriteLine gunzips the export at path, replaces line n (1-based) with
// corrupt(line) and gzips it back in place.
func rewriteLine(t *testing.T, path string, n int, corrupt func([]byte) []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	f.Close()
	if err != nil {
		t.Fatalf("gunzip %s: %v", path, err)
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	if len(lines) < n {
		t.Fatalf("%s has %d lines, want at least %d", path, len(lines), n)
	}
	old := bytes.TrimSuffix(lines[n-1], []byte("\n"))
	edited := corrupt(old)
	if bytes.Equal(edited, old) {
		t.Fatalf("corrupting line %d changed nothing: %s", n, old)
	}
	lines[n-1] = append(edited, '\n')
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(bytes.Join(lines, nil))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// dynamoBackupTarget seeds a dynalite table whose items hold every
// DynamoDB type.
func dynamoBackupTarget(t *testing.T) backupTarget {
	endpoint := dynalite.Start(t)
	c := dynamoClient(t, endpoint)
	createDynamoTable(t, c, "people")
	var reqs []types.WriteRequest
	for i := range backupItems {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: richItem(i)}})
		if len(reqs) == 25 || i == backupItems-1 {
			if err := batchWrite(context.Background(), c, "people", reqs); err != nil {
				t.Fatal(err)
			}
			reqs = nil
		}
	}
	return backupTarget{store: dynamoStore(endpoint, "people"), scratch: func() []string {
		out, err := c.ListTables(context.Background(), &dynamodb.ListTablesInput{})
		if err != nil {
			t.Fatalf("list tables: %v", err)
		}
		var left []string
		for _, name := range out.TableNames {
			if name != "people" && name != "lockstep-leases" && name != "lockstep-registry" { // lockstep's own tables
				left = append(left, name)
			}
		}
		return left
	}}
}

func richItem(i int) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{
		"id":     &types.AttributeValueMemberS{Value: fmt.Sprintf("person-%05d", i)},
		"name":   &types.AttributeValueMemberS{Value: fmt.Sprintf("Ada %d, \"née\" Byron ✓", i)},
		"score":  &types.AttributeValueMemberN{Value: fmt.Sprintf("%d.%03d", i, i%1000)},
		"avatar": &types.AttributeValueMemberB{Value: []byte{0, byte(i), 0xff, '\n'}},
		"active": &types.AttributeValueMemberBOOL{Value: i%2 == 0},
		"tags":   &types.AttributeValueMemberSS{Value: []string{"b", "a", fmt.Sprint(i % 7)}},
		"ranks":  &types.AttributeValueMemberNS{Value: []string{"1", fmt.Sprint(i + 2)}},
		"address": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"city": &types.AttributeValueMemberS{Value: "Paris"},
			"zip":  &types.AttributeValueMemberN{Value: "75001"},
			"list": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberNULL{Value: true}, &types.AttributeValueMemberS{Value: "x"}}},
		}},
		"v": num(seedVersion),
	}
	if i%3 == 0 {
		it["note"] = &types.AttributeValueMemberNULL{Value: true}
	}
	return it
}

// sqliteBackupTarget seeds a SQLite table with every column type.
func sqliteBackupTarget(t *testing.T, path string) backupTarget {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, avatar BLOB, note TEXT, v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range backupItems {
		var note any
		if i%3 != 0 {
			note = fmt.Sprintf("note %d", i)
		}
		if _, err := tx.Exec(`INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)`, i+1, fmt.Sprintf("Ada %d, \"née\" Byron ✓", i),
			float64(i)+0.25, []byte{0, byte(i), 0xff, '\n'}, note, seedVersion); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return backupTarget{store: sqliteStore(path, "people"), scratch: func() []string {
		db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%drill%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var left []string
		for rows.Next() {
			var name string
			rows.Scan(&name)
			left = append(left, name)
		}
		return left
	}}
}
