package postgres_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/postgres"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/internal/pgtest"
	"github.com/lockstep-run/lockstep/runbook"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// pgTypes maps the suite's SQLite column types to PostgreSQL's.
var pgTypes = map[string]string{"TEXT PRIMARY KEY": "text PRIMARY KEY", "INTEGER": "bigint", "NUMERIC": "numeric", "BLOB": "bytea", "TEXT": "text"}

func TestConformance(t *testing.T) {
	t.Parallel()
	var cols []string
	for _, c := range storetest.Columns {
		cols = append(cols, `"`+c.Name+`" `+pgTypes[c.SQLType])
	}
	ddl := "CREATE TABLE items (" + strings.Join(cols, ", ") + ")"
	storetest.Run(t, func(t *testing.T, seed []engine.Item) engine.Store {
		return newTable(t, ddl, seed)
	}, storetest.ScalarsOnly(), storetest.WithReopen(func(t *testing.T, s engine.Store) engine.Store {
		return open(t, s.(*postgres.Store).DSNForTest(), "items")
	}))
}

// newTable creates a fresh database with ddl, opens its table items and
// puts seed into it.
func newTable(t *testing.T, ddl string, seed []engine.Item, key ...string) *postgres.Store {
	t.Helper()
	dsn := pgtest.DB(t)
	exec(t, dsn, ddl)
	st := open(t, dsn, "items", key...)
	if err := st.Put(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
	return st
}

func open(t *testing.T, dsn, table string, key ...string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), &runbook.StoreSpec{Kind: "postgres", DSN: dsn, Table: table, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func exec(t *testing.T, dsn string, sql string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

var postgresErrUnsupported = postgres.ErrUnsupportedType

func openErr(t *testing.T, dsn, table string) (*postgres.Store, error) {
	t.Helper()
	st, err := postgres.Open(t.Context(), &runbook.StoreSpec{Kind: "postgres", DSN: dsn, Table: table})
	if err == nil {
		t.Cleanup(func() { st.Close() })
	}
	return st, err
}

// newTableNamed creates a fresh database with ddl and opens table.
func newTableNamed(t *testing.T, table, ddl string) *postgres.Store {
	t.Helper()
	dsn := pgtest.DB(t)
	exec(t, dsn, ddl)
	return open(t, dsn, table)
}
