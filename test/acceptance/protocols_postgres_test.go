package acceptance

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/internal/pgtest"
)

// pgProtocolCase runs one built-in PostgreSQL protocol end to end: setup
// creates and fills the table, answers drive the run, and each check is a
// query whose single text result must equal its want.
type pgProtocolCase struct {
	protocol string
	setup    []string
	answers  string
	checks   [][2]string // query, want
}

var pgProtocolCases = []pgProtocolCase{
	{
		protocol: "postgres-add-not-null-column",
		// plan exists, nullable, set on every tenth row: the writers are
		// deployed, the backfill keeps their values.
		setup: []string{
			"CREATE TABLE users (id bigint PRIMARY KEY, name text, plan text, v integer)",
			"INSERT INTO users (id, name, plan) SELECT i, 'user ' || i, CASE WHEN i % 10 = 0 THEN 'pro' END FROM generate_series(0, 119) i",
		},
		answers: approve + "deploy-writers: {check: all}\ndrop-check: {confirm: true}\n",
		checks: [][2]string{
			{"SELECT count(*) FROM users WHERE plan IS NULL", "0"},
			{"SELECT count(*) FROM users WHERE plan = 'free'", "108"},
			{"SELECT count(*) FROM users WHERE plan = 'pro'", "12"},
			{"SELECT is_nullable FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'plan'", "NO"},
			{"SELECT count(*) FROM pg_constraint WHERE conname = 'users_plan_not_null'", "0"},
		},
	},
	{
		protocol: "postgres-change-column-type",
		setup: []string{
			"CREATE TABLE orders (id bigint PRIMARY KEY, quantity integer, v integer)",
			"INSERT INTO orders (id, quantity) SELECT i, i * 1000 FROM generate_series(0, 119) i",
		},
		answers: approve + "dual-write: {check: all}\nswitch-readers: {check: all}\nstop-old-writes: {check: all}\n" +
			"contract-go: {choice: drop-now, reason: no reader left}\ndrop-old: {confirm: true}\n",
		checks: [][2]string{
			{"SELECT count(*) FROM orders WHERE quantity_big = id * 1000", "120"},
			{"SELECT data_type FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'quantity_big'", "bigint"},
			{"SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'quantity'", "0"},
		},
	},
	{
		protocol: "postgres-create-index-concurrently",
		setup: []string{
			"CREATE TABLE users (id bigint PRIMARY KEY, email text, v integer)",
			"INSERT INTO users (id, email) SELECT i, 'u' || i || '@example.com' FROM generate_series(0, 119) i",
		},
		answers: approve + "use-index: {check: all}\n",
		checks: [][2]string{
			{"SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'users_email_idx'", "t"},
			{"SELECT count(*) FROM users", "120"},
		},
	},
}

// TestPostgresProtocols runs every built-in PostgreSQL protocol by name
// with the binary, in plain mode with an answers file, each on a fresh
// database, and checks the table's data and schema after.
func TestPostgresProtocols(t *testing.T) {
	t.Parallel()
	for _, tc := range pgProtocolCases {
		t.Run(tc.protocol, func(t *testing.T) {
			t.Parallel()
			dsn := pgDatabase(t)
			for _, q := range tc.setup {
				psql(t, dsn, q)
			}
			h := newHarness(t)
			answers := h.writeFile("answers.yaml", tc.answers)
			r := h.startWith(h.journal, []string{"DATABASE_URL=" + dsn},
				"run", tc.protocol, "--env", "local", "--plain", "--answers", answers).Wait(3 * time.Minute)
			if r.Code != 0 {
				t.Fatalf("run %s: exit %d, want 0\n%s", tc.protocol, r.Code, r)
			}
			if s := h.onlySession(); s.Outcome != "completed" {
				t.Errorf("session outcome %q, want completed", s.Outcome)
			}
			for _, c := range tc.checks {
				if got := psql(t, dsn, c[0]); got != c[1] {
					t.Errorf("%s = %q, want %q", c[0], got, c[1])
				}
			}
		})
	}
}

// pgDatabase is a fresh database on the package's throwaway PostgreSQL
// server (internal/pgtest; under CI=true a missing server fails).
func pgDatabase(t *testing.T) string {
	t.Helper()
	return pgtest.DB(t)
}

// psql runs one statement on dsn with the psql client and returns its
// unaligned, tuples-only output.
func psql(t *testing.T, dsn, query string) string {
	t.Helper()
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("psql is not installed")
	}
	out, err := exec.Command("psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", query).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v\n%s", query, err, out)
	}
	return strings.TrimSpace(string(out))
}
