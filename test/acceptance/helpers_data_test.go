package acceptance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Data helpers: counters seeded at version 1 with random counts, read
// back, checked.

// seedVersion and targetVersion are the counter migration's versions.
const (
	seedVersion   = 1
	targetVersion = 2
)

// row is one counter item as read back.
type row struct {
	Count int64
	V     int64 // 0 when absent
}

// randomCounts returns n item ids with random counts (seeded per test).
func randomCounts(t *testing.T, n int, prefix string) map[string]int64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(len(t.Name())), uint64(n)))
	out := make(map[string]int64, n)
	for i := range n {
		out[fmt.Sprintf("%s%06d", prefix, i)] = rng.Int64N(1_000_000)
	}
	return out
}

// checkMigratedOnce checks that every seeded item was incremented exactly
// once and is at the target version. want overrides the expected base
// count of some items (a concurrent writer changed them).
func checkMigratedOnce(t *testing.T, seeded map[string]int64, got map[string]row, want map[string]int64) {
	t.Helper()
	if len(got) != len(seeded) {
		t.Errorf("read back %d items, seeded %d", len(got), len(seeded))
	}
	var bad []string
	twice, never, version := 0, 0, 0
	for _, id := range slices.Sorted(maps.Keys(seeded)) {
		base := seeded[id]
		if w, ok := want[id]; ok {
			base = w
		}
		g, ok := got[id]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s: missing", id))
			continue
		case g.Count == base+1 && g.V == targetVersion:
			continue
		case g.Count == base:
			never++
		case g.Count > base+1:
			twice++
		}
		if g.V != targetVersion {
			version++
		}
		bad = append(bad, fmt.Sprintf("%s: count=%d v=%d, want count=%d v=%d", id, g.Count, g.V, base+1, targetVersion))
	}
	if len(bad) > 0 {
		t.Errorf("%d of %d items not migrated exactly once (%d never, %d more than once, %d not at version %d); first ones:\n  %s",
			len(bad), len(seeded), never, twice, version, targetVersion, strings.Join(bad[:min(len(bad), 10)], "\n  "))
	}
}

// DynamoDB (dynalite) helpers, through the AWS SDK directly.

// dynamoClient is an SDK client for a local endpoint with dummy static
// credentials.
func dynamoClient(t *testing.T, endpoint string) *dynamodb.Client {
	t.Helper()
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("acceptance", "acceptance", ""),
	})
}

// createDynamoTable creates an on-demand table keyed by the string "id".
func createDynamoTable(t *testing.T, c *dynamodb.Client, table string) {
	t.Helper()
	ctx := context.Background()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create table %s: %v", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second); err != nil {
		t.Fatalf("wait for table %s: %v", table, err)
	}
}

// seedDynamo creates table and writes counts as items {id, count, v: 1}
// with BatchWriteItem.
func seedDynamo(t *testing.T, c *dynamodb.Client, table string, counts map[string]int64) {
	t.Helper()
	createDynamoTable(t, c, table)
	ids := slices.Sorted(maps.Keys(counts))
	var batches [][]types.WriteRequest
	for chunk := range slices.Chunk(ids, 25) {
		reqs := make([]types.WriteRequest, len(chunk))
		for i, id := range chunk {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"id":    &types.AttributeValueMemberS{Value: id},
				"count": num(counts[id]),
				"v":     num(seedVersion),
			}}}
		}
		batches = append(batches, reqs)
	}
	ctx := context.Background()
	work := make(chan []types.WriteRequest)
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for reqs := range work {
				if err := batchWrite(ctx, c, table, reqs); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, b := range batches {
		work <- b
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatalf("seed %s: %v", table, err)
	default:
	}
}

