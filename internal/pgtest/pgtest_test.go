package pgtest_test

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lockstep-run/lockstep/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestFreshDatabases: each test gets its own empty database on the
// shared server, as a non-root server user.
func TestFreshDatabases(t *testing.T) {
	t.Parallel()
	a, b := pgtest.DB(t), pgtest.DB(t)
	if a == b {
		t.Fatalf("DB() twice = %s both times", a)
	}
	ctx := t.Context()
	c, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	c2, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	var n int
	if err := c2.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 't'").Scan(&n); err != nil || n != 0 {
		t.Errorf("second database sees %d tables t (%v), want 0", n, err)
	}
}
