package acceptance

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// sqliteProtocolCase runs one built-in SQLite protocol end to end on a
// table "items" whose columns are given (id and v are added).
type sqliteProtocolCase struct {
	protocol string
	columns  string
	seed     func(i int) []any // values of columns for row i
	answers  string
	query    string // one text column per row, by id
	want     func(i int) string
}

var sqliteProtocolCases = []sqliteProtocolCase{
	{
		protocol: "add-attribute",
		columns:  "name, status",
		seed:     func(i int) []any { return []any{fmt.Sprint("n", i), nil} },
		answers:  approve + "deploy-reader: {check: all}\n",
		query:    "SELECT status FROM items WHERE id = ?",
		want:     func(int) string { return "active" },
	},
	{
		protocol: "rename-attribute",
		columns:  "mail, email",
		seed:     func(i int) []any { return []any{fmt.Sprintf("u%d@example.com", i), nil} },
		answers: approve + "dual-write: {check: all}\nswitch-readers: {check: all}\n" +
			"contract-go: {choice: remove-now, reason: no reader left}\ndrop-mail: {confirm: true}\n",
		query: "SELECT email || '|' || coalesce(mail, '') FROM items WHERE id = ?",
		want:  func(i int) string { return fmt.Sprintf("u%d@example.com|", i) },
	},
	{
		protocol: "split-attribute",
		columns:  "address, street_name, city, postcode",
		seed: func(i int) []any {
			return []any{fmt.Sprintf("%d Main St, Springfield, %05d", i, i), nil, nil, nil}
		},
		answers: approve + "deploy-reader: {check: all}\nleftovers: {choice: accepted, reason: none left}\n" +
			"switch-readers: {check: all}\ndrop-address: {confirm: true}\n",
		query: "SELECT street_name || '|' || city || '|' || postcode || '|' || coalesce(address, '') FROM items WHERE id = ?",
		want:  func(i int) string { return fmt.Sprintf("%d Main St|Springfield|%05d|", i, i) },
	},
}

// TestSQLiteProtocols runs the built-in SQLite expand/contract protocols
// by name with the binary, in plain mode with an answers file, and checks
// every row.
func TestSQLiteProtocols(t *testing.T) {
	t.Parallel()
	for _, tc := range sqliteProtocolCases {
		t.Run(tc.protocol, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			path := filepath.Join(h.dir, "app.db")
			db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=10000")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(fmt.Sprintf("CREATE TABLE items (id INTEGER PRIMARY KEY, %s, v INTEGER)", tc.columns)); err != nil {
				t.Fatalf("create table: %v", err)
			}
			vals := tc.seed(0)
			marks := "?"
			for range vals {
				marks += ", ?"
			}
			for i := range protocolItems {
				args := append([]any{i}, tc.seed(i)...)
				if _, err := db.Exec(fmt.Sprintf("INSERT INTO items (id, %s) VALUES (%s)", tc.columns, marks), args...); err != nil {
					t.Fatalf("seed: %v", err)
				}
			}
			answers := h.writeFile("answers.yaml", tc.answers)
			r := h.startWith(h.journal, []string{"LOCKSTEP_DB=" + path, "LOCKSTEP_TABLE=items"},
				"run", tc.protocol, "--env", "local", "--plain", "--answers", answers).Wait(3 * time.Minute)
			if r.Code != 0 {
				t.Fatalf("run %s: exit %d, want 0\n%s", tc.protocol, r.Code, r)
			}
			for i := range protocolItems {
				var got sql.NullString
				if err := db.QueryRow(tc.query, i).Scan(&got); err != nil {
					t.Fatalf("row %d: %v", i, err)
				}
				if want := tc.want(i); got.String != want {
					t.Fatalf("row %d = %q, want %q", i, got.String, want)
				}
			}
		})
	}
}
