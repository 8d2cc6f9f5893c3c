package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

func TestExecSQL(t *testing.T) {
	t.Parallel()
	st := newTable(t, "CREATE TABLE items (id bigint PRIMARY KEY, v int, name text)",
		[]engine.Item{{"id": engine.Number("1"), "name": "a"}, {"id": engine.Number("2"), "name": "b"}})
	ctx := t.Context()
	tests := []struct {
		name      string
		spec      runbook.SQLSpec
		commit    bool
		wantErr   string
		wantCol   bool // column c exists afterwards
		wantFirst string
	}{
		{"dry run rolls back", runbook.SQLSpec{Statements: []string{"ALTER TABLE items ADD COLUMN c text", "SELECT count(*) FROM items"}}, false, "", false, "2"},
		{"refuses transaction control", runbook.SQLSpec{Statements: []string{"ALTER TABLE items ADD COLUMN c text", "COMMIT"}}, true, "BEGIN, COMMIT", false, ""},
		{"concurrently needs transaction: false", runbook.SQLSpec{Statements: []string{"CREATE INDEX CONCURRENTLY items_name ON items (name)"}}, true, "transaction: false", false, ""},
		{"transaction: false in a dry run is skipped", runbook.SQLSpec{NoTransaction: true, Statements: []string{"CREATE INDEX CONCURRENTLY items_name ON items (name)"}}, false, "", false, "not run"},
		{"transaction: false runs alone", runbook.SQLSpec{NoTransaction: true, Statements: []string{"CREATE INDEX CONCURRENTLY items_name ON items (name)"}}, true, "", false, ""},
		{"commits", runbook.SQLSpec{Statements: []string{"ALTER TABLE items ADD COLUMN c text", "UPDATE items SET c = name"}}, true, "", true, ""},
	}
	for _, tt := range tests {
		res, err := st.ExecSQLSpec(ctx, &tt.spec, tt.commit)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: ExecSQLSpec()=%v, want an error containing %q", tt.name, err, tt.wantErr)
			}
		} else if err != nil {
			t.Errorf("%s: ExecSQLSpec()=%v", tt.name, err)
		}
		if tt.wantFirst != "" && (len(res) == 0 || len(res[len(res)-1].Rows) == 0 || !strings.Contains(res[len(res)-1].Rows[0][0], tt.wantFirst)) {
			t.Errorf("%s: results %+v, want %q in the last one", tt.name, res, tt.wantFirst)
		}
		got, _, _ := st.Get(ctx, engine.Item{"id": engine.Number("1")})
		if _, has := got["c"]; has != tt.wantCol {
			t.Errorf("%s: column c exists=%t, want %t", tt.name, has, tt.wantCol)
		}
	}
	if got, _, _ := st.Get(ctx, engine.Item{"id": engine.Number("2")}); got["c"] != "b" {
		t.Errorf("after commit c=%#v, want b", got["c"])
	}
}

// TestLockTimeout: a sql step waiting for a lock another transaction
// holds gives up after lock_timeout, saying so, and changes nothing.
func TestLockTimeout(t *testing.T) {
	t.Parallel()
	st := newTable(t, "CREATE TABLE items (id bigint PRIMARY KEY, v int)", []engine.Item{{"id": engine.Number("1")}})
	ctx := t.Context()
	holder, err := pgx.Connect(ctx, st.DSNForTest())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(context.Background())
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "LOCK TABLE items IN ACCESS SHARE MODE"); err != nil { // a long-running reader
		t.Fatal(err)
	}
	start := time.Now()
	_, err = st.ExecSQLSpec(ctx, &runbook.SQLSpec{LockTimeout: 300 * time.Millisecond,
		Statements: []string{"ALTER TABLE items ADD COLUMN c text"}}, true)
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "lock_timeout (300ms) expired") {
		t.Fatalf("ExecSQLSpec(ALTER behind a reader)=%v, want a lock_timeout error", err)
	}
	if took > 5*time.Second {
		t.Errorf("gave up after %v, want about 300ms", took)
	}
	// statement_timeout bounds a slow statement the same way.
	_, err = st.ExecSQLSpec(ctx, &runbook.SQLSpec{StatementTimeout: 200 * time.Millisecond,
		Statements: []string{"SELECT pg_sleep(3)"}}, true)
	if err == nil || !strings.Contains(err.Error(), "statement_timeout (200ms) expired") {
		t.Errorf("ExecSQLSpec(pg_sleep)=%v, want a statement_timeout error", err)
	}
	// The default: 5s, set for the transaction only.
	res, err := st.ExecSQL(ctx, []string{"SHOW lock_timeout"}, false)
	if err != nil || len(res) != 1 || res[0].Rows[0][0] != "5s" {
		t.Errorf("SHOW lock_timeout in a sql step = %+v, %v; want 5s", res, err)
	}
	var after string
	if err := holder.QueryRow(ctx, "SHOW lock_timeout").Scan(&after); err != nil || after != "0" {
		t.Errorf("lock_timeout of another session=%q, %v; want the server default 0", after, err)
	}
}

// TestUnsupportedType: a column lockstep cannot map fails naming the
// column and its type.
func TestUnsupportedType(t *testing.T) {
	t.Parallel()
	dsn := newTableNamed(t, "other", "CREATE TABLE other (id int PRIMARY KEY)").DSNForTest()
	exec(t, dsn, "CREATE TABLE items (id int PRIMARY KEY, where_ point)")
	_, err := openErr(t, dsn, "items")
	if !errors.Is(err, postgresErrUnsupported) || !strings.Contains(err.Error(), `column "where_" of type point`) {
		t.Errorf("Open(table with a point column)=%v, want ErrUnsupportedType naming the column", err)
	}
}
