package acceptance

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// protocolItems is the size of each protocol's dataset: enough for
// several pages, small enough to keep CI cheap.
const protocolItems = 120

// item is a DynamoDB item read back as text: strings as they are,
// numbers as "N:<digits>", so a test sees a change of type.
type item map[string]string

// dynamoProtocolCase runs one built-in DynamoDB protocol end to end.
type dynamoProtocolCase struct {
	protocol string
	seed     func(i int) map[string]types.AttributeValue
	answers  string
	check    func(t *testing.T, i int, it item)
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// approve is the communicate phase's answer every catalog protocol takes.
const approve = "go-no-go: {approve: data-owner, reason: rehearsal in CI}\n"

var dynamoProtocolCases = []dynamoProtocolCase{
	{
		protocol: "dynamodb-add-attribute",
		seed: func(i int) map[string]types.AttributeValue {
			it := map[string]types.AttributeValue{"name": s(fmt.Sprint("user ", i))}
			if i%10 == 0 {
				it["status"] = s("banned") // already set: kept
			}
			return it
		},
		answers: approve + "deploy-reader: {check: all}\n",
		check: func(t *testing.T, i int, it item) {
			want := "active"
			if i%10 == 0 {
				want = "banned"
			}
			expect(t, it, "status", want)
		},
	},
	{
		protocol: "dynamodb-rename-attribute",
		seed: func(i int) map[string]types.AttributeValue {
			return map[string]types.AttributeValue{"mail": s(fmt.Sprintf("u%d@example.com", i))}
		},
		answers: approve + "dual-write: {check: all}\nswitch-readers: {check: all}\n" +
			"contract-go: {choice: remove-now, reason: no reader left}\ndrop-mail: {confirm: true}\n",
		check: func(t *testing.T, i int, it item) {
			expect(t, it, "email", fmt.Sprintf("u%d@example.com", i))
			expect(t, it, "mail", "")
		},
	},
	{
		protocol: "dynamodb-split-attribute",
		seed: func(i int) map[string]types.AttributeValue {
			return map[string]types.AttributeValue{"address": s(fmt.Sprintf("%d Main St, Springfield, %05d", i, i))}
		},
		answers: approve + "deploy-reader: {check: all}\nswitch-readers: {check: all}\n" +
			"contract-go: {choice: remove-now, reason: no reader left}\ndrop-address: {confirm: true}\n",
		check: func(t *testing.T, i int, it item) {
			expect(t, it, "street", fmt.Sprint(i, " Main St"))
			expect(t, it, "city", "Springfield")
			expect(t, it, "postcode", fmt.Sprintf("%05d", i))
			expect(t, it, "address", "")
		},
	},
	{
		protocol: "dynamodb-change-type",
		seed: func(i int) map[string]types.AttributeValue {
			if i%4 == 0 {
				return map[string]types.AttributeValue{"price": n(fmt.Sprint(i))} // already a number
			}
			return map[string]types.AttributeValue{"price": s(fmt.Sprintf("%d.5", i))}
		},
		answers: approve + "deploy-reader: {check: all}\nswitch-writers: {check: all}\n",
		check: func(t *testing.T, i int, it item) {
			want := fmt.Sprintf("N:%d.5", i)
			if i%4 == 0 {
				want = fmt.Sprint("N:", i)
			}
			expect(t, it, "price", want)
		},
	},
	{
		protocol: "dynamodb-make-required",
		seed: func(i int) map[string]types.AttributeValue {
			switch i % 3 {
			case 0:
				return map[string]types.AttributeValue{"country": s("FR")}
			case 1:
				return map[string]types.AttributeValue{"country": s("")}
			}
			return map[string]types.AttributeValue{}
		},
		answers: approve + "writers-set-it: {check: all}\nfill-value: {choice: fill-default, reason: agreed with billing}\n" +
			"rely-on-it: {check: all}\n",
		check: func(t *testing.T, i int, it item) {
			want := "unknown"
			if i%3 == 0 {
				want = "FR"
			}
			expect(t, it, "country", want)
		},
	},
	{
		protocol: "dynamodb-remove-attribute",
		seed: func(i int) map[string]types.AttributeValue {
			return map[string]types.AttributeValue{"legacy_flag": s("y"), "name": s(fmt.Sprint("n", i))}
		},
		answers: approve + "readers-gone: {check: all}\ncontract-go: {choice: remove-now, reason: no reads for a week}\n" +
			"drop-flag: {confirm: true}\n",
		check: func(t *testing.T, i int, it item) {
			expect(t, it, "legacy_flag", "")
			expect(t, it, "name", fmt.Sprint("n", i))
		},
	},
	{
		protocol: "dynamodb-backfill-gsi-key",
		seed: func(i int) map[string]types.AttributeValue {
			it := map[string]types.AttributeValue{"created": s(fmt.Sprintf("2026-01-%02d", i%28+1))}
			if i%5 != 0 {
				it["tenant"] = s(fmt.Sprint("t", i%3))
			}
			return it
		},
		answers: approve + "create-index: {check: all}\nwriters-set-keys: {check: all}\nswitch-queries: {check: all}\n",
		check: func(t *testing.T, i int, it item) {
			if i%5 == 0 { // no tenant: stays out of the sparse index
				expect(t, it, "gsi1pk", "")
				return
			}
			expect(t, it, "gsi1pk", fmt.Sprint("TENANT#t", i%3))
			expect(t, it, "gsi1sk", fmt.Sprintf("CREATED#2026-01-%02d", i%28+1))
		},
	},
	{
		protocol: "dynamodb-normalize-values",
		seed: func(i int) map[string]types.AttributeValue {
			if i%2 == 0 {
				return map[string]types.AttributeValue{"email": s(fmt.Sprintf("  User%d@Example.COM ", i))}
			}
			return map[string]types.AttributeValue{"email": s(fmt.Sprintf("user%d@example.com", i))}
		},
		answers: approve + "writers-normalize: {check: all}\n",
		check: func(t *testing.T, i int, it item) {
			expect(t, it, "email", fmt.Sprintf("user%d@example.com", i))
		},
	},
}

// TestDynamoProtocols runs every built-in DynamoDB protocol by name with
// the binary, in plain mode with an answers file, against its own table of
// one dynalite, and checks every item.
func TestDynamoProtocols(t *testing.T) {
	t.Parallel()
	endpoint := dynalite.Start(t)
	c := dynamoClient(t, endpoint)
	for _, tc := range dynamoProtocolCases {
		t.Run(tc.protocol, func(t *testing.T) {
			t.Parallel()
			table := strings.ReplaceAll(tc.protocol, "dynamodb-", "t-")
			createDynamoTable(t, c, table)
			var reqs []types.WriteRequest
			for i := range protocolItems {
				it := tc.seed(i)
				it["id"] = s(fmt.Sprintf("item-%03d", i))
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
			}
			for b := range slices.Chunk(reqs, 25) {
				if err := batchWrite(context.Background(), c, table, b); err != nil {
					t.Fatalf("seed %s: %v", table, err)
				}
			}
			h := newHarness(t)
			answers := h.writeFile("answers.yaml", tc.answers)
			r := h.startWith(h.journal, []string{"LOCKSTEP_TABLE=" + table, "DYNAMODB_ENDPOINT=" + endpoint, "AWS_REGION=us-east-1"},
				"run", tc.protocol, "--env", "local", "--plain", "--answers", answers).Wait(3 * time.Minute)
			if r.Code != 0 {
				t.Fatalf("run %s: exit %d, want 0\n%s", tc.protocol, r.Code, r)
			}
			if s := h.onlySession(); s.Outcome != "completed" {
				t.Errorf("session outcome %q, want completed", s.Outcome)
			}
			items := scanItems(t, c, table)
			if len(items) != protocolItems {
				t.Fatalf("%d items after the run, want %d", len(items), protocolItems)
			}
			for i := range protocolItems {
				id := fmt.Sprintf("item-%03d", i)
				it, ok := items[id]
				if !ok {
					t.Fatalf("item %s is gone", id)
				}
				tc.check(t, i, it)
				if t.Failed() {
					t.Fatalf("item %s: %v", id, it)
				}
			}
		})
	}
}

// expect checks that it[attr] is want ("" for absent).
func expect(t *testing.T, it item, attr, want string) {
	t.Helper()
	if got := it[attr]; got != want {
		t.Errorf("%s = %q, want %q", attr, got, want)
	}
}

// scanItems reads every item of table as text, by id.
func scanItems(t *testing.T, c *dynamodb.Client, table string) map[string]item {
	t.Helper()
	out := map[string]item{}
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		for _, raw := range page.Items {
			it := item{}
			for k, v := range raw {
				switch v := v.(type) {
				case *types.AttributeValueMemberS:
					it[k] = v.Value
				case *types.AttributeValueMemberN:
					it[k] = "N:" + v.Value
				default:
					it[k] = fmt.Sprintf("%T", v)
				}
			}
			out[it["id"]] = it
		}
	}
	return out
}

