package integration_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/internal/dynalite"
	"github.com/lockstep-run/lockstep/runbook"
)

var dynamoTables atomic.Int64

// newDynamoRig creates a fresh table (key id N) on the shared dynalite
// holding n items {id, name, count = id}, and a rig whose store talks to
// it through transport (nil: directly).
func newDynamoRig(t *testing.T, version int, envExtra, steps string, n int, transport http.RoundTripper) *rig.Data {
	t.Helper()
	if testing.Short() {
		t.Skip("dynalite tests are not short")
	}
	endpoint := dynalite.Shared(t)
	table := fmt.Sprintf("users_%d", dynamoTables.Add(1))
	ctx := context.Background()
	client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("lockstep", "lockstep", "")})
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeN}}})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	spec := &runbook.StoreSpec{Kind: "dynamodb", Table: table, Region: "us-east-1", Endpoint: endpoint}
	seed, err := dynamo.Open(ctx, spec)
	if err != nil {
		t.Fatalf("dynamo.Open: %v", err)
	}
	items := make([]engine.Item, 0, n)
	for i := 1; i <= n; i++ {
		items = append(items, engine.Item{"id": engine.Number(fmt.Sprint(i)), "name": fmt.Sprintf("user%d", i),
			"count": engine.Number(fmt.Sprint(i))})
	}
	if err := seed.Put(ctx, items); err != nil {
		t.Fatalf("seed: %v", err)
	}
	st := seed
	if transport != nil {
		// Short SDK backoffs keep injected 500s and drops fast.
		st, err = dynamo.Open(ctx, spec, dynamo.WithHTTPClient(&http.Client{Transport: transport}), dynamo.WithMaxBackoff(50*time.Millisecond))
		if err != nil {
			t.Fatalf("dynamo.Open: %v", err)
		}
	}
	rb := rig.DataRunbookFor(t, fmt.Sprintf("{kind: dynamodb, table: %s, region: us-east-1, endpoint: %q}", table, endpoint), version, envExtra, steps)
	r := rig.NewData(t, rb, st, t.TempDir())
	r.Seed = seed
	return r
}

// faultTransport injects DynamoDB faults into UpdateItem calls: every
// throttleEvery-th is throttled, every failEvery-th gets a 500, and every
// dropEvery-th is applied by the server but its response is lost.
type faultTransport struct {
	base                                http.RoundTripper
	throttleEvery, failEvery, dropEvery int64
	n, throttles, fails, drops          atomic.Int64
}

func (f *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.Header.Get("X-Amz-Target"), ".UpdateItem") {
		return f.base.RoundTrip(req)
	}
	n := f.n.Add(1)
	switch {
	case f.throttleEvery > 0 && n%f.throttleEvery == 0:
		f.throttles.Add(1)
		return fakeResponse(req, 400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"), nil
	case f.failEvery > 0 && n%f.failEvery == 0:
		f.fails.Add(1)
		return fakeResponse(req, 500, "com.amazonaws.dynamodb.v20120810#InternalServerError"), nil
	case f.dropEvery > 0 && n%f.dropEvery == 0:
		resp, err := f.base.RoundTrip(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		f.drops.Add(1)
		return nil, errors.New("injected: connection reset after the write was applied")
	}
	return f.base.RoundTrip(req)
}

func fakeResponse(req *http.Request, code int, errType string) *http.Response {
	body := fmt.Sprintf(`{"__type":%q,"message":"injected fault"}`, errType)
	return &http.Response{StatusCode: code, Status: fmt.Sprint(code), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"fault"}},
		Body:   io.NopCloser(bytes.NewBufferString(body)), ContentLength: int64(len(body)), Request: req}
}

// assertCountedOnce checks every item's count is id+1 at version v.
func assertCountedOnce(t *testing.T, st engine.Store, n int, v int64) {
	t.Helper()
	items := rig.ScanItems(t, st, "id")
	if len(items) != n {
		t.Fatalf("%d items, want %d", len(items), n)
	}
	for id, it := range items {
		var want int64
		fmt.Sscan(id, &want)
		if rig.AttrNum(it, "count") != want+1 || rig.AttrNum(it, "v") != v {
			t.Fatalf("item %s: count %d v %d, want count %d v %d (exactly once)", id, rig.AttrNum(it, "count"), rig.AttrNum(it, "v"), want+1, v)
		}
	}
}

