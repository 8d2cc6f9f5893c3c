package runbook

import (
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// Fleet launchers: how a fleet step's workers are started.
const (
	LauncherLocal      = "local"      // child processes of the session
	LauncherBatch      = "batch"      // an AWS Batch array job
	LauncherKubernetes = "kubernetes" // a Kubernetes Indexed Job
)

// Fleet defaults.
const (
	DefaultFleetSegments = 64
	DefaultFleetWorkers  = 4
	DefaultFleetLease    = 60 * time.Second
	DefaultFleetTable    = "lockstep-fleet"
)

var (
	// Launchers are the values of a fleet's `launcher:`.
	Launchers = []string{LauncherLocal, LauncherBatch, LauncherKubernetes}
	fleetKeys = []string{"segments", "workers", "launcher", "lease", "table", "image", "queue"}
)

// FleetSpec runs a DynamoDB migrate step on many worker processes that
// claim scan segments in a control table (docs/fleet.md). It is set on an
// environment (every migrate step there) or on one migrate step.
type FleetSpec struct {
	Pos      Pos
	Segments int           // scan segments, one control row each
	Workers  int           // worker processes the launcher starts
	Launcher string        // local | batch | kubernetes
	Lease    time.Duration // how long a claim lives without renewal
	Table    string        // the DynamoDB control table
	Image    string        // the container image (batch, kubernetes)
	Queue    string        // the AWS Batch job queue (batch)
}

// fleet decodes a `fleet:` mapping and applies its defaults.
func (d *decoder) fleet(n *yaml.Node, what string) *FleetSpec {
	fs := &FleetSpec{Pos: d.pos(n), Segments: DefaultFleetSegments, Workers: DefaultFleetWorkers,
		Launcher: LauncherLocal, Lease: DefaultFleetLease, Table: DefaultFleetTable}
	what += " fleet"
	f, ok := d.mapping(n, what, fleetKeys)
	if !ok {
		return fs
	}
	if v := f.get("segments"); v != nil {
		fs.Segments = d.integer(v, "fleet segments", 1)
	}
	if v := f.get("workers"); v != nil {
		fs.Workers = d.integer(v, "fleet workers", 1)
	}
	if v := f.get("launcher"); v != nil {
		fs.Launcher = d.str(v, "fleet launcher")
		if !slices.Contains(Launchers, fs.Launcher) {
			d.errorf(v, orElse(didYouMean(fs.Launcher, Launchers), "local, batch or kubernetes"), "unknown fleet launcher %q", fs.Launcher)
		}
	}
	if v := f.get("lease"); v != nil {
		fs.Lease = d.duration(v, "fleet lease")
	}
	for key, dst := range map[string]*string{"table": &fs.Table, "image": &fs.Image, "queue": &fs.Queue} {
		if v := f.get(key); v != nil {
			*dst = d.nonEmpty(v, "fleet "+key)
			d.checkRefs(v, *dst)
		}
	}
	if fs.Workers > fs.Segments && fs.Segments > 0 {
		d.errorf(n, "a worker runs one segment at a time: give at least as many segments as workers",
			"%s: %d workers for %d segments", what, fs.Workers, fs.Segments)
	}
	if fs.Launcher == LauncherBatch && fs.Queue == "" {
		d.errorf(n, "queue: NAME (the AWS Batch job queue)", "%s: launcher batch needs a queue", what)
	}
	if (fs.Launcher == LauncherBatch || fs.Launcher == LauncherKubernetes) && fs.Image == "" {
		d.errorf(n, "image: REGISTRY/lockstep:TAG (an image with the lockstep binary)", "%s: launcher %s needs an image", what, fs.Launcher)
	}
	return fs
}

// FleetOf returns the fleet a migrate step runs on in env: the step's own
// `fleet:`, else the environment's, else nil (the session runs it).
func FleetOf(s *Step, env *Environment) *FleetSpec {
	if s == nil || s.Kind != KindMigrate || s.Migrate == nil || s.Migrate.Copy() {
		return nil // a copy runs in the session
	}
	if s.Migrate.Fleet != nil {
		return s.Migrate.Fleet
	}
	if env != nil {
		return env.Fleet
	}
	return nil
}
