package protocols

import (
	"fmt"
	"regexp"
	"strings"
)

var slugRe = regexp.MustCompile(`[^a-z0-9._-]+`)

// Skeleton returns a commented starter runbook for `lockstep protocols new
// NAME`. When name is a built-in protocol the starter is that protocol's
// source under a header saying where it came from; otherwise it is a
// generic starter runbook named after name (lowercased, other characters
// replaced by '-'). Either way it parses.
func Skeleton(name string) []byte {
	if src, err := Source(name); err == nil {
		header := fmt.Sprintf("# Started from the built-in protocol %q (lockstep protocols show %s).\n"+
			"# Rename it (name:), adapt the stores and attributes, then: lockstep lint FILE\n", name, name)
		return append([]byte(header), src...)
	}
	slug := strings.Trim(slugRe.ReplaceAllString(strings.ToLower(name), "-"), "-._")
	if slug == "" {
		slug = "my-migration"
	}
	return []byte(strings.ReplaceAll(skeleton, "NAME", slug))
}

// skeleton is the generic starter; NAME is replaced by the runbook's name.
const skeleton = `# A lockstep runbook (format 1). Check it with: lockstep lint FILE
# Rehearse it with: lockstep run FILE --env local --mode dry-run
lockstep: 1
name: NAME                      # dataset-unique migration name
title: Describe the migration in one line
version: 2                      # the data version items reach; strictly increasing
strategy: multi-step            # big-bang (backend locked) | multi-step (expand/contract)
roles:                          # RACI: a name or a list of names each
  responsible: [operator]
  accountable: [data-owner]
  informed: ["#data-migrations"]
environments:
  local:
    # sqlite: path, table, key; dynamodb: table, region (endpoint, profile, key optional).
    store: {kind: sqlite, path: "${LOCKSTEP_DB}", table: items, key: [id]}
  # production:
  #   store: {kind: dynamodb, table: items, region: eu-west-1}
  #   protected: true            # typed confirmation, window enforced
  #   window: {days: [tue, wed, thu], from: "22:00", to: "02:00", tz: Europe/Paris}
  #   max_write_rate: 500        # items/s
vars: {}
phases:
  - name: estimate
    steps:
      - id: size
        kind: estimate
        with: {where: "item.v == nil || item.v < 2", sample: 1000, margin: 20%}
  - name: backup
    steps:
      - {id: snapshot, kind: backup}
      - {id: drill, kind: restore-drill, with: {from: snapshot}}
  - name: run
    requires: [backup]
    steps:
      - id: deploy-reader
        kind: manual
        text: Deploy the application version that reads both shapes.
        checklist: [Deployed everywhere, Error rate normal]
      - id: backfill
        kind: migrate
        with:
          where: "item.new_attr == nil"
          set:
            new_attr: '"default"'        # an expr-lang expression over item, vars, env, steps
        rollback: {kind: migrate, with: {remove: [new_attr]}, destructive: true}
  - name: verify
    requires: [run]
    steps:
      - {id: all-done, kind: verify, with: {expect_none: "item.new_attr == nil", sample: 500}}
`