func TestMigrateDynamoCounterExactlyOnceAcrossInterruption(t *testing.T) {
	t.Parallel()
	const n = 2000
	r := newDynamoRig(t, 2, "", rig.CounterSteps, n, nil)
	ctx, cancel := context.WithCancel(context.Background())
	sc := r.StepContext("bump")
	sc.Journal = &rig.CancelJournal{Journal: r.J, N: 15, Cancel: cancel}
	if _, err := rig.ExecutorFor(sc.Step.Kind).Execute(ctx, sc); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run error = %v, want context.Canceled", err)
	}
	sc = r.StepContext("bump")
	sc.Resumed = true
	res, err := r.Run(sc)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if got := res.(migrate.Result); got.Scanned != n || got.Migrated+got.Already != n {
		t.Errorf("counts = %+v, want %d scanned, migrated+already %d", got.MigrateCounts, n, n)
	}
	assertCountedOnce(t, r.Seed, n, 2)
	if r.Progressed() == 0 {
		t.Error("no live progress shown")
	}
	// A re-run changes nothing.
	res, err = r.Run(r.StepContext("bump"))
	if err != nil || res.(migrate.Result).Migrated != 0 {
		t.Fatalf("re-run = %+v, %v; want nothing migrated", res, err)
	}
}

func TestMigrateDynamoFaultsExactlyOnce(t *testing.T) {
	const n = 1500
	// A custom CA bundle makes the SDK refuse a caller's HTTP client; the
	// loopback endpoint needs none.
	t.Setenv("AWS_CA_BUNDLE", "")
	ft := &faultTransport{base: http.DefaultTransport, throttleEvery: 29, failEvery: 31, dropEvery: 37}
	r := newDynamoRig(t, 2, "    max_write_rate: 5000", rig.CounterSteps, n, ft)
	res, err := r.Run(r.StepContext("bump"))
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	got := res.(migrate.Result)
	if ft.throttles.Load() == 0 || ft.fails.Load() == 0 || ft.drops.Load() == 0 {
		t.Fatalf("faults injected: %d throttles, %d 500s, %d drops; want some of each", ft.throttles.Load(), ft.fails.Load(), ft.drops.Load())
	}
	if got.Throttles < ft.throttles.Load()/2 || got.Failures != 0 || got.Migrated+got.Already != n {
		t.Errorf("counts = %+v, want throttles counted, no failures, every item done", got.MigrateCounts)
	}
	t.Logf("faults: %d throttles, %d 500s, %d drops; result %+v in %d ms", ft.throttles.Load(), ft.fails.Load(), ft.drops.Load(), got.MigrateCounts, got.ElapsedMS)
	assertCountedOnce(t, r.Seed, n, 2)
	journaled := false
	for _, ev := range r.EventsOf(engine.EvWarning) {
		journaled = journaled || strings.Contains(string(ev.Data), `"throttles"`)
	}
	for _, ev := range r.EventsOf(engine.EvProgress) {
		journaled = journaled || strings.Contains(string(ev.Data), fmt.Sprintf(`"throttles":%d`, got.Throttles))
	}
	if !journaled {
		t.Error("throttles not journaled")
	}
}

func TestBackupAndDrillDynamo(t *testing.T) {
	t.Parallel()
	r := newDynamoRig(t, 2, "", rig.BackupSteps, 400, nil)
	br := rig.BackupOf(t, r)
	if br.ItemCount != 400 || br.Native != nil {
		t.Fatalf("backup = %+v, want 400 items, no native backup on dynalite", br)
	}
	if br.NativeError == "" || len(r.EventsOf(engine.EvWarning)) == 0 {
		t.Errorf("unsupported native backup not journaled as a warning")
	}
	res, err := r.Run(r.StepContext("drill"))
	if err != nil {
		t.Fatalf("drill: %v", err)
	}
	if dr := res.(steps.DrillResult); !dr.Match || dr.Restored != 400 || !strings.Contains(dr.Scratch, "_drill_") {
		t.Errorf("drill = %+v", dr)
	}
	lines := rig.ExportLines(t, br.Export)
	rig.WriteExport(t, br.Export, []byte(strings.Join(lines[:len(lines)-1], "\n")+"\n"))
	if _, err := r.Run(r.StepContext("drill")); err == nil || !strings.Contains(err.Error(), "count mismatch") {
		t.Errorf("drill of a truncated export: %v, want count mismatch", err)
	}
}

func TestLockDynamoRefusesSecondSession(t *testing.T) {
	t.Parallel()
	steps := "      - {id: take, kind: lock, with: {ttl: 1m}}\n      - {id: give, kind: unlock}\n"
	r := newDynamoRig(t, 2, "", steps, 1, nil)
	if _, err := r.Run(r.StepContext("take")); err != nil {
		t.Fatalf("lock: %v", err)
	}
	other := rig.NewData(t, r.RB, r.St, t.TempDir())
	sc := other.StepContext("take")
	sc.Operator = "bob"
	var held *engine.LeaseHeldError
	if _, err := rig.ExecutorFor(sc.Step.Kind).Execute(r.Ctx, sc); !errors.As(err, &held) || held.Lease.Holder != "alice" {
		t.Fatalf("second lock: %v, want held by alice", err)
	}
	if _, err := r.Run(r.StepContext("give")); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if _, err := rig.ExecutorFor(sc.Step.Kind).Execute(r.Ctx, sc); err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	other.Leases.Release(r.Ctx)
}
