package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"go.yaml.in/yaml/v3"

	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/runbook"
)

// printWorker runs `lockstep worker --print ...` and returns its stdout.
func printWorker(t *testing.T, args ...string) string {
	t.Helper()
	f, out, _ := testFactory(map[string]string{"AWS_REGION": "eu-west-1"}, "op")
	cmd := newRootCmd(f)
	cmd.SetArgs(append([]string{"worker", "--print"}, args...))
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("worker --print %v: %v", args, err)
	}
	return out.String()
}

// envOf returns the value of name in a list of {name, value} pairs.
func envOf(list []any, name string) (string, bool) {
	for _, e := range list {
		m, _ := e.(map[string]any)
		if m["name"] == name {
			v, ok := m["value"].(string)
			return v, ok
		}
	}
	return "", false
}

// TestPrintBatchJobDefinition checks the printed job definition against
// the fields docs/fleet.md documents: the input of `aws batch
// register-job-definition --cli-input-json`.
func TestPrintBatchJobDefinition(t *testing.T) {
	var def map[string]any
	out := printWorker(t, "batch", "--image", "reg/lockstep:1.4", "--table", "ctl")
	if err := json.Unmarshal([]byte(out), &def); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if def["jobDefinitionName"] != "lockstep-worker" || def["type"] != "container" {
		t.Errorf("jobDefinitionName, type = %v, %v", def["jobDefinitionName"], def["type"])
	}
	params, _ := def["parameters"].(map[string]any)
	if _, ok := params["fleet"]; !ok {
		t.Errorf("parameters = %v, want fleet and env", params)
	}
	c, _ := def["containerProperties"].(map[string]any)
	if c["image"] != "reg/lockstep:1.4" {
		t.Errorf("image = %v", c["image"])
	}
	var argv []string
	for _, a := range c["command"].([]any) {
		argv = append(argv, a.(string))
	}
	if want := []string{"lockstep", "worker", "--fleet", "Ref::fleet", "--env", "Ref::env", "--table", "ctl"}; !slices.Equal(argv, want) {
		t.Errorf("command = %q, want %q", argv, want)
	}
	env, _ := c["environment"].([]any)
	for name, want := range map[string]string{"AWS_REGION": "eu-west-1", "LOCKSTEP_FLEET_TABLE": "ctl"} {
		if got, ok := envOf(env, name); !ok || got != want {
			t.Errorf("environment %s = %q (set %v), want %q", name, got, ok, want)
		}
	}
	if len(c["resourceRequirements"].([]any)) != 2 {
		t.Errorf("resourceRequirements = %v, want VCPU and MEMORY", c["resourceRequirements"])
	}
	retry, _ := def["retryStrategy"].(map[string]any)
	rules, _ := retry["evaluateOnExit"].([]any)
	if retry["attempts"] == nil || len(rules) == 0 || rules[0].(map[string]any)["onExitCode"] != "65" || rules[0].(map[string]any)["action"] != "EXIT" {
		t.Errorf("retryStrategy = %v, want attempts and exit 65 not retried first", retry)
	}
}

