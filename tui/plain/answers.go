package plain

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lockstep-run/lockstep/runbook"
)

// Errors of the plain front end.
var (
	// ErrBadAnswers classifies every problem with an answers file: it is
	// wrapped by AnswerErrors and *AnswerError, so the CLI maps it to exit 2.
	ErrBadAnswers = errors.New("bad answers file")
	// ErrStepFailed answers the failed-step prompt when the answers file
	// says neither retry, skip nor abort: the session ends as failed
	// (exit 1), not as a missing answer (exit 2) — no answer was needed
	// until the step failed — and not as aborted, so it can be resumed
	// once the file says what to do.
	ErrStepFailed = errors.New("no retry or skip answer for failed step")
)

// AnswerError is one problem in an answers file, at file:line:col.
type AnswerError struct {
	File string
	Line int
	Col  int
	Msg  string
	Hint string
}

// Error renders the problem as `file:line:col: msg (hint)`.
func (e *AnswerError) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Unwrap makes errors.Is(err, ErrBadAnswers) true.
func (e *AnswerError) Unwrap() error { return ErrBadAnswers }

// AnswerErrors is every problem found in an answers file, in file order.
type AnswerErrors []*AnswerError

// Error renders one problem per line.
func (es AnswerErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, ErrBadAnswers) true.
func (es AnswerErrors) Is(target error) bool { return target == ErrBadAnswers }

// stepKeys are the keys a step's answers may hold.
var stepKeys = []string{"choice", "reason", "approve", "check", "skip", "confirm", "retry", "done", "abort", "note", "run"}

// Answers is a parsed answers file: YAML keyed by step id, plus the
// top-level confirm_env.
//
//	confirm_env: production
//	deploy-reader: {check: all}            # or check: [1, "Error rate normal"] (1-based)
//	strategy:      {choice: multi-step, reason: "no downtime allowed"}
//	go-no-go:      {approve: bob, reason: "window agreed with support"}
//	drop-address:  {confirm: true}
//	optional-step: {skip: "not needed in staging"}
//	backfill:      {retry: true}           # or {done: "…"} / {skip: "…"} / {abort: true}
//	snapshot:      {run: true}             # run --step: run it (or {skip: "…"})
type Answers struct {
	File       string
	ConfirmEnv string
	confirmPos position
	// RehearsalDrift is the top-level `rehearsal_drift: "reason"`: why a
	// protected environment runs a runbook that differs from its rehearsal.
	RehearsalDrift string
	// Unrehearsed is the top-level `unrehearsed: "reason"`: why a
	// protected environment runs a runbook that no registry holds a
	// completed rehearsal of.
	Unrehearsed string
	// VersionRegression is the top-level `version_regression: "reason"`:
	// why a live run goes ahead with a version lower than the highest the
	// environment's registry holds completed.
	VersionRegression string
	// OutsideWindow is the top-level `outside_window: "reason"`: why a
	// protected session resumes while its change window is closed.
	OutsideWindow string
	// ExtendWindow is the top-level `extend_window: "reason"`: why a
	// migration keeps going after its protected environment's change
	// window closed while it ran. Without it the migration stops there,
	// resumably.
	ExtendWindow string
	Steps        map[string]*StepAnswers
}

// StepAnswers are the answers given for one step. Fields are zero when the
// key is absent; Has reports presence.
type StepAnswers struct {
	Step     string
	Choice   string
	Reason   string
	Approve  string
	CheckAll bool
	Check    []CheckItem
	Skip     string
	Confirm  bool
	Retry    bool
	Done     string
	Abort    bool
	Note     string              // journaled as the operator's note when the step starts
	Run      bool                // run --step: run the automated step (a skip is Skip)
	pos      map[string]position // key → position of its value
	stepPos  position
	fileName string
}

// CheckItem names one checklist item to tick: by 1-based position (Index)
// or by its text (Text).
type CheckItem struct {
	Index int
	Text  string
}

type position struct{ line, col int }

// Has reports whether key was given for the step.
func (s *StepAnswers) Has(key string) bool {
	if s == nil {
		return false
	}
	_, ok := s.pos[key]
	return ok
}