func batchWrite(ctx context.Context, c *dynamodb.Client, table string, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt > 20 {
			return fmt.Errorf("batch write: %d items still unprocessed", len(reqs))
		}
		out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil {
			return fmt.Errorf("batch write: %w", err)
		}
		reqs = out.UnprocessedItems[table]
		if len(reqs) > 0 {
			time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
		}
	}
	return nil
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// readDynamo reads every item of table back (consistent parallel scan).
func readDynamo(t *testing.T, c *dynamodb.Client, table string) map[string]row {
	t.Helper()
	const segments = 4
	out := map[string]row{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, segments)
	for seg := range segments {
		wg.Go(func() {
			p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
				Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(segments)})
			for p.HasMorePages() {
				page, err := p.NextPage(context.Background())
				if err != nil {
					errs[seg] = err
					return
				}
				mu.Lock()
				for _, it := range page.Items {
					id, r, err := decodeRow(it)
					if err != nil {
						errs[seg] = err
						mu.Unlock()
						return
					}
					out[id] = r
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("read back %s: %v", table, err)
	}
	return out
}

func decodeRow(it map[string]types.AttributeValue) (string, row, error) {
	id, ok := it["id"].(*types.AttributeValueMemberS)
	if !ok {
		return "", row{}, fmt.Errorf("item without a string id: %v", it)
	}
	var r row
	var err error
	if r.Count, err = numAttr(it, "count"); err != nil {
		return "", r, fmt.Errorf("item %s: %w", id.Value, err)
	}
	if _, has := it["v"]; has {
		if r.V, err = numAttr(it, "v"); err != nil {
			return "", r, fmt.Errorf("item %s: %w", id.Value, err)
		}
	}
	return id.Value, r, nil
}

func numAttr(it map[string]types.AttributeValue, name string) (int64, error) {
	n, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s is %T, want a number", name, it[name])
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return v, nil
}

// SQLite helpers, with database/sql directly.

// seedSQLite creates table (id INTEGER PRIMARY KEY, count, v) in the
// database file path and inserts counts (ids are "<n>" strings of the
// integer keys).
func seedSQLite(t *testing.T, path, table string, n int) map[string]int64 {
	t.Helper()
	counts := randomCounts(t, n, "")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf(`CREATE TABLE %q (id INTEGER PRIMARY KEY, count INTEGER NOT NULL, v INTEGER)`, table)); err != nil {
		t.Fatalf("create table: %v", err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.Prepare(fmt.Sprintf(`INSERT INTO %q (id, count, v) VALUES (?, ?, ?)`, table))
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]int64, n)
	for id, c := range counts {
		k, _ := strconv.ParseInt(id, 10, 64)
		if _, err := stmt.Exec(k, c, seedVersion); err != nil {
			t.Fatalf("insert: %v", err)
		}
		out[strconv.FormatInt(k, 10)] = c
	}
	stmt.Close()
	if err := tx.Commit(); err != nil {
		t.Fatalf("seed %s: %v", path, err)
	}
	return out
}

// readSQLite reads every row of table back.
func readSQLite(t *testing.T, path, table string) map[string]row {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(fmt.Sprintf(`SELECT id, count, coalesce(v, 0) FROM %q`, table))
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

// Runbooks.

// counterRunbook is the counter migration: `count` incremented once per
// item, guarded by the version (items at v 1 reach v 2).
func counterRunbook(name, store string, maxRate, batch, segments int) string {
	rate := ""
	if maxRate > 0 {
		rate = fmt.Sprintf("\n    max_write_rate: %d", maxRate)
	}
	return fmt.Sprintf(`lockstep: 1
name: %s
title: Increment every counter once
version: %d
strategy: multi-step
roles:
  responsible: [acc-op]
environments:
  test:
    store: %s%s
phases:
  - name: run
    steps:
      - id: bump
        kind: migrate
        text: Add one to every counter.
        with:
          where: "item.v == nil || item.v < %d"
          set: {count: "item.count + 1"}
          batch_size: %d
          segments: %d
`, name, targetVersion, store, rate, targetVersion, batch, segments)
}

// dynamoStore is the runbook store spec of a dynalite table.
func dynamoStore(endpoint, table string) string {
	return fmt.Sprintf(`{kind: dynamodb, table: %s, region: us-east-1, endpoint: "%s"}`, table, endpoint)
}

// sqliteStore is the runbook store spec of a SQLite table.
func sqliteStore(path, table string) string {
	return fmt.Sprintf(`{kind: sqlite, path: "%s", table: %s, key: [id]}`, path, table)
}
