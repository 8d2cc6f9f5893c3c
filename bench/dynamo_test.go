package bench_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/internal/dynalite"
	"github.com/lockstep-run/lockstep/runbook"
)

// dynamoItems is how many items each contender migrates on dynalite,
// split over two mirrored rounds.
const dynamoItems = 2_000

// engineWriteWorkers is the engine's number of concurrent writes per
// segment (engine/migrate_segment.go writeWorkers), for the informational
// "same writes in flight" baseline.
const engineWriteWorkers = 8

var dyn struct {
	once sync.Once
	srv  *dynalite.Server
	err  error
}

// dynaliteEndpoint starts one dynalite for the benchmark process, or
// skips (fails under CI=true) when it is not installed.
func dynaliteEndpoint(b *testing.B, ids ...string) string {
	b.Helper()
	dyn.once.Do(func() { dyn.srv, dyn.err = dynalite.StartServer() })
	if dyn.err != nil {
		if errors.Is(dyn.err, dynalite.ErrNotInstalled) && !dynalite.MustInstall() {
			for _, id := range ids {
				skipped(id, "migrate on dynalite", "", dyn.err.Error())
			}
			b.Skipf("skipping: %v", dyn.err)
		}
		b.Fatalf("dynalite: %v", dyn.err)
	}
	return dyn.srv.Endpoint
}

func stopDynalite() {
	if dyn.srv != nil {
		dyn.srv.Stop()
	}
}

// BenchmarkDynamo measures (a) migrate against a raw parallel conditional
// UpdateItem loop and (b) against a naive sequential scan-then-update
// loop, all on one dynalite, in mirrored rounds.
func BenchmarkDynamo(b *testing.B) {
	endpoint := dynaliteEndpoint(b, "(a)", "(b)")
	ctx := context.Background()
	spec := &runbook.StoreSpec{Kind: "dynamodb", Region: "us-east-1", Endpoint: endpoint}
	client, err := dynamo.NewClient(ctx, spec)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		half := dynamoItems / 2
		tables := map[string]string{}
		b.StopTimer()
		for _, c := range []string{"raw", "migrate", "naive", "rawall"} {
			for r := range 2 {
				name := fmt.Sprintf("bench%d-%s-%d", i, c, r)
				if err := loadTable(ctx, client, name, half); err != nil {
					b.Fatalf("load %s: %v", name, err)
				}
				tables[fmt.Sprint(c, r)] = name
			}
		}
		b.StartTimer()
		raw := func(workers int, c string) func(int) timed {
			return func(r int) timed {
				t, err := rawLoop(ctx, client, tables[fmt.Sprint(c, r)], workers)
				if err != nil {
					b.Fatalf("raw loop: %v", err)
				}
				return t
			}
		}
		mig := func(r int) timed {
			store := fmt.Sprintf("{kind: dynamodb, table: %s, region: us-east-1, endpoint: %q}", tables[fmt.Sprint("migrate", r)], endpoint)
			m := runMigrate(b, b.TempDir(), runbookYAML(store, 0))
			return timed{m.migrated, m.elapsed}
		}
		naive := func(r int) timed {
			t, err := naiveLoop(ctx, client, tables[fmt.Sprint("naive", r)])
			if err != nil {
				b.Fatalf("naive loop: %v", err)
			}
			return t
		}
		res := mirrored(raw(segments, "raw"), mig, naive, raw(segments*engineWriteWorkers, "rawall"))
		r, m, n, ra := res[0], res[1], res[2], res[3]
		for _, t := range res {
			if t.items != int64(2*half) {
				b.Fatalf("a contender wrote %d items, want %d", t.items, 2*half)
			}
		}
		ra1, rb1, rc1 := m.rate()/r.rate(), m.rate()/n.rate(), m.rate()/ra.rate()
		b.ReportMetric(m.rate(), "migrate-items/s")
		b.ReportMetric(r.rate(), "raw-items/s")
		b.ReportMetric(n.rate(), "naive-items/s")
		b.ReportMetric(ra1, "ratio-raw")
		b.ReportMetric(rb1, "ratio-naive")
		record(row{id: "(a)", what: fmt.Sprintf("migrate vs raw conditional UpdateItem loop, dynalite, %d goroutines, %d items", segments, 2*half),
			figure: fmt.Sprintf("%.2f (%.0f vs %.0f items/s)", ra1, m.rate(), r.rate()), target: "≥ 0.90", verdict: check(ra1 >= 0.90)})
		record(row{id: "(b)", what: fmt.Sprintf("migrate vs naive sequential scan-then-update, dynalite, %d items", 2*half),
			figure: fmt.Sprintf("%.2f (%.0f vs %.0f items/s)", rb1, m.rate(), n.rate()), target: "≥ 2.5", verdict: check(rb1 >= 2.5)})
		record(row{id: "(a')", what: fmt.Sprintf("migrate vs raw loop with migrate's writes in flight (%d goroutines), dynalite", segments*engineWriteWorkers),
			figure: fmt.Sprintf("%.2f (%.0f vs %.0f items/s)", rc1, m.rate(), ra.rate())})
	}
}

