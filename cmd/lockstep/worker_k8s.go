package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/runbook"
)

// k8sJob is the part of a Kubernetes batch/v1 Job that lockstep writes.
type k8sJob struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Metadata   k8sMeta `yaml:"metadata"`
	Spec       struct {
		CompletionMode       string `yaml:"completionMode"`
		Completions          int    `yaml:"completions"`
		Parallelism          int    `yaml:"parallelism"`
		BackoffLimitPerIndex int    `yaml:"backoffLimitPerIndex"`
		PodFailurePolicy     struct {
			Rules []k8sFailureRule `yaml:"rules"`
		} `yaml:"podFailurePolicy"`
		Template struct {
			Metadata k8sMeta `yaml:"metadata"`
			Spec     struct {
				RestartPolicy      string         `yaml:"restartPolicy"`
				ServiceAccountName string         `yaml:"serviceAccountName"`
				Containers         []k8sContainer `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type k8sMeta struct {
	Name   string            `yaml:"name,omitempty"`
	Labels map[string]string `yaml:"labels"`
}

type k8sFailureRule struct {
	Action      string `yaml:"action"`
	OnExitCodes struct {
		ContainerName string `yaml:"containerName"`
		Operator      string `yaml:"operator"`
		Values        []int  `yaml:"values"`
	} `yaml:"onExitCodes"`
}

type k8sContainer struct {
	Name  string      `yaml:"name"`
	Image string      `yaml:"image"`
	Args  []string    `yaml:"args"`
	Env   []k8sEnvVar `yaml:"env"`
}

type k8sEnvVar struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

// k8sName is a DNS-1123 label for a fleet's Job: lowercase letters,
// digits and -, at most 63 characters (a hash keeps long ids unique).
func k8sName(id string) string {
	name := strings.Trim(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, "lockstep-"+id), "-")
	if len(name) > 63 {
		sum := sha256.Sum256([]byte(id))
		name = strings.TrimRight(name[:54], "-") + "-" + hex.EncodeToString(sum[:])[:8]
	}
	return name
}

// k8sManifest is the Indexed Job of a fleet's workers: one index per
// worker (Kubernetes sets JOB_COMPLETION_INDEX), each retried on its own
// (backoffLimitPerIndex) unless it exits 65 (podFailurePolicy FailIndex).
func k8sManifest(w workerSetup, workers int, id, env string) ([]byte, error) {
	var j k8sJob
	j.APIVersion, j.Kind = "batch/v1", "Job"
	labels := map[string]string{"app.kubernetes.io/name": "lockstep-worker", "lockstep.run/fleet": k8sName(id)}
	j.Metadata = k8sMeta{Name: k8sName(id), Labels: labels}
	s := &j.Spec
	s.CompletionMode, s.Completions, s.Parallelism, s.BackoffLimitPerIndex = "Indexed", workers, workers, int(w.Attempts)-1
	rule := k8sFailureRule{Action: "FailIndex"}
	rule.OnExitCodes.ContainerName, rule.OnExitCodes.Operator, rule.OnExitCodes.Values = "worker", "In", []int{fleet.ExitDataError}
	s.PodFailurePolicy.Rules = []k8sFailureRule{rule}
	s.Template.Metadata = k8sMeta{Labels: labels}
	s.Template.Spec.RestartPolicy, s.Template.Spec.ServiceAccountName = "Never", "lockstep-worker"
	args := []string{"worker", "--fleet", id, "--env", env, "--table", w.Table}
	if w.Endpoint != "" {
		args = append(args, "--endpoint", w.Endpoint)
	}
	s.Template.Spec.Containers = []k8sContainer{{Name: "worker", Image: w.Image, Args: args,
		Env: []k8sEnvVar{{Name: "AWS_REGION", Value: w.Region}, {Name: "LOCKSTEP_FLEET_TABLE", Value: w.Table}}}}
	return yaml.Marshal(j)
}

// launchKubernetes writes the fleet's Indexed Job manifest next to the
// journal and journals it, for the operator to apply.
func launchKubernetes(sc *engine.StepContext, spec *runbook.FleetSpec, rec fleet.Record, _ []string) (fleet.Workers, error) {
	st, err := fleetStore(sc)
	if err != nil {
		return fleet.Workers{}, err
	}
	w := workerSetup{Image: spec.Image, Table: spec.Table, Region: st.Region, Endpoint: st.Endpoint, Attempts: localRestarts + 1}
	m, err := k8sManifest(w, spec.Workers, rec.ID, rec.Env)
	if err != nil {
		return fleet.Workers{}, fmt.Errorf("kubernetes manifest: %w", err)
	}
	dir := filepath.Join(sc.WorkDir, "fleet", rec.ID)
	path := filepath.Join(dir, "job.yaml")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fleet.Workers{}, fmt.Errorf("kubernetes manifest: %w", err)
	}
	if err := os.WriteFile(path, m, 0o600); err != nil {
		return fleet.Workers{}, fmt.Errorf("kubernetes manifest: %w", err)
	}
	return fleet.Workers{}, sc.EmitOutput(fmt.Sprintf("kubernetes: apply the workers' Indexed Job with `kubectl apply -f %s`:\n%s", path, m))
}
