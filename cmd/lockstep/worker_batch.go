package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/internal/awsconf"
	"github.com/lockstep-run/lockstep/runbook"
)

// batchJobDefinitionName is the job definition the session registers
// (a new revision each time) and submits fleets' array jobs with.
const batchJobDefinitionName = "lockstep-worker"

// workerSetup is what a printed job definition or manifest needs: the
// worker's image, the control table, and the fleet's region.
type workerSetup struct {
	Image    string
	Table    string
	Region   string
	Endpoint string
	Attempts int32 // runs of each worker (Batch retry attempts, a Job's backoff per index)
}

// batchJobDefinition is the AWS Batch job definition of lockstep
// workers: the fleet id and environment are job parameters (Ref::fleet,
// Ref::env) given by SubmitJob; Batch sets AWS_BATCH_JOB_ARRAY_INDEX in
// each child of the array job. A worker that exits 65 is not retried;
// 75 or a lost host is.
func batchJobDefinition(w workerSetup) *batch.RegisterJobDefinitionInput {
	args := []string{"lockstep", "worker", "--fleet", "Ref::fleet", "--env", "Ref::env", "--table", w.Table}
	if w.Endpoint != "" {
		args = append(args, "--endpoint", w.Endpoint)
	}
	return &batch.RegisterJobDefinitionInput{
		JobDefinitionName: aws.String(batchJobDefinitionName),
		Type:              types.JobDefinitionTypeContainer,
		Parameters:        map[string]string{"fleet": "", "env": ""},
		ContainerProperties: &types.ContainerProperties{
			Image:   aws.String(w.Image),
			Command: args,
			Environment: []types.KeyValuePair{
				{Name: aws.String("AWS_REGION"), Value: aws.String(w.Region)},
				{Name: aws.String("LOCKSTEP_FLEET_TABLE"), Value: aws.String(w.Table)},
			},
			ResourceRequirements: []types.ResourceRequirement{
				{Type: types.ResourceTypeVcpu, Value: aws.String("1")},
				{Type: types.ResourceTypeMemory, Value: aws.String("2048")},
			},
		},
		RetryStrategy: &types.RetryStrategy{Attempts: aws.Int32(w.Attempts), EvaluateOnExit: []types.EvaluateOnExit{
			{OnExitCode: aws.String("65"), Action: types.RetryActionExit},
			{OnReason: aws.String("*"), Action: types.RetryActionRetry},
		}},
	}
}

// cliJSON writes an AWS SDK input as the AWS CLI's --cli-input-json
// reads it: the API's member names in lowerCamelCase, unset members
// left out.
func cliJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	err = enc.Encode(camel(tree))
	return b.Bytes(), err
}

func camel(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			if x = camel(x); x == nil {
				continue
			}
			r := []rune(k)
			r[0] = unicode.ToLower(r[0])
			out[string(r)] = x
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		if len(t) == 0 {
			return nil
		}
		for i := range t {
			t[i] = camel(t[i])
		}
	}
	return v
}

// batchJobName is a fleet's array job name: letters, digits, - and _, at
// most 128 characters.
func batchJobName(id string) string {
	name := strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
			return r
		}
		return '-'
	}, "lockstep-"+id)
	return name[:min(len(name), 128)]
}

// batchAPI is the part of the AWS Batch client the launcher uses.
type batchAPI interface {
	RegisterJobDefinition(context.Context, *batch.RegisterJobDefinitionInput, ...func(*batch.Options)) (*batch.RegisterJobDefinitionOutput, error)
	SubmitJob(context.Context, *batch.SubmitJobInput, ...func(*batch.Options)) (*batch.SubmitJobOutput, error)
}

// launchBatch registers the worker job definition and submits the
// fleet's array job (one child per worker) to the fleet's queue.
func launchBatch(ctx context.Context, sc *engine.StepContext, spec *runbook.FleetSpec, rec fleet.Record, _ []string) (fleet.Workers, error) {
	st, err := fleetStore(sc)
	if err != nil {
		return fleet.Workers{}, err
	}
	cfg, err := awsconf.Load(ctx, awsconf.Options{Region: st.Region, Profile: st.Profile})
	if err != nil {
		return fleet.Workers{}, fmt.Errorf("aws batch: %w", err)
	}
	w := workerSetup{Image: spec.Image, Table: spec.Table, Region: st.Region, Endpoint: st.Endpoint, Attempts: localRestarts + 1}
	id, err := submitBatch(ctx, batch.NewFromConfig(cfg), w, spec, rec)
	if err != nil {
		return fleet.Workers{}, err
	}
	return fleet.Workers{}, sc.EmitOutput(fmt.Sprintf("aws batch: array job %s (%d workers) submitted to queue %s", id, spec.Workers, spec.Queue))
}

// submitBatch registers the job definition and submits the array job;
// it returns the job id.
func submitBatch(ctx context.Context, api batchAPI, w workerSetup, spec *runbook.FleetSpec, rec fleet.Record) (string, error) {
	def, err := api.RegisterJobDefinition(ctx, batchJobDefinition(w))
	if err != nil {
		return "", fmt.Errorf("aws batch: register job definition: %w", err)
	}
	in := &batch.SubmitJobInput{JobName: aws.String(batchJobName(rec.ID)), JobQueue: aws.String(spec.Queue),
		JobDefinition: def.JobDefinitionArn, Parameters: map[string]string{"fleet": rec.ID, "env": rec.Env}}
	if spec.Workers > 1 { // an array job has at least 2 children
		in.ArrayProperties = &types.ArrayProperties{Size: aws.Int32(int32(spec.Workers))}
	}
	out, err := api.SubmitJob(ctx, in)
	if err != nil {
		return "", fmt.Errorf("aws batch: submit job: %w", err)
	}
	return aws.ToString(out.JobId), nil
}