// TestPrintKubernetesManifest checks the printed Indexed Job.
func TestPrintKubernetesManifest(t *testing.T) {
	out := printWorker(t, "kubernetes", "--image", "reg/lockstep:1.4", "--fleet", "S_01-Fill-1", "--env", "prod", "--workers", "32")
	var job map[string]any
	if err := yaml.Unmarshal([]byte(out), &job); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, out)
	}
	meta := job["metadata"].(map[string]any)
	if job["apiVersion"] != "batch/v1" || job["kind"] != "Job" || meta["name"] != "lockstep-s-01-fill-1" {
		t.Errorf("apiVersion, kind, name = %v, %v, %v", job["apiVersion"], job["kind"], meta["name"])
	}
	spec := job["spec"].(map[string]any)
	if spec["completionMode"] != "Indexed" || spec["completions"] != 32 || spec["parallelism"] != 32 {
		t.Errorf("completionMode, completions, parallelism = %v, %v, %v", spec["completionMode"], spec["completions"], spec["parallelism"])
	}
	if spec["backoffLimitPerIndex"] == nil {
		t.Error("no backoffLimitPerIndex: a worker that exits 75 must be retried")
	}
	rules := spec["podFailurePolicy"].(map[string]any)["rules"].([]any)
	codes := rules[0].(map[string]any)["onExitCodes"].(map[string]any)
	if rules[0].(map[string]any)["action"] != "FailIndex" || codes["values"].([]any)[0] != fleet.ExitDataError {
		t.Errorf("podFailurePolicy rule = %v, want FailIndex on exit 65", rules[0])
	}
	pod := spec["template"].(map[string]any)["spec"].(map[string]any)
	if pod["restartPolicy"] != "Never" {
		t.Errorf("restartPolicy = %v", pod["restartPolicy"])
	}
	c := pod["containers"].([]any)[0].(map[string]any)
	var argv []string
	for _, a := range c["args"].([]any) {
		argv = append(argv, a.(string))
	}
	if want := []string{"worker", "--fleet", "S_01-Fill-1", "--env", "prod", "--table", runbook.DefaultFleetTable}; c["image"] != "reg/lockstep:1.4" || !slices.Equal(argv, want) {
		t.Errorf("image, args = %v, %q; want reg/lockstep:1.4, %q", c["image"], argv, want)
	}
	if got, ok := envOf(c["env"].([]any), "AWS_REGION"); !ok || got != "eu-west-1" {
		t.Errorf("env AWS_REGION = %q", got)
	}
}

func TestK8sNameIsALabel(t *testing.T) {
	long := strings.Repeat("Session-", 20)
	for _, id := range []string{"a", "UP_per.case", long, long + "x"} {
		n := k8sName(id)
		if len(n) > 63 || strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || strings.HasPrefix(n, "-") || strings.HasSuffix(n, "-") {
			t.Errorf("k8sName(%q) = %q, not a DNS-1123 label", id, n)
		}
	}
	if k8sName(long) == k8sName(long+"x") {
		t.Error("two long ids share a name")
	}
}

// recordingBatch records the AWS Batch calls (no Batch server runs in
// tests: the SDK's own guide stubs its client so).
type recordingBatch struct {
	def    *batch.RegisterJobDefinitionInput
	submit *batch.SubmitJobInput
}

func (r *recordingBatch) RegisterJobDefinition(_ context.Context, in *batch.RegisterJobDefinitionInput, _ ...func(*batch.Options)) (*batch.RegisterJobDefinitionOutput, error) {
	r.def = in
	return &batch.RegisterJobDefinitionOutput{JobDefinitionArn: aws.String("arn:def:3")}, nil
}

func (r *recordingBatch) SubmitJob(_ context.Context, in *batch.SubmitJobInput, _ ...func(*batch.Options)) (*batch.SubmitJobOutput, error) {
	r.submit = in
	return &batch.SubmitJobOutput{JobId: aws.String("job-1")}, nil
}

func TestSubmitBatchArrayJob(t *testing.T) {
	var rec recordingBatch
	spec := &runbook.FleetSpec{Workers: 8, Queue: "q", Image: "img", Table: "ctl"}
	id, err := submitBatch(context.Background(), &rec, workerSetup{Image: "img", Table: "ctl", Region: "eu-west-1", Attempts: 3}, spec,
		fleet.Record{ID: "s1-fill-1", Env: "prod"})
	if err != nil || id != "job-1" {
		t.Fatalf("submitBatch() = %q, %v", id, err)
	}
	s := rec.submit
	if aws.ToString(s.JobQueue) != "q" || aws.ToString(s.JobDefinition) != "arn:def:3" || s.ArrayProperties == nil ||
		aws.ToInt32(s.ArrayProperties.Size) != 8 || s.Parameters["fleet"] != "s1-fill-1" || s.Parameters["env"] != "prod" {
		t.Errorf("SubmitJob input = %+v", s)
	}
	if aws.ToString(rec.def.ContainerProperties.Image) != "img" {
		t.Errorf("registered image = %v", rec.def.ContainerProperties.Image)
	}
}
