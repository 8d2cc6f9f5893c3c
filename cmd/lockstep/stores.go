package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/engine/store/postgres"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
)

// openStore is the engine.StoreOpener that wires the concrete stores in by
// spec.Kind; a sqlite spec that names no table (a sql step's `path:`)
// opens the database for SQL only. ${VAR} references still in the spec
// are expanded with getenv.
func openStore(getenv func(string) string) engine.StoreOpener {
	return func(ctx context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
		if spec == nil {
			return nil, fmt.Errorf("open store: %w", engine.ErrNoStore)
		}
		if hasRefs(spec) {
			exp, err := spec.Expanded(getenv)
			if err != nil {
				return nil, fmt.Errorf("open store: %w", err)
			}
			spec = exp
		}
		switch spec.Kind {
		case "sqlite":
			if spec.Table == "" {
				// A sql step's `path:`: the database for SQL only.
				db, err := sqlite.OpenSQL(spec.Path)
				if err != nil {
					return nil, err
				}
				return db, nil
			}
			s, err := sqlite.Open(spec)
			if err != nil {
				return nil, err
			}
			return s, nil
		case "dynamodb":
			return openDynamo(ctx, spec)
		case "postgres":
			// A sql step in a postgres environment runs on this store
			// (engine.SQLExecer); errors never show the DSN's password.
			s, err := postgres.Open(ctx, spec)
			if err != nil {
				return nil, err
			}
			return s, nil
		}
		return nil, fmt.Errorf("open store at %s: unknown store kind %q (want sqlite, dynamodb or postgres)", spec.Pos, spec.Kind)
	}
}

// hasRefs reports whether a string field of spec still holds a ${VAR}.
func hasRefs(spec *runbook.StoreSpec) bool {
	for _, s := range []string{spec.Kind, spec.Table, spec.Region, spec.Endpoint, spec.Profile, spec.Path, spec.VersionAttribute, spec.DSN, spec.Schema, spec.RegistryTable} {
		if strings.Contains(s, "${") {
			return true
		}
	}
	return false
}

// openDynamo opens a DynamoDB store through the AWS SDK's default
// configuration (environment, profiles, SSO), spec.Endpoint when set.
func openDynamo(ctx context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
	s, err := dynamo.Open(ctx, spec)
	if err != nil {
		return nil, err
	}
	return s, nil
}
