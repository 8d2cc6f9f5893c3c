package acceptance

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/internal/pgtest"
)

// PostgreSQL helpers, with pgx directly.

// pgPassword is the password the tests' DSNs carry: the throwaway server
// trusts 127.0.0.1, so it is never checked, but it must never show in the
// journal, the screen or an error.
const pgPassword = "pg-s3cret-Zq9"

// pgDB creates a fresh database and returns its DSN with pgPassword.
func pgDB(t *testing.T) string {
	t.Helper()
	return strings.Replace(pgtest.DB(t), "postgres@", "postgres:"+pgPassword+"@", 1)
}

func pgConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// seedPostgres creates table (id bigint PRIMARY KEY, count, v) and copies
// n random counters into it at the seed version.
func seedPostgres(t *testing.T, dsn, table string, n int) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	c := pgConn(t, dsn)
	if _, err := c.Exec(ctx, fmt.Sprintf(`CREATE TABLE %q (id bigint PRIMARY KEY, count bigint NOT NULL, v integer)`, table)); err != nil {
		t.Fatalf("create table: %v", err)
	}
	counts := randomCounts(t, n, "")
	rows := make([][]any, 0, n)
	out := make(map[string]int64, n)
	for id, cnt := range counts {
		k, _ := strconv.ParseInt(id, 10, 64)
		rows = append(rows, []any{k, cnt, int32(seedVersion)})
		out[strconv.FormatInt(k, 10)] = cnt
	}
	if _, err := c.CopyFrom(ctx, pgx.Identifier{table}, []string{"id", "count", "v"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatalf("seed %s: %v", table, err)
	}
	if _, err := c.Exec(ctx, "ANALYZE "+table); err != nil {
		t.Fatal(err)
	}
	return out
}

// readPostgres reads every row of table back.
func readPostgres(t *testing.T, dsn, table string) map[string]row {
	t.Helper()
	c := pgConn(t, dsn)
	rows, err := c.Query(context.Background(), fmt.Sprintf(`SELECT id, count, coalesce(v, 0) FROM %q`, table))
	if err != nil {
		t.Fatalf("read back %s: %v", table, err)
	}
	defer rows.Close()
	out := map[string]row{}
	for rows.Next() {
		var id int64
		var r row
		if err := rows.Scan(&id, &r.Count, &r.V); err != nil {
			t.Fatalf("read back %s: %v", table, err)
		}
		out[strconv.FormatInt(id, 10)] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// postgresStore is the runbook store spec of a PostgreSQL table whose DSN
// is in $PG_DSN.
func postgresStore(table string) string {
	return fmt.Sprintf(`{kind: postgres, dsn: "${PG_DSN}", table: %s, key: [id]}`, table)
}
