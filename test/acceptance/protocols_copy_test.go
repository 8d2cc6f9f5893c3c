package acceptance

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// createKeyedTable creates an on-demand table keyed (pk S, sk S).
func createKeyedTable(t *testing.T, c *dynamodb.Client, table string) {
	t.Helper()
	ctx := context.Background()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create table %s: %v", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second); err != nil {
		t.Fatalf("wait for table %s: %v", table, err)
	}
}

// sampleRe matches a dry run's sample copy of an order.
var sampleRe = regexp.MustCompile(`would copy id=item-\d+ → pk=CUSTOMER#c\d,sk=ORDER#item-\d+: \{"customer":"c\d","id":"item-\d+","pk":"CUSTOMER#c\d","sk":"ORDER#item-\d+","total":\d+,"v":2\}`)

// copyOrder is source order i: every tenth has no customer (not copied).
func copyOrder(i int) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{"id": s(fmt.Sprintf("item-%03d", i)), "total": n(fmt.Sprint(i))}
	if i%10 != 0 {
		it["customer"] = s(fmt.Sprint("c", i%7))
	}
	return it
}

// TestDynamoCopyNewKeyProtocol runs dynamodb-copy-new-key with the binary
// against dynalite while an application has already dual-written two
// orders into the new table (one equal to its source, one newer): every
// order with a customer is found under its new key, those two are left as
// the application wrote them, the old table is only read, and the verify
// step passes.
func TestDynamoCopyNewKeyProtocol(t *testing.T) {
	t.Parallel()
	endpoint := dynalite.Start(t)
	c := dynamoClient(t, endpoint)
	src, dst := "t-copy-new-key", "t-copy-new-key-by-customer"
	createDynamoTable(t, c, src)
	createKeyedTable(t, c, dst)
	var reqs []types.WriteRequest
	for i := range protocolItems {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: copyOrder(i)}})
	}
	for b := range slices.Chunk(reqs, 25) {
		if err := batchWrite(context.Background(), c, src, b); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	// The dual-writing application: order 5 as the copy would write it,
	// order 6 at a newer version with another total.
	app := func(i int, total, v string) map[string]types.AttributeValue {
		it := copyOrder(i)
		it["pk"], it["sk"], it["total"], it["v"] = s(fmt.Sprint("CUSTOMER#c", i%7)), s(fmt.Sprintf("ORDER#item-%03d", i)), n(total), n(v)
		return it
	}
	for _, it := range []map[string]types.AttributeValue{app(5, "5", "2"), app(6, "666", "3")} {
		if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(dst), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	const answerText = approve + "create-table: {check: all}\ndual-write: {check: all}\n" +
		"switch-reads: {check: all}\nswitch-writes: {check: all}\nretire-go: {choice: keep-for-now, reason: keep it a week}\n"
	env := []string{"LOCKSTEP_TABLE=" + src, "LOCKSTEP_NEW_TABLE=" + dst, "DYNAMODB_ENDPOINT=" + endpoint, "AWS_REGION=us-east-1"}
	// A dry run first: it shows sample copies and writes nothing.
	dry := newHarness(t)
	r := dry.startWith(dry.journal, env, "run", "dynamodb-copy-new-key", "--env", "local", "--mode", "dry-run", "--plain",
		"--answers", dry.writeFile("answers.yaml", answerText)).Wait(3 * time.Minute)
	if r.Code != 0 || !sampleRe.MatchString(r.Stdout) {
		t.Fatalf("dry run: exit %d, want 0 and sample copies\n%s", r.Code, r)
	}
	if got := len(scanItems(t, c, dst)); got != 2 {
		t.Fatalf("the dry run left %d items in the new table, want the application's 2", got)
	}
	h := newHarness(t)
	answers := h.writeFile("answers.yaml", answerText)
	r = h.startWith(h.journal, env, "run", "dynamodb-copy-new-key", "--env", "local", "--plain", "--answers", answers).Wait(3 * time.Minute)
	if r.Code != 0 {
		t.Fatalf("run: exit %d, want 0\n%s", r.Code, r)
	}
	if s := h.onlySession(); s.Outcome != "completed" {
		t.Errorf("session outcome %q, want completed", s.Outcome)
	}
	source := scanItems(t, c, src)
	if len(source) != protocolItems {
		t.Fatalf("source holds %d items, want %d", len(source), protocolItems)
	}
	for id, it := range source {
		if it["v"] != "" || it["pk"] != "" {
			t.Fatalf("source item %s = %v: the copy must only read the old table", id, it)
		}
	}
	copied := scanItems(t, c, dst) // by id
	want := 0
	for i := range protocolItems {
		id := fmt.Sprintf("item-%03d", i)
		it, ok := copied[id]
		if i%10 == 0 {
			if ok {
				t.Errorf("order %s without customer copied: %v", id, it)
			}
			continue
		}
		want++
		total, v := fmt.Sprint("N:", i), "N:2"
		if i == 6 {
			total, v = "N:666", "N:3"
		}
		if !ok || it["pk"] != fmt.Sprint("CUSTOMER#c", i%7) || it["sk"] != "ORDER#"+id || it["customer"] != fmt.Sprint("c", i%7) ||
			it["total"] != total || it["v"] != v || len(it) != 6 {
			t.Fatalf("order %s in the new table = %v, want it under CUSTOMER#c%d/ORDER#%s, total %s, v %s", id, it, i%7, id, total, v)
		}
	}
	if len(copied) != want {
		t.Errorf("new table holds %d items, want %d", len(copied), want)
	}
	for _, line := range []string{"copying into " + dst + " under key (pk, sk) at version 2", "verify", "passed"} {
		if !strings.Contains(r.Stdout, line) {
			t.Errorf("output lacks %q\n%s", line, r.Stdout)
		}
	}
}
