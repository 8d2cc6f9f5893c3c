// Package pglint holds the lint rules (LS610–LS621) for sql steps that run
// on a PostgreSQL store: the schema changes that lock or rewrite a table,
// and the writes too large for one statement in a protected environment.
// Statements are parsed with PostgreSQL's own parser (libpg_query through
// github.com/pganalyze/pg_query_go/v6/parser, its parse tree read as
// JSON), never matched with regular
// expressions. It lives outside package runbook so that the parser (cgo)
// is linked only into the commands that lint; the caller adds the rules:
//
//	rules := runbook.DefaultRules().With(pglint.Rules()...)
//
// It may import runbook, the parser and the standard library.
package pglint

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/lockstep-run/lockstep/runbook"
)

// stmt is one parsed statement of a sql step that runs on PostgreSQL.
type stmt struct {
	step *runbook.Step
	text string // the statement as written (one entry of statements:)
	node node   // a statement node: {"AlterTableStmt": {…}}
}

// unparsed is an entry of statements: the parser rejected.
type unparsed struct {
	step *runbook.Step
	text string
	err  error
}

// analysis is a runbook's PostgreSQL statements in run order.
type analysis struct {
	rb        *runbook.Runbook
	stmts     []stmt
	bad       []unparsed
	keys      []string // the key columns of the postgres stores
	protected bool     // a protected environment's store is postgres
}

// analyze parses the statements of every sql step that runs on a postgres
// store: no SQLite path: of its own, and an environment whose store kind
// is postgres. A runbook with no such environment has none.
func analyze(rb *runbook.Runbook, ps *parses) *analysis {
	a := &analysis{rb: rb}
	onPG := false
	for _, e := range rb.Environments {
		if e.Store == nil || e.Store.Kind != "postgres" {
			continue
		}
		onPG = true
		a.protected = a.protected || e.Protected
		for _, k := range e.Store.Key {
			if !slices.Contains(a.keys, k) {
				a.keys = append(a.keys, k)
			}
		}
	}
	if !onPG {
		return a
	}
	if len(a.keys) == 0 {
		a.keys = []string{"id"}
	}
	for _, s := range rb.Steps() {
		if s.Kind != runbook.KindSQL || s.SQL == nil || s.SQL.Path != "" {
			continue
		}
		for _, text := range s.SQL.Statements {
			nodes, err := ps.parse(text)
			if err != nil {
				a.bad = append(a.bad, unparsed{step: s, text: text, err: err})
				continue
			}
			for _, n := range nodes {
				a.stmts = append(a.stmts, stmt{step: s, text: text, node: n})
			}
		}
	}
	return a
}

// finding returns a finding on the step of st.
func (st stmt) finding(format string, args ...any) runbook.Finding {
	return runbook.Finding{Pos: st.step.Pos, Step: st.step.ID,
		Msg: fmt.Sprintf("sql step %q: %q: ", st.step.ID, st.text) + fmt.Sprintf(format, args...)}
}

// check turns a per-statement test into a rule's check: each statement
// for which test returns a message is a finding.
func check(ps *parses, test func(a *analysis, i int) []string) func(*runbook.Runbook) []runbook.Finding {
	return func(rb *runbook.Runbook) []runbook.Finding {
		a := analyze(rb, ps)
		var out []runbook.Finding
		for i, st := range a.stmts {
			for _, msg := range test(a, i) {
				out = append(out, st.finding("%s", msg))
			}
		}
		return out
	}
}

// parseErrors is LS610: each statement the parser rejects, with its
// message and the character where it stopped.
func parseErrors(ps *parses) func(*runbook.Runbook) []runbook.Finding {
	return func(rb *runbook.Runbook) []runbook.Finding {
		return unparsable(analyze(rb, ps))
	}
}

// unparsable is LS610's findings in a.
func unparsable(a *analysis) []runbook.Finding {
	var out []runbook.Finding
	for _, u := range a.bad {
		msg := u.err.Error()
		var perr *parser.Error
		if errors.As(u.err, &perr) && perr.Cursorpos > 0 {
			msg = fmt.Sprintf("%s at character %d", perr.Message, perr.Cursorpos)
		}
		out = append(out, runbook.Finding{Pos: u.step.Pos, Step: u.step.ID,
			Msg: fmt.Sprintf("sql step %q: %q does not parse as PostgreSQL: %s", u.step.ID, u.text, msg)})
	}
	return out
}
