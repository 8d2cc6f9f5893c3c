package dynamo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/internal/dynalite"
	"github.com/lockstep-run/lockstep/runbook"
)

// BenchmarkMigrateCPU measures the client CPU, allocations and bytes
// per item of a migrate step on dynalite (the split-address workload of
// bench/, at the store's default segments: "migrate" runs the executor
// alone, "session" a whole session with its registry, as bench/ does)
// against a careful hand-written loop of conditional UpdateItems
// guarding what it writes, at 4 and 8 goroutines, in mirrored rounds on
// fresh tables. CPU is getrusage of this process: the server is another
// one, so the figure holds on a loaded machine where wall time does not.
// LOCKSTEP_BENCH_ITEMS sets the items per run (default 6,000),
// LOCKSTEP_BENCH_ROUNDS the rounds (default 3) and LOCKSTEP_BENCH_ONLY
// the contenders (names, comma-separated), to profile one of them:
//
//	LOCKSTEP_BENCH_ONLY=migrate go test -run '^$' -bench MigrateCPU -benchtime 1x -cpuprofile cpu.out ./engine/store/dynamo/
func BenchmarkMigrateCPU(b *testing.B) {
	n := envInt("LOCKSTEP_BENCH_ITEMS", 6000)
	rounds := envInt("LOCKSTEP_BENCH_ROUNDS", 3)
	endpoint := dynalite.Start(b)
	ctx := context.Background()
	client, err := dynamo.NewClient(ctx, &runbook.StoreSpec{Kind: "dynamodb", Region: "us-east-1", Endpoint: endpoint})
	if err != nil {
		b.Fatal(err)
	}
	type contender struct {
		name string
		run  func(table string) (int64, error)
	}
	cs := []contender{
		{"migrate", func(table string) (int64, error) { return migrateTable(b, endpoint, table) }},
		{"session", func(table string) (int64, error) { return migrateSession(b, endpoint, table) }},
		{"careful-4", func(table string) (int64, error) { return carefulLoop(ctx, client, table, 4) }},
		{"careful-8", func(table string) (int64, error) { return carefulLoop(ctx, client, table, 8) }},
	}
	if only := os.Getenv("LOCKSTEP_BENCH_ONLY"); only != "" {
		cs = slices.DeleteFunc(cs, func(c contender) bool { return !slices.Contains(strings.Split(only, ","), c.name) })
	}
	type total struct {
		items     int64
		wall, cpu time.Duration
	}
	totals := make([]total, len(cs))
	for i := 0; i < b.N; i++ {
		for r := range rounds {
			order := make([]int, len(cs))
			for j := range order {
				order[j] = j
				if r%2 == 1 {
					order[j] = len(cs) - 1 - j
				}
			}
			for _, c := range order {
				b.StopTimer()
				table := fmt.Sprintf("cpu-%d-%d-%d", i, r, c)
				if err := loadSplitTable(ctx, client, table, n); err != nil {
					b.Fatalf("load %s: %v", table, err)
				}
				b.StartTimer()
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				cpu0, start := cpuTime(b), time.Now()
				got, err := cs[c].run(table)
				wall, cpu := time.Since(start), cpuTime(b)-cpu0
				runtime.ReadMemStats(&ms1)
				if err != nil || got != int64(n) {
					b.Fatalf("%s: wrote %d of %d items: %v", cs[c].name, got, n, err)
				}
				b.Logf("round %d %-9s %6.0f items/s %6.1f µs CPU/item %5.0f allocs/item %6.0f B/item", r, cs[c].name, float64(got)/wall.Seconds(),
					float64(cpu.Microseconds())/float64(got), float64(ms1.Mallocs-ms0.Mallocs)/float64(got), float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(got))
				t := &totals[c]
				t.items, t.wall, t.cpu = t.items+got, t.wall+wall, t.cpu+cpu
			}
		}
	}
	for c, t := range totals {
		b.ReportMetric(float64(t.cpu.Microseconds())/float64(t.items), cs[c].name+"-µs-cpu/item")
		b.ReportMetric(float64(t.items)/t.wall.Seconds(), cs[c].name+"-items/s")
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// cpuTime is the user+sys time of this process.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// splitSteps is the benchmark's migrate step: bench/'s split-address.
const splitSteps = `      - id: backfill
        kind: migrate
        with:
          where: "item.address != nil"
          set:
            street_name: 'trim(split(item.address, ",")[0])'
            city: 'trim(split(item.address, ",")[1])'
            postcode: 'trim(split(item.address, ",")[2])'
`

// migrateTable runs the split-address migrate step on table and returns
// how many items it migrated.
func migrateTable(b *testing.B, endpoint, table string) (int64, error) {
	spec := &runbook.StoreSpec{Kind: "dynamodb", Table: table, Region: "us-east-1", Endpoint: endpoint}
	st, err := dynamo.Open(context.Background(), spec)
	if err != nil {
		return 0, err
	}
	rb := rig.DataRunbookFor(b, fmt.Sprintf("{kind: dynamodb, table: %s, region: us-east-1, endpoint: %q}", table, endpoint), 2, "", splitSteps)
	r := rig.NewData(b, rb, st, b.TempDir())
	res, err := r.Run(r.StepContext("backfill"))
	if err != nil {
		return 0, err
	}
	got := res.(migrate.Result)
	if got.Failures > 0 || got.Unresolved > 0 {
		return got.Migrated, fmt.Errorf("%d failures, %d unresolved", got.Failures, got.Unresolved)
	}
	return got.Migrated, nil
}

// migrateSession runs the step as bench/ does: a whole session with a
// journal and the environment's registry in the target, and logs how
// much of Run's time the step took.
func migrateSession(b *testing.B, endpoint, table string) (int64, error) {
	ctx := context.Background()
	dir := b.TempDir()
	store := fmt.Sprintf("{kind: dynamodb, table: %s, region: us-east-1, endpoint: %q, registry_table: %s-registry}", table, endpoint, table)
	rb := rig.DataRunbookFor(b, store, 2, "", splitSteps)
	j, err := journal.Open(filepath.Join(dir, "journal.db"))
	if err != nil {
		return 0, err
	}
	defer j.Close()
	open := func(ctx context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
		return dynamo.Open(ctx, spec)
	}
	s, err := engine.Start(ctx, engine.Config{Runbook: rb, Env: "test", Mode: engine.ModeLive, Operator: "bench", Journal: j,
		Prompter: rig.NoPrompts{}, Stores: open, WorkDir: filepath.Join(dir, "work"), Steps: steps.Default()})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	out, err := s.Run(ctx)
	elapsed := time.Since(start)
	if err != nil || out != engine.OutcomeCompleted {
		return 0, fmt.Errorf("run: %s, %v", out, err)
	}
	var res migrate.Result
	state := s.State()
	if err := json.Unmarshal(state.StepState("backfill").Result, &res); err != nil {
		return 0, err
	}
	b.Logf("session: Run %v, the step %v (%.0f items/s)", elapsed.Round(time.Millisecond),
		time.Duration(float64(res.Migrated)/res.ItemsPerSec*float64(time.Second)).Round(time.Millisecond), res.ItemsPerSec)
	return res.Migrated, nil
}

// splitAddress is the hand loop's version of the step's set clauses.
func splitAddress(addr string) (street, city, postcode string) {
	parts := strings.Split(addr, ",")
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2])
}

