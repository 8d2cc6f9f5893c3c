package bench_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
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
// split over the mirrored rounds.
const dynamoItems = 20_000

// sweep is the careful hand loop's concurrencies for the best-concurrency
// row: migrate at its default settings runs against the best of them.
// The first, segments goroutines, is also the loop of row (a).
var sweep = []int{segments, 8, 16, 32}

// dynamoTarget is where BenchmarkDynamo runs.
type dynamoTarget struct {
	label    string // names the server in the summary
	endpoint string // "" for the region's AWS endpoint
	region   string
	real     bool // real DynamoDB: tables are deleted at the end, no (b')
}

// Real DynamoDB instead of dynalite, to measure (a) and (b) where the
// network, not a single-threaded emulator, sets the pace: set
// LOCKSTEP_BENCH_DYNAMODB_REGION (credentials from the AWS SDK's default
// chain) and optionally LOCKSTEP_BENCH_DYNAMODB_ENDPOINT. The benchmark
// then creates on-demand tables named lockstep-bench-*, writes about
// 200,000 items in all (a few tenths of a dollar) and deletes the tables.
const (
	envBenchRegion   = "LOCKSTEP_BENCH_DYNAMODB_REGION"
	envBenchEndpoint = "LOCKSTEP_BENCH_DYNAMODB_ENDPOINT"
)

// benchTarget returns the real DynamoDB named by the environment, or a
// dynalite started for the benchmark (stopped when it ends, so that its
// process takes no CPU from the benchmarks that follow); it skips (fails
// under CI=true) when dynalite is not installed.
func benchTarget(b *testing.B) dynamoTarget {
	b.Helper()
	if region := os.Getenv(envBenchRegion); region != "" {
		return dynamoTarget{label: "DynamoDB " + region, endpoint: os.Getenv(envBenchEndpoint), region: region, real: true}
	}
	srv, err := dynalite.StartServer()
	if err != nil {
		if errors.Is(err, dynalite.ErrNotInstalled) && !dynalite.MustInstall() {
			skipped("(a)", "dynalite: migrate / careful conditional UpdateItem loop", "≥ 0.95", err.Error())
			skipped("(a'')", "dynalite: migrate at default settings / careful loop at its best concurrency", "≥ 0.90", err.Error())
			skipped("(b)", "dynalite: migrate / naive sequential scan-then-update", "≥ 2.5", err.Error())
			b.Skipf("skipping: %v", err)
		}
		b.Fatalf("dynalite: %v", err)
	}
	b.Cleanup(srv.Stop)
	return dynamoTarget{label: "dynalite", endpoint: srv.Endpoint, region: "us-east-1"}
}

