#!/usr/bin/env bash
# make check: formatting, vet, go.mod drift and the dependency-direction rule
# of DESIGN.md ("runbook ← engine ← tui ← cmd").
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0

unformatted=$(gofmt -l $(git ls-files --cached --others --exclude-standard '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; fail=1; fi

go vet ./... || fail=1

cp go.mod /tmp/lockstep-go.mod.$$; cp go.sum /tmp/lockstep-go.sum.$$
go mod tidy
if ! diff -q go.mod /tmp/lockstep-go.mod.$$ >/dev/null || ! diff -q go.sum /tmp/lockstep-go.sum.$$ >/dev/null; then
	echo "go mod tidy changed go.mod/go.sum: commit the tidied files"; fail=1
fi
rm -f /tmp/lockstep-go.mod.$$ /tmp/lockstep-go.sum.$$

mod=github.com/lockstep-run/lockstep
# forbid PKG PATTERN WHY [ALLOW]: no dependency of PKG matches PATTERN,
# except those matching ALLOW.
forbid() {
	local pkg=$1 pattern=$2 why=$3 allow=${4:-^$}
	local bad
	bad=$(go list -deps "$pkg" 2>/dev/null | grep -E "$pattern" | grep -vE "$allow" || true)
	if [ -n "$bad" ]; then
		echo "dependency rule: $pkg imports $(echo $bad | tr '\n' ' ')— $why"; fail=1
	fi
}
ui='charm.land/|charmbracelet/|github.com/spf13/cobra'
drivers='aws-sdk-go-v2|aws/smithy-go|mattn/go-sqlite3'
forbid ./runbook/... "$ui|$drivers|$mod/(engine|tui|cmd|protocols)" "runbook is stdlib + yaml + expr only"
# The PostgreSQL parser (cgo, libpg_query) stays in runbook/pglint, which
# cmd adds to the rule table: package runbook itself never links it.
forbid ./runbook "pganalyze|google.golang.org/protobuf" "runbook leaves the PostgreSQL parser to runbook/pglint"
# pglint reads libpg_query's parse tree as JSON: the protobuf runtime and
# pg_query_go's descriptors initialised at every start of every command
# (issue 17, fast start).
forbid ./cmd/lockstep "google.golang.org/protobuf" "lockstep links no protobuf runtime: read libpg_query's JSON parse tree (runbook/pglint/node.go)"
# runbook/sqlexpr translates expressions into SQL text for the stores'
# pushdown: expr-lang's parser and runbook only, no driver.
forbid ./runbook/sqlexpr "$ui|$drivers|$mod/(engine|tui|cmd|protocols|internal)(/|$)" "runbook/sqlexpr renders SQL text, it runs none"
forbid ./protocols "$ui|$drivers|$mod/(engine|tui|cmd)" "protocols depends on runbook only"
# engine imports no subpackage of its own: they import it (steps,
# migrate, timeline, fleet, stores, journal), and cmd wires them in.
forbid ./engine "$ui|$drivers|$mod/(tui|cmd|engine/)" "the engine is free of UI and drivers"
# engine/throttle paces writes (rate and in-flight limits): pure, it
# imports nothing of this module, so engine and the step kinds share it.
forbid ./engine/throttle "$ui|$drivers|$mod/" "engine/throttle is pure: nothing of this module" "^$mod/engine/throttle\$"
for p in engine/journal engine/store/dynamo engine/store/sqlite engine/store/postgres internal/pgtest engine/store/storetest engine/store/storetest/pushdowntest engine/notify/sns internal/awsconf; do
	[ -d "$p" ] && forbid ./$p "$ui|$mod/(tui|cmd)" "stores, the journal and notify drivers implement engine ports only"
done
# engine/integration is tests only (real dynalite, long runs): its rule
# is on what its tests import — engine's exported API, stores, journal,
# internal/dynalite; no UI, tui or cmd.
bad=$(go list -deps -test ./engine/integration 2>/dev/null | grep -E "$ui|$mod/(tui|cmd)(/|$)" || true)
if [ -n "$bad" ]; then
	echo "dependency rule: ./engine/integration tests import $(echo $bad | tr '\n' ' ')— they use engine's API, no UI"; fail=1
fi
# engine/timeline builds reports from []engine.Event alone: of this module it
# may use engine and runbook only (so no tui, cmd, store, journal or notify
# driver), and, like engine, no UI library or driver. engine never imports
# it: the ./engine rule above forbids every engine/ subpackage.
forbid ./engine/timeline "$ui|$drivers|$mod/(tui|cmd|protocols|internal)(/|$)|$mod/engine/(store|journal|notify|steps|fleet|migrate|throttle)(/|$)" \
	"engine/timeline reads events only: engine and runbook, no UI, store, journal or driver"
# engine/timeline/htmlreport renders the HTML report from events: of this
# module, engine and engine/timeline (and runbook through engine) only;
# no UI library or driver.
forbid ./engine/timeline/htmlreport "$ui|$drivers|$mod/(tui|cmd|protocols|internal)(/|$)|$mod/engine/(store|journal|notify|steps|fleet|migrate|throttle)(/|$)" \
	"engine/timeline/htmlreport reads events only: engine and engine/timeline, no UI, store, journal or driver"
# engine/migrate runs the migrate and estimate kinds (and the data-step
# helpers: scans, item expressions, the restore's migration plan): engine,
# runbook and engine/throttle of this module, no UI library or driver.
# engine never imports it; engine/steps registers its kinds in Default,
# engine/fleet runs its segments.
forbid ./engine/migrate "$ui|$drivers|$mod/(tui|cmd|protocols|internal)(/|$)|$mod/engine/(store|journal|notify|timeline|steps|fleet)(/|$)" \
	"engine/migrate runs through engine's ports: engine, runbook and engine/throttle, no UI, store, journal or driver"
# engine/steps holds the built-in step kinds' executors: it reaches the
# session through engine.StepContext and the stores through engine's ports,
# so of this module it may use engine, engine/migrate (the migrate kinds,
# data-step helpers), engine/throttle and runbook only, and no UI library
# or driver. engine never imports it (the ./engine rule above), so cmd passes
# steps.Default() in engine.Config.Steps.
forbid ./engine/steps/... "$ui|$drivers|$mod/(tui|cmd|protocols|internal)(/|$)|$mod/engine/(store|journal|notify|timeline|fleet)(/|$)" \
	"engine/steps runs steps through engine's ports: engine, engine/migrate, engine/throttle and runbook, no UI, store, journal or driver"
# engine/fleet is the control-table protocol of fleet workers: engine,
# engine/migrate (a worker runs a migrate segment) and
# runbook through a Control port; stores implement it, cmd wires them in.
forbid ./engine/fleet/... "$ui|$drivers|$mod/(tui|cmd|protocols|internal)(/|$)|$mod/engine/(store|journal|notify|timeline|steps)(/|$)" \
	"engine/fleet works through its Control port: engine and runbook, no UI, store, journal or driver"
# engine/enginetest (the fake clock, Main) imports the standard library
# only, so engine's internal tests can use it; engine/enginetest/rig, the
# data-step rig of the engine, migrate and integration tests, runs real
# steps on a real journal and SQLite store: no UI, tui or cmd.
forbid ./engine/enginetest "$mod/|$ui|$drivers" "engine/enginetest is the standard library only: engine's internal tests import it" "^$mod/engine/enginetest\$"
forbid ./engine/enginetest/rig "$ui|$mod/(tui|cmd|protocols)(/|$)" "engine/enginetest/rig runs engine's steps on real stores, no UI"
forbid ./tui/... "$drivers|$mod/(engine/store|engine/journal|cmd)" "tui never imports a store, the journal driver or the AWS SDK"
# Go runs every linked package's initialisation on every command: the
# chroma highlighter and bluemonday cost ~10 ms before `lockstep version`
# prints (issue #17); third_party/glamour renders Markdown without them,
# and strips HTML with its own copy of x/net/html's tokenizer (x/net/html's
# entity maps are built in initialisation).
forbid ./cmd/lockstep "alecthomas/chroma|microcosm-cc/bluemonday|golang.org/x/net/html" "heavy package initialisation on every command"
# third_party/forktest is tests only: the forks' output as lockstep links
# them, through glamour's API; nothing else of this module.
bad=$(go list -deps -test ./third_party/forktest 2>/dev/null | grep -E "^$mod/" | grep -vE "^$mod/third_party/forktest( |\.test|$)" || true)
if [ -n "$bad" ]; then
	echo "dependency rule: ./third_party/forktest tests import $(echo $bad | tr '\n' ' ')— they test the forks alone"; fail=1
fi

if [ $fail -ne 0 ]; then exit 1; fi
echo "check: ok"