// benchAddress is the deterministic address of item i.
func benchAddress(i int) string {
	streets := []string{"Main St", "Rue de la Paix", "Baker Street", "Calle Mayor", "Hauptstrasse", "Via Roma", "Elm Avenue"}
	cities := []string{"Paris", "London", "Madrid", "Berlin", "Rome", "Lisbon", "Dublin", "Vienna", "Oslo"}
	return fmt.Sprintf("%d %s, %s, %05d", i%997+1, streets[i%len(streets)], cities[(i/7)%len(cities)], 10000+(i*7919)%90000)
}

// loadSplitTable creates table (key id, a string) with n items {id, name,
// address}.
func loadSplitTable(ctx context.Context, c *dynamodb.Client, table string, n int) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
	})
	if err != nil {
		return err
	}
	for {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return err
		}
		if out.Table.TableStatus == types.TableStatusActive {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for s := 0; s < n; s += 25 {
		var reqs []types.WriteRequest
		for i := s; i < min(s+25, n); i++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"id":      &types.AttributeValueMemberS{Value: fmt.Sprintf("u%07d", i)},
				"name":    &types.AttributeValueMemberS{Value: fmt.Sprintf("user %d", i)},
				"address": &types.AttributeValueMemberS{Value: benchAddress(i)},
			}}})
		}
		for len(reqs) > 0 {
			out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
			if err != nil {
				return err
			}
			reqs = out.UnprocessedItems[table]
		}
	}
	return nil
}

// carefulGuard is migrate's guard written by hand: the item exists, its
// version is below the target, the address it read is unchanged and the
// attributes it writes are still absent.
const carefulGuard = "attribute_exists(#id) AND (attribute_not_exists(#v) OR #v < :target) AND #address = :address" +
	" AND attribute_not_exists(#city) AND attribute_not_exists(#postcode) AND attribute_not_exists(#street)"

// carefulLoop is a parallel scan with one goroutine per segment, pages
// of runbook.DefaultBatchSize, one guarded UpdateItem per item.
func carefulLoop(ctx context.Context, c *dynamodb.Client, table string, workers int) (int64, error) {
	var mu sync.Mutex
	var total int64
	var first error
	var wg sync.WaitGroup
	for seg := range workers {
		wg.Go(func() {
			n, err := carefulSegment(ctx, c, table, seg, workers)
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && first == nil {
				first = err
			}
		})
	}
	wg.Wait()
	return total, first
}

func carefulSegment(ctx context.Context, c *dynamodb.Client, table string, seg, total int) (int64, error) {
	var n int64
	in := &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(runbook.DefaultBatchSize),
		Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(int32(total))}
	for {
		out, err := c.Scan(ctx, in)
		if err != nil {
			return n, err
		}
		for _, it := range out.Items {
			street, city, postcode := splitAddress(it["address"].(*types.AttributeValueMemberS).Value)
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:           aws.String(table),
				Key:                 map[string]types.AttributeValue{"id": it["id"]},
				UpdateExpression:    aws.String("SET #street = :street, #city = :city, #postcode = :postcode, #v = :target"),
				ConditionExpression: aws.String(carefulGuard),
				ExpressionAttributeNames: map[string]string{"#id": "id", "#v": "v", "#address": "address",
					"#street": "street_name", "#city": "city", "#postcode": "postcode"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":target": &types.AttributeValueMemberN{Value: "2"},
					":address": it["address"], ":street": &types.AttributeValueMemberS{Value: street},
					":city": &types.AttributeValueMemberS{Value: city}, ":postcode": &types.AttributeValueMemberS{Value: postcode}},
			})
			if err != nil {
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
