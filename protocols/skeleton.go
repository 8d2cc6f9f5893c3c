package protocols

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/lockstep-run/lockstep/runbook"
)

var slugRe = regexp.MustCompile(`[^a-z0-9._-]+`)

// Skeleton returns a commented starter runbook for `lockstep protocols new
// NAME`. When name is a built-in protocol the starter is that protocol's
// source under a header saying where it came from; otherwise it is a
// generic starter runbook named after name (lowercased, other characters
// replaced by '-'). Either way it parses.
func Skeleton(name string) []byte {
	if src, err := Source(name); err == nil {
		return withOrigin(name, src)
	}
	return []byte(strings.ReplaceAll(skeleton, "NAME", slug(name)))
}

// SkeletonFrom returns the starter runbook of `lockstep protocols new NAME
// --from PROTOCOL --store KIND`: the protocol's source named NAME, under
// a header recording the protocol it came from (see Origin). A store
// (dynamodb, sqlite or postgres) picks the protocol's variant for that
// store: add-attribute with dynamodb is dynamodb-add-attribute, a
// postgres- protocol is its own postgres variant. Without from, it
// is the generic starter with its local store of that kind. Empty from and
// store give Skeleton(name).
func SkeletonFrom(name, from, store string) ([]byte, error) {
	if store != "" && store != "dynamodb" && store != "sqlite" && store != "postgres" {
		return nil, fmt.Errorf("%w %q: want dynamodb, sqlite or postgres", ErrStore, store)
	}
	if from == "" {
		src := strings.ReplaceAll(skeleton, "NAME", slug(name))
		switch store {
		case "dynamodb":
			src = strings.Replace(src, sqliteLocal, dynamoLocal, 1)
		case "postgres":
			src = strings.Replace(src, sqliteLocal, postgresLocal, 1)
		}
		return []byte(src), nil
	}
	from, err := variant(from, store)
	if err != nil {
		return nil, err
	}
	src, _ := Source(from)
	src = nameRe.ReplaceAll(src, []byte("${1}"+slug(name)))
	return withOrigin(from, src), nil
}

// variant returns the protocol for the store kind: from itself when it
// already targets that store, else its counterpart.
func variant(from, store string) (string, error) {
	rb, err := Get(from)
	if err != nil {
		return "", err
	}
	if store == "" || storeKind(rb) == store {
		return from, nil
	}
	base := strings.TrimPrefix(strings.TrimPrefix(from, "dynamodb-"), "postgres-")
	cand := base
	if store == "dynamodb" || store == "postgres" {
		cand = store + "-" + base
	}
	if rb, err := Get(cand); err == nil && storeKind(rb) == store {
		return cand, nil
	}
	var same []string
	for _, n := range Names() {
		if rb, err := Get(n); err == nil && n != "demo" && storeKind(rb) == store {
			same = append(same, n)
		}
	}
	return "", fmt.Errorf("%w: %s has no %s variant; %s protocols: %s", ErrStore, from, store, store, strings.Join(same, ", "))
}

// storeKind is the store kind of a protocol's first environment.
func storeKind(rb *runbook.Runbook) string {
	for _, e := range rb.Environments {
		if e.Store != nil {
			return e.Store.Kind
		}
	}
	return ""
}

// originPrefix starts the header line naming the protocol a runbook was
// started from.
const originPrefix = "# lockstep-protocol: "

// Origin returns the built-in protocol a runbook's source was started
// from by `protocols new`, or "" when its header names none.
func Origin(src []byte) string {
	for _, line := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(line, "#") {
			return ""
		}
		if p, ok := strings.CutPrefix(line, originPrefix); ok {
			return strings.TrimSpace(p)
		}
	}
	return ""
}

func withOrigin(from string, src []byte) []byte {
	header := fmt.Sprintf("%s%s\n# Started from the built-in protocol %q (lockstep protocols show %s).\n"+
		"# Rename it (name:), adapt the stores and attributes, then: lockstep lint FILE\n", originPrefix, from, from, from)
	return append([]byte(header), src...)
}

var nameRe = regexp.MustCompile(`(?m)^(name:\s*)\S+`)

func slug(name string) string {
	s := strings.Trim(slugRe.ReplaceAllString(strings.ToLower(name), "-"), "-._")
	if s == "" {
		return "my-migration"
	}
	return s
}

const (
	sqliteLocal = `store: {kind: sqlite, path: "${LOCKSTEP_DB}", table: items, key: [id]}`
	dynamoLocal = `store: {kind: dynamodb, table: "${LOCKSTEP_TABLE}", region: "${AWS_REGION}", endpoint: "${DYNAMODB_ENDPOINT}"}`
	// postgresLocal reads the connection string from DATABASE_URL: its
	// password never sits in the runbook, and is redacted in the journal.
	postgresLocal = `store: {kind: postgres, dsn: "${DATABASE_URL}", schema: public, table: items, key: [id]}`
)

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
    # sqlite: path, table, key; dynamodb: table, region (endpoint, profile, key optional);
    # postgres: dsn, table, key (schema optional, default public).
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