// BenchmarkDynamo measures (a) migrate against a careful hand-written
// parallel conditional UpdateItem loop (guarding what it writes, as
// migrate does), (a') against the same loop with the short guard that
// clobbers concurrent application writes of the new attributes, the
// best-concurrency row migrate at its default settings against the careful loop at its best
// concurrency (swept over sweep), and (b) against a naive sequential
// scan-then-update loop, all on one dynalite, in mirrored rounds; then
// (b) again behind a proxy adding a network round trip to every request,
// as a real DynamoDB endpoint has.
func BenchmarkDynamo(b *testing.B) {
	tg := benchTarget(b)
	for i := 0; i < b.N; i++ {
		d := newDynamoRig(b, tg, tg.endpoint, fmt.Sprintf("lockstep-bench-%d-%d", os.Getpid(), i))
		// The careful loops first and last: the first run after loading
		// the tables is the slowest (dynalite collects its garbage), and
		// the sweep's 32 goroutines are never its best.
		var names []string
		var cs []contender
		for _, w := range slices.Backward(sweep) {
			names, cs = append(names, fmt.Sprintf("careful-%d", w)), append(cs, d.raw(w, carefulGuard))
		}
		names = append(names, "short-4", "migrate", "naive")
		cs = append(cs, d.raw(segments, shortGuard), d.migrate, d.naive)
		res := d.mirrored(dynamoItems/rounds, cs...)
		logRounds(b, names, res)
		nc := len(sweep)
		careful, short, m, n := total(res[nc-1]), total(res[nc]), total(res[nc+1]), total(res[nc+2])
		best := nc - 1 // the careful loop at its best concurrency
		for j := range nc {
			if total(res[j]).rate() > total(res[best]).rate() {
				best = j
			}
		}
		wallA, cpuA := versus{res[nc+1], res[nc-1]}.speed()
		wallShort, cpuShort := versus{res[nc+1], res[nc]}.speed()
		wallBest, cpuBest := versus{res[nc+1], res[best]}.speed()
		wallB, cpuB := versus{res[nc+1], res[nc+2]}.speed()
		b.ReportMetric(m.rate(), "migrate-items/s")
		b.ReportMetric(careful.rate(), "careful-items/s")
		b.ReportMetric(n.rate(), "naive-items/s")
		b.ReportMetric(wallA.med, "ratio-a")
		b.ReportMetric(wallBest.med, "ratio-a-best")
		b.ReportMetric(wallB.med, "ratio-b")
		record(row{id: "(a)", what: fmt.Sprintf("%s: migrate / careful conditional UpdateItem loop guarding what it writes (%d goroutines), %d items", tg.label, segments, m.items),
			figure: figure(wallA, cpuA, fmt.Sprintf("%.0f / %.0f items/s, client CPU", m.rate(), careful.rate())), target: "wall ≥ 0.95", verdict: check(wallA.med >= 0.95)})
		record(row{id: "(a')", what: fmt.Sprintf("%s: migrate / the same loop with the short guard (clobbers app writes of the new attributes), %d goroutines", tg.label, segments),
			figure: figure(wallShort, cpuShort, fmt.Sprintf("%.0f / %.0f items/s, client CPU", m.rate(), short.rate()))})
		record(row{id: "(a'')", what: fmt.Sprintf("%s: migrate at default settings / careful loop at its best concurrency (%s of %v goroutines)", tg.label, names[best], sweep),
			figure: figure(wallBest, cpuBest, fmt.Sprintf("%.0f / %.0f items/s, client CPU; careful loop %s", m.rate(), total(res[best]).rate(), sweepRates(names[:nc], res[:nc]))),
			target: "wall ≥ 0.90", verdict: check(wallBest.med >= 0.90)})
		record(row{id: "(b)", what: fmt.Sprintf("%s: migrate / naive sequential scan-then-update, %d items", tg.label, m.items),
			figure: figure(wallB, cpuB, fmt.Sprintf("%.0f / %.0f items/s, client CPU", m.rate(), n.rate())), target: "wall ≥ 2.5", verdict: check(wallB.med >= 2.5)})

		if tg.real {
			continue // the network already adds its round trip
		}
		px := startLatencyProxy(b, tg.endpoint, addedRTT)
		d = newDynamoRig(b, tg, px, fmt.Sprintf("lockstep-bench-%d-%d-rtt", os.Getpid(), i))
		res = d.mirrored(rttItems/rounds, d.migrate, d.naive)
		logRounds(b, []string{"migrate", "naive"}, res)
		m, n = total(res[0]), total(res[1])
		wall, cpu := versus{res[0], res[1]}.speed()
		b.ReportMetric(wall.med, "ratio-b-rtt")
		record(row{id: "(b')", what: fmt.Sprintf("dynalite + %v per request: migrate / naive sequential loop, %d items", addedRTT, m.items),
			figure: figure(wall, cpu, fmt.Sprintf("%.0f / %.0f items/s, client CPU", m.rate(), n.rate())), target: "wall ≥ 2.5", verdict: check(wall.med >= 2.5)})
	}
}

// The round-trip variant of (b): each request is delayed by addedRTT,
// about what one UpdateItem costs in-region against real DynamoDB.
const (
	addedRTT = 3 * time.Millisecond
	rttItems = 2_400
)

// dynamoRig runs contenders on fresh tables of one endpoint.
type dynamoRig struct {
	b        *testing.B
	ctx      context.Context
	tg       dynamoTarget
	endpoint string // tg's, or a proxy in front of it
	prefix   string
	client   *dynamodb.Client
}

func newDynamoRig(b *testing.B, tg dynamoTarget, endpoint, prefix string) *dynamoRig {
	ctx := context.Background()
	client, err := dynamo.NewClient(ctx, &runbook.StoreSpec{Kind: "dynamodb", Region: tg.region, Endpoint: endpoint})
	if err != nil {
		b.Fatal(err)
	}
	return &dynamoRig{b: b, ctx: ctx, tg: tg, endpoint: endpoint, prefix: prefix, client: client}
}

// contender runs on the table it is given and returns what it wrote.
type contender func(table string) (timed, error)

// mirrored loads one table of n items per contender and round (untimed),
// then runs the contenders in mirrored rounds; each must write every item.
func (d *dynamoRig) mirrored(n int, cs ...contender) [][]sample {
	d.b.StopTimer()
	names := make([][rounds]string, len(cs))
	for c := range cs {
		for r := range rounds {
			names[c][r] = fmt.Sprintf("%s-c%d-r%d", d.prefix, c, r)
			if d.tg.real {
				d.b.Cleanup(func() { d.dropTable(names[c][r]) })
			}
			if err := loadTable(d.ctx, d.client, names[c][r], n); err != nil {
				d.b.Fatalf("load %s: %v", names[c][r], err)
			}
		}
	}
	d.b.StartTimer()
	runs := make([]func(int) timed, len(cs))
	for c := range cs {
		runs[c] = func(r int) timed {
			t, err := cs[c](names[c][r])
			if err != nil {
				d.b.Fatalf("contender %d round %d: %v", c, r, err)
			}
			if t.items != int64(n) {
				d.b.Fatalf("contender %d round %d wrote %d items, want %d", c, r, t.items, n)
			}
			return t
		}
	}
	return runMirrored(d.b, runs...)
}

