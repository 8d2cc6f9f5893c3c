package runbook_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// check is one expected field value of a parsed runbook.
type check struct {
	name      string
	got, want any
}

func runChecks(t *testing.T, checks []check) {
	t.Helper()
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func mustParseFile(t *testing.T, path string) *runbook.Runbook {
	t.Helper()
	rb, err := runbook.ParseFile(path)
	if err != nil {
		t.Fatalf("ParseFile(%s): %v", path, err)
	}
	return rb
}

func exprSrc(e *runbook.Expr) string {
	if e == nil {
		return "<nil>"
	}
	return e.Source
}

// TestParseDesignExample parses DESIGN.md's example runbook, verbatim.
func TestParseDesignExample(t *testing.T) {
	const path = "testdata/good/design.yaml"
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rb := mustParseFile(t, path)
	sum := sha256.Sum256(src)
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	staging, prod := rb.Env("staging"), rb.Env("production")
	if staging == nil || prod == nil || prod.Window == nil {
		t.Fatalf("environments = %v", rb.Environments)
	}
	steps := rb.Steps()
	var ids, kinds, phases []string
	for _, s := range steps {
		ids, kinds, phases = append(ids, s.ID), append(kinds, string(s.Kind)), append(phases, s.Phase)
	}
	backfill, announce := rb.Step("backfill"), rb.Step("announce")
	var setAttrs, setSrcs []string
	for _, c := range backfill.Migrate.Set {
		setAttrs, setSrcs = append(setAttrs, c.Attr), append(setSrcs, c.Expr.Source)
	}
	runChecks(t, []check{
		{"Path", rb.Path, abs},
		{"Dir", rb.Dir, filepath.Dir(abs)},
		{"SHA256", rb.SHA256, hex.EncodeToString(sum[:])},
		{"Source", string(rb.Source), string(src)},
		{"Lockstep", rb.Lockstep, 1},
		{"Name", rb.Name, "split-address"},
		{"Title", rb.Title, "Split users.address into street_name, city, postcode"},
		{"Version", rb.Version, 3},
		{"Strategy", rb.Strategy, "multi-step"},
		{"Roles", rb.Roles, runbook.Roles{Responsible: []string{"alice"}, Accountable: []string{"bob"},
			Consulted: []string{"billing-team"}, Informed: []string{"#ops-announce", "support"}}},
		{"Secrets", rb.Secrets, []string{"SLACK_WEBHOOK"}},
		{"Vars", rb.Vars, map[string]string{"banner": "Short maintenance tonight"}},
		{"staging store", *staging.Store, runbook.StoreSpec{Pos: runbook.Pos{File: path, Line: 13, Col: 12},
			Kind: "dynamodb", Table: "users-staging", Region: "eu-west-1", Endpoint: "${DYNAMODB_ENDPOINT}", VersionAttribute: "v"}},
		{"staging rate", staging.MaxWriteRate, 500},
		{"staging pos", staging.Pos, runbook.Pos{File: path, Line: 12, Col: 3}},
		{"prod protected", prod.Protected, true},
		{"prod window", *prod.Window, runbook.Window{Pos: runbook.Pos{File: path, Line: 18, Col: 13},
			Days: []string{"tue", "wed", "thu"}, From: "22:00", To: "02:00", TZ: "Europe/Paris"}},
		{"prod rate", prod.MaxWriteRate, 2000},
		{"step ids", ids, []string{"size", "snapshot", "drill", "announce", "go-no-go", "deploy-reader", "backfill", "all-done", "drop-address"}},
		{"step kinds", kinds, []string{"estimate", "backup", "restore-drill", "notify", "approval", "manual", "migrate", "verify", "migrate"}},
		{"step phases", phases, []string{"estimate", "backup", "backup", "communicate", "communicate", "run", "run", "verify", "cleanup"}},
		{"size where", exprSrc(steps[0].Estimate.Where), "item.v == nil || item.v < 3"},
		{"size where pos", steps[0].Estimate.Where.Pos, runbook.Pos{File: path, Line: 25, Col: 50}},
		{"size sample", steps[0].Estimate.Sample, 1000},
		{"size margin", steps[0].Estimate.Margin, 0.20},
		{"snapshot native", *steps[1].Backup, runbook.BackupSpec{Native: true}},
		{"drill from", steps[2].RestoreDrill.From, "snapshot"},
		{"announce channel", announce.Notify.Channel, "webhook"},
		{"announce url", announce.Notify.URL, "${SLACK_WEBHOOK}"},
		{"announce to", announce.Notify.To, []string{"informed"}},
		{"announce template", announce.Notify.Template.Source, "{{.Title}} starts {{.Window.Start}}, about {{.Estimate.Duration}}"},
		{"approval role", rb.Step("go-no-go").Approval.Role, "accountable"},
		{"manual text", rb.Step("deploy-reader").Text, "Deploy the app version that reads both `address` and `street_name`."},
		{"manual checklist", rb.Step("deploy-reader").Checklist, []string{"Deployed to all regions", "Error rate normal"}},
		{"backfill where", exprSrc(backfill.Migrate.Where), "item.address != nil"},
		{"backfill set attrs", setAttrs, []string{"street_name", "city", "postcode"}},
		{"backfill set[1]", setSrcs[1], `trim(split(item.address, ",")[1])`},
		{"backfill defaults", []int{backfill.Migrate.BatchSize, backfill.Migrate.Segments, backfill.Migrate.MaxRetries, backfill.Migrate.ErrorBudget}, []int{0, 0, 5, 100}}, // batch_size and segments 0: the store chooses
		{"backfill reads", backfill.Migrate.Reads(), []string{"address"}},
		{"rollback id", backfill.Rollback.ID, "backfill.rollback"},
		{"rollback kind", backfill.Rollback.Kind, runbook.KindMigrate},
		{"rollback phase", backfill.Rollback.Phase, ""},
		{"rollback remove", backfill.Rollback.Migrate.Remove, []string{"street_name", "city", "postcode"}},
		{"verify expect_none", exprSrc(rb.Step("all-done").Verify.ExpectNone), "item.v < 3"},
		{"verify assert", exprSrc(rb.Step("all-done").Verify.Assert), `item.street_name != ""`},
		{"verify sample", rb.Step("all-done").Verify.Sample, 500},
		{"cleanup requires", rb.Phases[5].Requires, []string{"verify"}},
		{"drop destructive", rb.Step("drop-address").Destructive, true},
		{"drop remove", rb.Step("drop-address").Migrate.Remove, []string{"address"}},
		{"EnvRefs", rb.EnvRefs(), []string{"DYNAMODB_ENDPOINT", "SLACK_WEBHOOK"}},
	})
}

// TestParseAllKinds parses a runbook using every kind and most options.
func TestParseAllKinds(t *testing.T) {
	rb := mustParseFile(t, "testdata/good/all-kinds.yaml")
	local, prod := rb.Env("local"), rb.Env("prod")
	move := rb.Step("move")
	runChecks(t, []check{
		{"Strategy", rb.Strategy, "big-bang"},
		{"VersionAttribute", rb.VersionAttribute, "rev"},
		{"Roles.Informed", rb.Roles.Informed, []string{"#ops"}},
		{"Holders(responsible)", rb.Roles.Holders("responsible"), []string{"alice", "carol"}},
		{"Vars", rb.Vars, map[string]string{"owner": "team-data", "retries": "3"}},
		{"local store", []any{local.Store.Kind, local.Store.Path, local.Store.Table, local.Store.Key, local.Store.VersionAttribute},
			[]any{"sqlite", "${LOCKSTEP_DB}", "users", []string{"id"}, "rev"}},
		{"prod store", []any{prod.Store.Profile, prod.Store.Key, prod.Store.VersionAttribute}, []any{"prod", []string{"pk", "sk"}, "ver"}},
		{"prod window tz default", prod.Window.TZ, "UTC"},
		{"read checklist", rb.Step("read").Checklist, []string{"Plan read", "Team on call"}},
		{"read text", rb.Step("read").Text, "Read the **plan**.\n"},
		{"lock", *rb.Step("lock").Lock.Maintenance, runbook.MaintenanceSpec{Table: "flags", Key: map[string]string{"id": "app"}, Attribute: "maintenance"}},
		{"lock ttl", rb.Step("lock").Lock.TTL, 2 * time.Hour},
		{"decision", rb.Step("pick").Decision.Choices, []string{"now", "later"}},
		{"decision text", rb.Step("pick").Text, "When?"},
		{"approval", rb.Step("ok").Approval.Role, "responsible"},
		{"notify", []any{rb.Step("tell").Notify.Channel, rb.Step("tell").Notify.Path, rb.Step("tell").Notify.To},
			[]any{"file", "${HOME}/notes.txt", []string{"informed", "#dba"}}},
		{"estimate", []any{rb.Step("count").Estimate.Sample, rb.Step("count").Estimate.Margin, rb.Step("count").Estimate.ExactCount}, []any{50, 0.125, true}},
		{"wait window", *rb.Step("window").Wait, runbook.WaitSpec{Window: true}},
		{"backup", *rb.Step("dump").Backup, runbook.BackupSpec{Native: false, Dir: "/var/backups"}},
		{"shell pre", *rb.Step("pre").Shell, runbook.ShellSpec{Run: "echo $HOME", Cwd: "/tmp", Env: map[string]string{"A": "${HOME}"}, DryRun: "run"}},
		{"shell pre idempotent/timeout", []any{rb.Step("pre").Idempotent, rb.Step("pre").Timeout}, []any{true, 90 * time.Second}},
		{"shell direct", rb.Step("direct").Shell.Argv, []string{"echo", "hi"}},
		{"shell direct cwd (the runbook's directory)", rb.Step("direct").Shell.Cwd, rb.Dir},
		{"shell direct defaults", []any{rb.Step("direct").Idempotent, rb.Step("direct").Requires, exprSrc(rb.Step("direct").When)},
			[]any{false, []string{"pre"}, `vars.owner == "team-data"`}},
		{"sql", rb.Step("ddl").SQL.Statements, []string{"ALTER TABLE users ADD COLUMN email TEXT"}},
		{"migrate sizes", []int{move.Migrate.BatchSize, move.Migrate.Segments, move.Migrate.ErrorBudget, move.Migrate.MaxRetries}, []int{25, 2, 0, 1}},
		{"migrate set order", []string{move.Migrate.Set[0].Attr, move.Migrate.Set[1].Attr}, []string{"zeta", "alpha"}},
		{"migrate rename", move.Migrate.Rename, map[string]string{"old_name": "new_name"}},
		{"migrate transform", move.Migrate.Transform, []string{"sh", "-c", "./normalize.py --fast"}},
		{"migrate reads", move.Migrate.Reads(), []string{"count", "name", "old_name", "rev"}},
		{"migrate writes", move.Migrate.Writes(), []string{"alpha", "new_name", "old_name", "zeta"}},
		{"migrate idempotent default", move.Idempotent, true},
		{"rollback", []any{move.Rollback.ID, move.Rollback.Destructive, move.Rollback.Migrate.Rename}, []any{"move.rollback", true, map[string]string{"new_name": "old_name"}}},
		{"wait duration", rb.Step("pause").Wait.Duration, 90 * time.Second},
		{"verify", []any{rb.Step("check").Verify.Backup, rb.Step("check").Verify.Sample}, []any{"dump", 10}},
		{"unlock", rb.Step("unlock").Kind, runbook.KindUnlock},
		{"phase requires", rb.Phases[3].Requires, []string{"run"}},
		{"EnvRefs", rb.EnvRefs(), []string{"HOME", "LOCKSTEP_DB"}},
	})
}

// TestDefaultIdempotent pins the idempotency default of each kind.
func TestDefaultIdempotent(t *testing.T) {
	want := map[runbook.Kind]bool{runbook.KindShell: false, runbook.KindSQL: false, runbook.KindNotify: false,
		runbook.KindManual: false, runbook.KindDecision: false, runbook.KindApproval: false,
		runbook.KindMigrate: true, runbook.KindEstimate: true, runbook.KindVerify: true, runbook.KindBackup: true,
		runbook.KindRestoreDrill: true, runbook.KindRestore: true, runbook.KindLock: true, runbook.KindUnlock: true, runbook.KindWait: true}
	for _, k := range runbook.Kinds {
		if got := runbook.DefaultIdempotent(k); got != want[k] {
			t.Errorf("DefaultIdempotent(%s) = %v, want %v", k, got, want[k])
		}
	}
}

// TestParseAnchors checks aliases, merge keys and x- extension keys.
func TestParseAnchors(t *testing.T) {
	rb := mustParseFile(t, "testdata/good/anchors.yaml")
	runChecks(t, []check{
		{"a table", rb.Env("a").Store.Table, "users"},
		{"b table (merge overridden)", rb.Env("b").Store.Table, "users_b"},
		{"b path (merged)", rb.Env("b").Store.Path, "${DB}"},
		{"second kind", rb.Step("second").Kind, runbook.KindVerify},
		{"second expect_none", exprSrc(rb.Step("second").Verify.ExpectNone), "item.v < 4"},
		{"second text", rb.Step("second").Text, "again"},
		{"first expr pos (at the anchor)", rb.Step("first").Verify.ExpectNone.Pos.Line, 7},
	})
}