// TestSQLiteBigBangProtocol runs the sqlite-big-bang protocol with the
// binary: every plan code is renamed, the maintenance flag it turned on
// while locked is back to its earlier value after unlock, and the learning
// noted in the answers file is found by `lockstep learnings`.
func TestSQLiteBigBangProtocol(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	path := h.dir + "/app.db"
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	codes := []string{"b", "p", "e", "basic"}
	stmts := []string{
		`CREATE TABLE accounts (id INTEGER PRIMARY KEY, plan TEXT, v INTEGER)`,
		`CREATE TABLE settings (id TEXT PRIMARY KEY, read_only INTEGER)`,
		`INSERT INTO settings VALUES ('app', 0)`,
	}
	for i := range protocolItems {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO accounts VALUES (%d, '%s', 1)`, i, codes[i%len(codes)]))
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("seed: %s: %v", q, err)
		}
	}
	answers := h.writeFile("answers.yaml", approve+"deploy-new: {check: all}\n"+
		"recode: {note: \"learning: announce the read-only hour a day ahead\"}\nunlock: {note: \"plain note\"}\n")
	r := h.startWith(h.journal, []string{"LOCKSTEP_DB=" + path, "LOCKSTEP_TABLE=accounts"},
		"run", "sqlite-big-bang", "--env", "local", "--plain", "--answers", answers).Wait(3 * time.Minute)
	if r.Code != 0 {
		t.Fatalf("run: exit %d, want 0\n%s", r.Code, r)
	}
	want := map[string]string{"b": "basic", "p": "pro", "e": "enterprise", "basic": "basic"}
	rows, err := db.Query(`SELECT id, plan FROM accounts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int]string{}
	for rows.Next() {
		var id int
		var plan string
		if err := rows.Scan(&id, &plan); err != nil {
			t.Fatal(err)
		}
		got[id] = plan
	}
	if len(got) != protocolItems {
		t.Fatalf("%d rows, want %d", len(got), protocolItems)
	}
	for _, id := range slices.Sorted(maps.Keys(got)) {
		if w := want[codes[id%len(codes)]]; got[id] != w {
			t.Errorf("row %d plan = %q, want %q", id, got[id], w)
		}
	}
	var flag string
	if err := db.QueryRow(`SELECT read_only FROM settings WHERE id = 'app'`).Scan(&flag); err != nil {
		t.Fatal(err)
	}
	if flag != "0" {
		t.Errorf("maintenance flag after unlock = %s, want its earlier value 0", flag)
	}
	if !strings.Contains(r.Stdout, "lock") {
		t.Errorf("output does not mention the lock\n%s", r)
	}
	// The answers file's note marked "learning:" is carried forward.
	l := h.mustRun(0, time.Minute, "learnings", "sqlite-big-bang", "--format", "json")
	if !strings.Contains(l.Stdout, `"text": "announce the read-only hour a day ahead"`) ||
		!strings.Contains(l.Stdout, `"step": "recode"`) || strings.Contains(l.Stdout, "plain note") {
		t.Errorf("learnings of sqlite-big-bang:\n%s", l.Stdout)
	}
}