// loadTable creates table (key id, a string) and writes n items with
// BatchWriteItem.
func loadTable(ctx context.Context, c *dynamodb.Client, table string, n int) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
	})
	if err != nil {
		return err
	}
	const batch, workers = 25, 4
	starts := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range starts {
				var reqs []types.WriteRequest
				for i := s; i < min(s+batch, n); i++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
						"id":      &types.AttributeValueMemberS{Value: fmt.Sprintf("u%07d", i)},
						"name":    &types.AttributeValueMemberS{Value: fmt.Sprintf("user %d", i)},
						"address": &types.AttributeValueMemberS{Value: address(i)},
					}}})
				}
				if err := batchWrite(ctx, c, table, reqs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for s := 0; s < n; s += batch {
		starts <- s
	}
	close(starts)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func batchWrite(ctx context.Context, c *dynamodb.Client, table string, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil {
			return err
		}
		reqs = out.UnprocessedItems[table]
	}
	return nil
}

// conditionalUpdate is the baselines' write: the same SET and the same
// condition lockstep's migrate renders (item exists, version below the
// target, the read attribute unchanged).
func conditionalUpdate(ctx context.Context, c *dynamodb.Client, table string, item map[string]types.AttributeValue) error {
	addr := item["address"].(*types.AttributeValueMemberS).Value
	street, city, postcode := splitAddress(addr)
	target := &types.AttributeValueMemberN{Value: strconv.Itoa(targetVersion)}
	_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(table),
		Key:                 map[string]types.AttributeValue{"id": item["id"]},
		UpdateExpression:    aws.String("SET #street = :street, #city = :city, #postcode = :postcode, #v = :target"),
		ConditionExpression: aws.String("attribute_exists(#id) AND (attribute_not_exists(#v) OR #v < :target) AND #address = :address"),
		ExpressionAttributeNames: map[string]string{"#id": "id", "#v": "v", "#address": "address",
			"#street": "street_name", "#city": "city", "#postcode": "postcode"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":target": target, ":address": item["address"],
			":street": &types.AttributeValueMemberS{Value: street}, ":city": &types.AttributeValueMemberS{Value: city},
			":postcode": &types.AttributeValueMemberS{Value: postcode}},
	})
	return err
}

// rawLoop is what an engineer would write by hand: a parallel scan with
// one goroutine per segment, pages of pageSize, one conditional
// UpdateItem per item, no journal, no rate limiter.
func rawLoop(ctx context.Context, c *dynamodb.Client, table string, workers int) (timed, error) {
	start := time.Now()
	var mu sync.Mutex
	var total int64
	var first error
	var wg sync.WaitGroup
	for seg := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := rawSegment(ctx, c, table, seg, workers)
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	return timed{total, time.Since(start)}, first
}

func rawSegment(ctx context.Context, c *dynamodb.Client, table string, seg, total int) (int64, error) {
	var n int64
	in := &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(pageSize)}
	if total > 1 {
		in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(total))
	}
	for {
		out, err := c.Scan(ctx, in)
		if err != nil {
			return n, err
		}
		for _, it := range out.Items {
			if err := conditionalUpdate(ctx, c, table, it); err != nil {
				return n, err
			}
			n++
		}
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// naiveLoop scans the whole table first, then updates every item, one
// request at a time.
func naiveLoop(ctx context.Context, c *dynamodb.Client, table string) (timed, error) {
	start := time.Now()
	var all []map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String(table)}
	for {
		out, err := c.Scan(ctx, in)
		if err != nil {
			return timed{}, err
		}
		all = append(all, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	for i, it := range all {
		if err := conditionalUpdate(ctx, c, table, it); err != nil {
			return timed{int64(i), time.Since(start)}, err
		}
	}
	return timed{int64(len(all)), time.Since(start)}, nil
}