// errAt builds an AnswerError at the position of key (the step's own
// position when the key is absent).
func (s *StepAnswers) errAt(key, hint, format string, args ...any) *AnswerError {
	p, ok := s.pos[key]
	if !ok {
		p = s.stepPos
	}
	return &AnswerError{File: s.fileName, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// LoadAnswers reads and validates the answers file at path. Problems are
// reported together as AnswerErrors, each at file:line:col.
func LoadAnswers(path string) (*Answers, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w (check the --answers path)", ErrBadAnswers, err)
	}
	return ParseAnswers(path, src)
}

// ParseAnswers parses an answers file; path is used in positions.
func ParseAnswers(path string, src []byte) (*Answers, error) {
	p := &answersParser{file: path}
	a := &Answers{File: path, Steps: map[string]*StepAnswers{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		line, msg := runbook.YAMLSyntaxLine(err)
		return nil, AnswerErrors{{File: path, Line: line, Col: 1, Msg: msg, Hint: runbook.YAMLSyntaxHint}}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return a, nil // empty file: no answers
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "write `step-id: {key: value}` lines", "answers file must be a mapping keyed by step id")
		return nil, p.errs
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value == "confirm_env" {
			if a.ConfirmEnv != "" {
				p.errorf(k, "keep one confirm_env", "confirm_env given twice")
				continue
			}
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				p.errorf(v, "confirm_env: production", "confirm_env must be the environment name")
				continue
			}
			a.ConfirmEnv, a.confirmPos = v.Value, position{v.Line, v.Column}
			continue
		}
		if r, ok := topReasons[k.Value]; ok {
			if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
				p.errorf(v, r.example, "%s must be the reason for %s", k.Value, r.what)
				continue
			}
			*r.field(a) = v.Value
			continue
		}
		if _, dup := a.Steps[k.Value]; dup {
			p.errorf(k, "merge the two entries", "step %q answered twice", k.Value)
			continue
		}
		if s := p.step(k, v); s != nil {
			a.Steps[k.Value] = s
		}
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return a, nil
}

// topReasons are the top-level keys that answer a session-wide reason
// prompt (engine.PromptReason with that Key).
var topReasons = map[string]struct {
	example, what string
	field         func(*Answers) *string
}{
	"rehearsal_drift": {`rehearsal_drift: "reviewed: only comments changed"`,
		"running a runbook that differs from its rehearsal", func(a *Answers) *string { return &a.RehearsalDrift }},
	"unrehearsed": {`unrehearsed: "hotfix; rehearsed by hand on a copy"`,
		"running a runbook no environment's registry holds a completed rehearsal of", func(a *Answers) *string { return &a.Unrehearsed }},
	"version_regression": {`version_regression: "re-applying v3 after restoring the v3 backup"`,
		"running a version lower than the highest completed live there", func(a *Answers) *string { return &a.VersionRegression }},
	"outside_window": {`outside_window: "finish the migration stopped at 01:58"`,
		"resuming a protected session outside its change window", func(a *Answers) *string { return &a.OutsideWindow }},
	"extend_window": {`extend_window: "backfill nearly done, support agreed"`,
		"migrating past the change window's end", func(a *Answers) *string { return &a.ExtendWindow }},
}

type answersParser struct {
	file string
	errs AnswerErrors
}