// migrate runs the benchmark runbook against table through a session.
func (d *dynamoRig) migrate(table string) (timed, error) {
	// Each contender's table has its own registry: the runbooks differ
	// by table name, and the registry refuses a changed version 2.
	store := fmt.Sprintf("{kind: dynamodb, table: %s, region: %s, endpoint: %q, registry_table: %s-registry}", table, d.tg.region, d.endpoint, table)
	m := runMigrate(d.b, d.b.TempDir(), runbookYAML(store, 0))
	return timed{m.migrated, m.elapsed}, nil
}

// dropTable deletes a table of a real endpoint (it bills for storage).
func (d *dynamoRig) dropTable(table string) {
	if _, err := d.client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			d.b.Errorf("delete benchmark table %s: %v (delete it by hand)", table, err)
		}
	}
}

func (d *dynamoRig) raw(workers int, guard string) contender {
	return func(table string) (timed, error) { return rawLoop(d.ctx, d.client, table, workers, guard) }
}

// sweepRates lists the throughput of each contender of the sweep.
func sweepRates(names []string, res [][]sample) string {
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %.0f", name, total(res[i]).rate())
	}
	return strings.Join(parts, ", ") + " items/s"
}

func (d *dynamoRig) naive(table string) (timed, error) {
	return naiveLoop(d.ctx, d.client, table)
}

// startLatencyProxy starts a reverse proxy to target that delays every
// request by delay, and closes it when the benchmark ends.
func startLatencyProxy(b *testing.B, target string, delay time.Duration) string {
	u, err := url.Parse(target)
	if err != nil {
		b.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		rp.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
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
	if err := waitActive(ctx, c, table); err != nil {
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
					select {
					case errs <- err:
					default:
					}
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

// waitActive polls until table is ACTIVE (dynalite creates tables
// asynchronously, even with createTableMs 0; DynamoDB takes seconds).
func waitActive(ctx context.Context, c *dynamodb.Client, table string) error {
	deadline := time.Now().Add(3 * time.Minute)
	for wait := 10 * time.Millisecond; time.Now().Before(deadline); wait = min(2*wait, time.Second) {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return err
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		time.Sleep(wait)
	}
	return fmt.Errorf("table %s not active after 3 minutes", table)
}

func batchWrite(ctx context.Context, c *dynamodb.Client, table string, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil {
			return err
		}
		if reqs = out.UnprocessedItems[table]; len(reqs) > 0 {
			time.Sleep(50 * time.Millisecond) // throttled: let the table catch up
		}
	}
	return nil
}

// The hand loops' conditions. shortGuard checks what the transform read
// (the item exists, its version is below the target, its address is
// unchanged): it overwrites street_name, city or postcode that an
// application wrote since the scan. carefulGuard, like migrate's, also
// checks that the attributes it writes are still absent, so that such a
// write fails the condition instead of being clobbered.
const (
	shortGuard   = "attribute_exists(#id) AND (attribute_not_exists(#v) OR #v < :target) AND #address = :address"
	carefulGuard = shortGuard + " AND attribute_not_exists(#city) AND attribute_not_exists(#postcode) AND attribute_not_exists(#street)"
)

// conditionalUpdate is the baselines' write: the same SET as lockstep's
// migrate renders, under guard.
func conditionalUpdate(ctx context.Context, c *dynamodb.Client, table, guard string, item map[string]types.AttributeValue) error {
	addr := item["address"].(*types.AttributeValueMemberS).Value
	street, city, postcode := splitAddress(addr)
	target := &types.AttributeValueMemberN{Value: strconv.Itoa(targetVersion)}
	_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(table),
		Key:                 map[string]types.AttributeValue{"id": item["id"]},
		UpdateExpression:    aws.String("SET #street = :street, #city = :city, #postcode = :postcode, #v = :target"),
		ConditionExpression: aws.String(guard),
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
func rawLoop(ctx context.Context, c *dynamodb.Client, table string, workers int, guard string) (timed, error) {
	start := time.Now()
	var mu sync.Mutex
	var total int64
	var first error
	var wg sync.WaitGroup
	for seg := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := rawSegment(ctx, c, table, guard, seg, workers)
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

func rawSegment(ctx context.Context, c *dynamodb.Client, table, guard string, seg, total int) (int64, error) {
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
			if err := conditionalUpdate(ctx, c, table, guard, it); err != nil {
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
		if err := conditionalUpdate(ctx, c, table, shortGuard, it); err != nil {
			return timed{int64(i), time.Since(start)}, err
		}
	}
	return timed{int64(len(all)), time.Since(start)}, nil
}
