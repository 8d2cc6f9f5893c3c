package pglint

import "sync"

// parses memoises parse by statement text for the rules of one table.
// Each of the twelve rules analyses the runbook it checks, and parsing
// (libpg_query through cgo, its tree decoded from JSON) was most of a
// PostgreSQL runbook's lint time when every rule parsed every statement
// again (issue 17). A parse depends on the text alone and the rules only
// read the nodes, so sharing them cannot change a finding. Safe for
// concurrent use, as a rule table is.
type parses struct {
	parser func(string) ([]node, error) // parse, or a test's counter around it
	mu     sync.Mutex
	done   map[string]parsed
}

// parsed is the result of parse for one statement text.
type parsed struct {
	nodes []node
	err   error
}

func newParses() *parses { return &parses{parser: parse, done: map[string]parsed{}} }

// parse returns parse(sql), parsing each text once.
func (ps *parses) parse(sql string) ([]node, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.done[sql]
	if !ok {
		p.nodes, p.err = ps.parser(sql)
		ps.done[sql] = p
	}
	return p.nodes, p.err
}
