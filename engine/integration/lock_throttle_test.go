package integration_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/engine/store/dynamo/faultproxy"
)

// TestLockUnlockSurviveThrottling: behind a proxy throttling 20% of all
// DynamoDB requests, 20 sessions one after another lock (lease table,
// lease, maintenance flag) and unlock: every one completes, the flag is
// back to absent and the lease table is empty — no throttled release
// strands a lease that refuses the next session.
func TestLockUnlockSurviveThrottling(t *testing.T) {
	// Not parallel: its lease TTL is a few seconds, so it runs before the
	// parallel tests load the package's shared dynalite.
	table, enabled := dynamoSettings(t, nil)
	lockSteps := fmt.Sprintf(`      - id: take
        kind: lock
        with: {ttl: 1m, maintenance: {table: %s, key: {name: maintenance}, attribute: enabled}}
      - {id: give, kind: unlock}
`, table)
	base := newDynamoRig(t, 2, "", lockSteps, 1, nil)
	endpoint := base.RB.Env("test").Store.Endpoint
	proxy := faultproxy.Start(t, endpoint, faultproxy.Faults{ThrottlePercent: 20, Seed: 20})
	spec := *base.RB.Env("test").Store
	spec.Endpoint = proxy.URL
	leases := fmt.Sprintf("leases_%d", dynamoTables.Add(1))

	const sessions = 20
	completed := 0
	for i := range sessions {
		st, err := dynamo.Open(context.Background(), &spec, dynamo.WithLeaseTable(leases))
		if err != nil {
			t.Fatalf("session %d: open: %v", i, err)
		}
		r := rig.NewData(t, base.RB, st, t.TempDir())
		_, err = r.Run(r.StepContext("take"))
		if err == nil {
			_, err = r.Run(r.StepContext("give"))
		}
		if len(r.EventsOf(engine.EvWarning)) > 0 {
			t.Errorf("session %d journaled warnings: %v", i, r.EventsOf(engine.EvWarning))
		}
		if err != nil {
			t.Errorf("session %d: %v", i, err)
			_ = r.Leases.Release(context.Background())
			continue
		}
		completed++
	}
	if completed != sessions {
		t.Errorf("%d of %d lock/unlock sessions completed", completed, sessions)
	}
	if c := proxy.Counts(); c.Throttled == 0 {
		t.Fatalf("proxy throttled nothing (%+v): the test proves nothing", c)
	} else {
		t.Logf("proxy: %+v", c)
	}
	client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("lockstep", "lockstep", "")})
	out, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(leases), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("scan lease table: %v", err)
	}
	if len(out.Items) != 0 {
		t.Errorf("lease table holds %d leases after every session unlocked, want none: %v", len(out.Items), out.Items)
	}
	if v := enabled(); v != nil {
		t.Errorf("maintenance flag after the last unlock = %v, want absent as before", v)
	}
}

// TestUnlockReleaseFailingIsJournaledWithinTTL: a lease record DynamoDB
// refuses to delete every time does not hang the unlock: it gives up
// within the ttl, clears the flag, and journals a warning that the lease
// expires on its own.
func TestUnlockReleaseFailingIsJournaledWithinTTL(t *testing.T) {
	// Not parallel: its lease TTL is a few seconds, so it runs before the
	// parallel tests load the package's shared dynalite.
	const ttl = 5 * time.Second // the flag is cleared within it even on a loaded CI machine
	table, enabled := dynamoSettings(t, nil)
	lockSteps := fmt.Sprintf(`      - id: take
        kind: lock
        with: {ttl: %s, maintenance: {table: %s, key: {name: maintenance}, attribute: enabled}}
      - {id: give, kind: unlock}
`, ttl, table)
	base := newDynamoRig(t, 2, "", lockSteps, 1, nil)
	proxy := faultproxy.Start(t, base.RB.Env("test").Store.Endpoint,
		faultproxy.Faults{ThrottlePercent: 100, Operations: []string{"DeleteItem"}})
	spec := *base.RB.Env("test").Store
	spec.Endpoint = proxy.URL
	st, err := dynamo.Open(context.Background(), &spec, dynamo.WithLeaseTable(fmt.Sprintf("leases_%d", dynamoTables.Add(1))))
	if err != nil {
		t.Fatal(err)
	}
	r := rig.NewData(t, base.RB, st, t.TempDir())
	if _, err := r.Run(r.StepContext("take")); err != nil {
		t.Fatalf("lock: %v", err)
	}
	start := time.Now()
	res, err := r.Run(r.StepContext("give"))
	if took := time.Since(start); took > ttl+time.Second {
		t.Errorf("unlock took %s with its release refused, want at most about the ttl %s", took, ttl)
	}
	if err != nil {
		t.Fatalf("unlock: %v, want it to complete with a warning", err)
	}
	if ur := res.(steps.UnlockResult); len(ur.ReleaseFailed) != 1 || ur.MaintenanceCleared != 1 {
		t.Errorf("unlock result %+v, want one release failed and the flag cleared", ur)
	}
	warnings := r.EventsOf(engine.EvWarning)
	if len(warnings) != 1 || !strings.Contains(string(warnings[0].Data), "expires on its own") {
		t.Errorf("warnings %v, want one saying the lease expires on its own", warnings)
	}
	if v := enabled(); v != nil {
		t.Errorf("maintenance flag after unlock = %v, want absent as before", v)
	}
	if proxy.Counts().Throttled < 2 {
		t.Errorf("the release was tried %d times, want retries", proxy.Counts().Throttled)
	}
}