func (p *answersParser) errorf(n *yaml.Node, hint, format string, args ...any) {
	p.errs = append(p.errs, &AnswerError{File: p.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// step decodes one step's answers mapping.
func (p *answersParser) step(k, v *yaml.Node) *StepAnswers {
	s := &StepAnswers{Step: k.Value, pos: map[string]position{}, stepPos: position{k.Line, k.Column}, fileName: p.file}
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "e.g. "+k.Value+": {check: all}", "answers for step %q must be a mapping", k.Value)
		return nil
	}
	before := len(p.errs)
	for i := 0; i+1 < len(v.Content); i += 2 {
		key, val := v.Content[i], v.Content[i+1]
		if _, dup := s.pos[key.Value]; dup {
			p.errorf(key, "keep one", "%s.%s given twice", k.Value, key.Value)
			continue
		}
		s.pos[key.Value] = position{val.Line, val.Column}
		p.field(s, key, val)
	}
	p.combos(s, v)
	if len(p.errs) > before {
		return nil
	}
	return s
}

// field decodes one key of a step's answers.
func (p *answersParser) field(s *StepAnswers, key, val *yaml.Node) {
	name := s.Step + "." + key.Value
	switch key.Value {
	case "choice", "reason", "approve", "skip", "done", "note":
		if val.Kind != yaml.ScalarNode || val.Tag == "!!null" || strings.TrimSpace(val.Value) == "" {
			p.errorf(val, `write it as a quoted string`, "%s must be a non-empty string", name)
			return
		}
		switch key.Value {
		case "choice":
			s.Choice = val.Value
		case "reason":
			s.Reason = val.Value
		case "approve":
			s.Approve = val.Value
		case "skip":
			s.Skip = val.Value
		case "done":
			s.Done = val.Value
		case "note":
			s.Note = val.Value
		}
	case "run":
		b, ok := boolean(val)
		if !ok || !b {
			p.errorf(val, `run: true, or skip: "reason" to skip the step`, "%s must be true, not %q", name, val.Value)
			return
		}
		s.Run = true
	case "confirm", "retry", "abort":
		b, ok := boolean(val)
		if !ok {
			p.errorf(val, key.Value+": true", "%s must be true or false, not %q", name, val.Value)
			return
		}
		switch key.Value {
		case "confirm":
			s.Confirm = b
		case "retry":
			s.Retry = b
		case "abort":
			s.Abort = b
		}
	case "check":
		p.check(s, name, val)
	default:
		hint := "known keys: " + strings.Join(stepKeys, ", ")
		if sug := suggest(key.Value, stepKeys); sug != "" {
			hint = "did you mean " + sug + "?"
		}
		p.errorf(key, hint, "unknown key %q in answers for step %q", key.Value, s.Step)
	}
}

// check decodes `check: all` or a list of 1-based positions / item texts.
func (p *answersParser) check(s *StepAnswers, name string, val *yaml.Node) {
	if val.Kind == yaml.ScalarNode && val.Value == "all" {
		s.CheckAll = true
		return
	}
	if val.Kind != yaml.SequenceNode {
		p.errorf(val, `check: all, or check: [1, "item text"]`, "%s must be `all` or a list of items", name)
		return
	}
	for _, it := range val.Content {
		if it.Kind != yaml.ScalarNode {
			p.errorf(it, "use a 1-based number or the item's text", "%s: list entries must be numbers or strings", name)
			continue
		}
		if it.Tag == "!!int" {
			n, err := strconv.Atoi(it.Value)
			if err != nil || n < 1 {
				p.errorf(it, "checklist items are numbered from 1", "%s: bad item number %s", name, it.Value)
				continue
			}
			s.Check = append(s.Check, CheckItem{Index: n})
			continue
		}
		s.Check = append(s.Check, CheckItem{Text: it.Value})
	}
}

// combos rejects answers that contradict each other.
func (p *answersParser) combos(s *StepAnswers, v *yaml.Node) {
	var actions []string
	for _, k := range []string{"retry", "done", "skip", "abort"} {
		if s.Has(k) {
			actions = append(actions, k)
		}
	}
	if len(actions) > 1 {
		e := s.errAt(actions[1], "keep one of them", "%s: %s and %s contradict each other", s.Step, actions[0], actions[1])
		p.errs = append(p.errs, e)
	}
	if s.Has("run") && s.Has("skip") {
		p.errs = append(p.errs, s.errAt("skip", "keep one of them", "%s: run and skip contradict each other", s.Step))
	}
	if s.Has("choice") && !s.Has("reason") {
		p.errs = append(p.errs, s.errAt("choice", `add reason: "why"`, "%s: a decision needs a reason", s.Step))
	}
	if s.Has("approve") && !s.Has("reason") {
		p.errs = append(p.errs, s.errAt("approve", `add reason: "why"`, "%s: an approval needs a reason", s.Step))
	}
}

// boolean reads a YAML boolean scalar.
func boolean(n *yaml.Node) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, false
	}
	switch strings.ToLower(n.Value) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	return false, false
}

// ValidateSteps reports answers for steps the runbook does not have (ids
// lists the runbook's step ids), with a "did you mean" hint.
func (a *Answers) ValidateSteps(ids []string) error {
	if a == nil {
		return nil
	}
	known := map[string]bool{}
	for _, id := range ids {
		known[id] = true
	}
	var errs AnswerErrors
	for id, s := range a.Steps {
		if known[id] {
			continue
		}
		hint := "the runbook has no such step"
		if sug := suggest(id, ids); sug != "" {
			hint = "did you mean " + sug + "?"
		}
		errs = append(errs, &AnswerError{File: a.File, Line: s.stepPos.line, Col: s.stepPos.col,
			Msg: fmt.Sprintf("answers given for unknown step %q", id), Hint: hint})
	}
	if len(errs) == 0 {
		return nil
	}
	sort.Slice(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Col < errs[j].Col
	})
	return errs
}

// suggest returns the candidate closest to word when it is close enough.
func suggest(word string, candidates []string) string {
	best, bestD := "", len(word)/2+2
	for _, c := range candidates {
		if d := distance(word, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
