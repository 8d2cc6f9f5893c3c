package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// Session is one run of one runbook against one environment in one mode,
// by one operator. Build it with Start or Resume, drive it with Run, steer
// it with Control and watch it with State (or Config.Observer).
type Session struct {
	cfg      Config
	rb       *runbook.Runbook
	env      *runbook.Environment
	info     SessionInfo
	vars     map[string]string
	redactor *Redactor
	running  atomic.Bool

	emitMu sync.Mutex // serializes journal appends and observer calls

	mu    sync.Mutex // guards state and ctl
	state *State
	ctl   controlState

	storeMu sync.Mutex
	store   Store
	opened  []Store

	win windowHold // the change window, checked at page boundaries

	leases *Leases // the migration leases held; heartbeats bound to Run's ctx

	// rehearsal is, in a protected environment, the newest completed
	// rehearsal of the same SHA-256 some environment's registry holds.
	rehearsal RegistryRecord
}

// ID returns the session id.
func (s *Session) ID() string { return s.info.ID }

// Info returns the session row as it was when the session was started or resumed.
func (s *Session) Info() SessionInfo { return s.info }

// Runbook returns the runbook the session runs.
func (s *Session) Runbook() *runbook.Runbook { return s.rb }

// State returns a copy of the session's state, safe to call from any goroutine.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.clone()
}

// Start validates cfg, asks a protected environment's typed confirmation,
// creates the session in the journal and journals session.start. The
// session does nothing until Run.
func Start(ctx context.Context, cfg Config) (*Session, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Runbook == nil {
		return nil, fmt.Errorf("start session: %w: no runbook", ErrConfig)
	}
	if err := cfg.Runbook.CheckVars(slices.Sorted(maps.Keys(cfg.Vars))); err != nil {
		return nil, fmt.Errorf("start session: %w: %w", ErrConfig, err)
	}
	env, err := checkEnv(cfg)
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	if _, err := guardEnv(ctx, cfg, env, false); err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	rs, err := readRegistries(ctx, cfg, env)
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	ok := false
	defer func() {
		if !ok && rs.store != nil {
			_ = rs.store.Close()
		}
	}()
	if err := rs.checkVersions(ctx, cfg, env); err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	dr, err := checkDrift(ctx, cfg, env.Protected, rs.records, rs.unread)
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	rb := cfg.Runbook
	info := SessionInfo{
		ID: newSessionID(cfg), Runbook: rb.Name, RunbookPath: rb.Path, RunbookSHA256: rb.SHA256,
		RunbookSource: rb.Source, Title: rb.Title, Env: env.Name, Mode: cfg.Mode,
		Operator: cfg.Operator, Started: cfg.Clock.Now(),
	}
	// Claimed before the row exists, so no other process can resume the
	// session between its creation and its first event.
	if err := cfg.Journal.ClaimSession(ctx, info.ID, newOwner(cfg)); err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	defer func() {
		if !ok {
			_ = cfg.Journal.ReleaseSession(context.WithoutCancel(ctx), info.ID)
		}
	}()
	info, err = cfg.Journal.CreateSession(ctx, info)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	s := newSession(cfg, env, info, mergeVars(rb.Vars, cfg.Vars))
	s.state = newState(rb, info)
	if rs.store != nil { // the session closes it when Run returns
		s.store, s.opened = rs.store, append(s.opened, rs.store)
	}
	if env.Protected {
		s.rehearsal, _ = rs.rehearsalFor(rb)
	}
	s.watchWindow("")
	err = s.emit(ctx, NewEvent("", SessionStarted{
		Runbook: rb.Name, SHA256: rb.SHA256, Env: env.Name, Mode: cfg.Mode,
		Operator: cfg.Operator, Vars: s.vars, Version: rb.Version, Path: rb.Path,
		LintIgnored: lintRules(cfg).Check(rb).Suppressed,
	}))
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	if env.Protected {
		if err := s.emit(ctx, NewEvent("", Confirmed{What: "env", Value: env.Name})); err != nil {
			return nil, fmt.Errorf("start session: %w", err)
		}
	}
	if err := dr.journal(ctx, s); err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	if err := warnShortSecrets(ctx, s, cfg); err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	if err := rs.journal(ctx, s); err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	ok = true
	return s, nil
}

// warnShortSecrets journals a warning for each declared secret whose value
// is too short to be redacted (it would mangle ordinary output), and one
// for the credential variables of the process environment that are: the
// operator learns that they may appear in output and in the journal.
func warnShortSecrets(ctx context.Context, s *Session, cfg Config) error {
	var msgs []string
	for _, name := range cfg.Runbook.Secrets {
		if v := cfg.Getenv(name); v != "" && len(v) < minSecretLen {
			msgs = append(msgs, fmt.Sprintf("secret %s is shorter than %d characters: it is not redacted (it would erase ordinary text); use a longer value", name, minSecretLen))
		}
	}
	if cfg.Environ != nil {
		if _, short := envCredentials(cfg.Environ()); len(short) > 0 {
			msgs = append(msgs, fmt.Sprintf("environment variable(s) %s look like credentials but are shorter than %d characters: "+
				"they are not redacted (it would erase ordinary text)", strings.Join(short, ", "), minSecretLen))
		}
	}
	for _, msg := range msgs {
		if err := s.emit(ctx, NewEvent("", Warning{Message: msg})); err != nil {
			return err
		}
	}
	return nil
}

// Resume reopens session sessionID from cfg.Journal: the state is rebuilt
// from its events with Replay. cfg.Runbook may be nil (the runbook source
// saved in the session row is parsed again); when given, its SHA-256 must
// match the session's. cfg.Env and cfg.Mode are taken from the session;
// cfg.Operator is who resumes (required). The vars are those journaled
// with session.start, but the journal holds them redacted: cfg.Vars must
// give again each var whose journaled value was redacted (a secret), and
// may repeat the others only with the values the session started with
// (see resumeVars); otherwise Resume refuses with ErrConfig.
//
// The session is claimed first (see Journal.ClaimSession): one still run
// by a live process is refused with a *SessionHeldError. Whether it ended
// for good is read from its hash-chained events, not from the session
// row's outcome, which no hash covers.
func Resume(ctx context.Context, cfg Config, sessionID string) (*Session, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := cfg.Journal.Session(ctx, sessionID); err != nil {
		return nil, fmt.Errorf("resume session %s: %w", sessionID, err)
	}
	if err := cfg.Journal.ClaimSession(ctx, sessionID, newOwner(cfg)); err != nil {
		return nil, fmt.Errorf("resume session %s: %w", sessionID, err)
	}
	s, err := resumeClaimed(ctx, cfg, sessionID)
	if err != nil {
		_ = cfg.Journal.ReleaseSession(context.WithoutCancel(ctx), sessionID)
		return nil, fmt.Errorf("resume session %s: %w", sessionID, err)
	}
	return s, nil
}

// resumeClaimed is Resume once the session is claimed: what it reads
// cannot change under it any more.
func resumeClaimed(ctx context.Context, cfg Config, sessionID string) (*Session, error) {
	info, err := cfg.Journal.Session(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	events, err := cfg.Journal.Events(ctx, sessionID)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	if o := EndedOutcome(events); endedForGood(o) {
		return nil, fmt.Errorf("%w (%s)", ErrSessionEnded, o)
	}
	if endedForGood(info.Outcome) {
		return nil, fmt.Errorf("%w (the session row says %s but its events do not: check it with lockstep journal verify)",
			ErrSessionEnded, info.Outcome)
	}
	rb := cfg.Runbook
	if rb == nil {
		if rb, err = runbook.Parse(info.RunbookPath, info.RunbookSource); err != nil {
			return nil, fmt.Errorf("parse saved runbook: %w", err)
		}
	} else if rb.SHA256 != info.RunbookSHA256 {
		return nil, fmt.Errorf("%w: session ran %.12s, %s is %.12s; resume without a runbook argument to run the saved copy",
			ErrRunbookChanged, info.RunbookSHA256, rb.Path, rb.SHA256)
	}
	cfg.Runbook, cfg.Env, cfg.Mode = rb, info.Env, info.Mode
	env, err := checkEnv(cfg)
	if err != nil {
		return nil, err
	}
	vars, err := resumeVars(events, rb, cfg.Vars)
	if err != nil {
		return nil, secretsRedactor(cfg).redactError(err)
	}
	outside, err := guardEnv(ctx, cfg, env, true)
	if err != nil {
		return nil, err
	}
	s := newSession(cfg, env, info, vars)
	s.state = Replay(rb, info, events)
	s.watchWindow(outside)
	s.state.Outcome = OutcomeRunning
	s.ctl.paused = false
	if err := s.emit(ctx, NewEvent("", SessionResumed{Operator: cfg.Operator})); err != nil {
		return nil, err
	}
	if err := s.recordResume(ctx); err != nil {
		return nil, err
	}
	if outside != "" {
		if err := s.emit(ctx, NewEvent("", Confirmed{What: "outside_window", Value: outside})); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// EndedOutcome is how a session ended according to its events: the
// outcome of its last session.end not followed by a session.resume, or
// OutcomeRunning when it has not ended.
func EndedOutcome(events []Event) Outcome {
	out := OutcomeRunning
	for _, ev := range events {
		switch ev.Kind {
		case EvSessionResume:
			out = OutcomeRunning
		case EvSessionEnd:
			if d, err := DecodeAs[SessionEnded](ev); err == nil {
				out = d.Outcome
			}
		}
	}
	return out
}

// endedForGood reports an outcome no session can be resumed from.
func endedForGood(o Outcome) bool {
	return o == OutcomeCompleted || o == OutcomeAborted || o == OutcomeRolledBack
}

// ErrSessionHeld: the session is being run by a live process (see
// Journal.ClaimSession). Returned as a *SessionHeldError.
var ErrSessionHeld = errors.New("session is running in another process")

// SessionOwner is who holds a session: the process running it.
type SessionOwner struct {
	Operator string    `json:"operator"`
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	Since    time.Time `json:"since"`
}

// String renders the owner for an operator, e.g. "alice on db-admin
// (pid 4242) since 2026-11-23 19:37:02 UTC"; unknown parts are left out.
func (o SessionOwner) String() string {
	var b strings.Builder
	b.WriteString(cmp.Or(o.Operator, "an unknown operator"))
	if o.Host != "" {
		b.WriteString(" on " + o.Host)
	}
	if o.PID > 0 {
		fmt.Fprintf(&b, " (pid %d)", o.PID)
	}
	if !o.Since.IsZero() {
		b.WriteString(" since " + o.Since.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	return b.String()
}

// SessionHeldError is returned for a session a live process holds.
type SessionHeldError struct {
	ID    string
	Owner SessionOwner
}

func (e *SessionHeldError) Error() string {
	return fmt.Sprintf("session %s is running: held by %s; wait for it to end or stop it there (a session whose process died can be resumed)",
		e.ID, e.Owner)
}

// Is makes errors.Is(err, ErrSessionHeld) true.
func (e *SessionHeldError) Is(target error) bool { return target == ErrSessionHeld }

// newOwner describes this process running a session for cfg.Operator.
func newOwner(cfg Config) SessionOwner {
	host, _ := os.Hostname()
	return SessionOwner{Operator: cfg.Operator, Host: host, PID: os.Getpid(), Since: cfg.Clock.Now()}
}

func newSession(cfg Config, env *runbook.Environment, info SessionInfo, vars map[string]string) *Session {
	s := &Session{cfg: cfg, rb: cfg.Runbook, env: env, info: info, vars: vars, leases: NewLeases(context.Background())}
	s.ctl.changed = make(chan struct{})
	s.redactor = secretsRedactor(cfg)
	return s
}

// secretsRedactor redacts the values of the runbook's secrets and the
// credentials of the process environment (see envCredentials).
func secretsRedactor(cfg Config) *Redactor {
	var secrets []string
	for _, name := range cfg.Runbook.Secrets {
		secrets = append(secrets, cfg.Getenv(name))
	}
	if cfg.Environ != nil {
		values, _ := envCredentials(cfg.Environ())
		secrets = append(secrets, values...)
	}
	return NewRedactor(secrets...)
}

// withDefaults fills the optional fields of cfg and checks the required ones.
func withDefaults(cfg Config) (Config, error) {
	switch {
	case cfg.Journal == nil:
		return cfg, fmt.Errorf("%w: no journal", ErrConfig)
	case cfg.Prompter == nil:
		return cfg, fmt.Errorf("%w: no prompter", ErrConfig)
	case cfg.Operator == "":
		return cfg, fmt.Errorf("%w: no operator: set --operator or $LOCKSTEP_OPERATOR", ErrConfig)
	case cfg.Steps == nil:
		return cfg, fmt.Errorf("%w: no step kinds: set Config.Steps (steps.Default() for the built-in ones)", ErrConfig)
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeLive
	}
	switch cfg.Mode {
	case ModeLive, ModeRehearsal, ModeDryRun:
	default:
		return cfg, fmt.Errorf("%w: unknown mode %q (want live, rehearsal or dry-run)", ErrConfig, cfg.Mode)
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Environ == nil {
		cfg.Environ = os.Environ
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Writer(os.Stdout)
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = filepath.Join(os.TempDir(), "lockstep")
		if p, ok := cfg.Journal.(interface{ Path() string }); ok && p.Path() != "" {
			cfg.WorkDir = filepath.Join(filepath.Dir(p.Path()), "work")
		}
	}
	return cfg, nil
}

func checkEnv(cfg Config) (*runbook.Environment, error) {
	env := cfg.Runbook.Env(cfg.Env)
	if env != nil {
		// Its store's ${VAR}s are read now, not at the first data step:
		// an unset one must not surface after approvals were collected.
		if env.Store != nil {
			if _, err := env.Store.Expanded(cfg.Getenv); err != nil {
				return nil, fmt.Errorf("%w: environment %s: %w; export it, then run again", ErrConfig, env.Name, err)
			}
		}
		return env, nil
	}
	var names []string
	for _, e := range cfg.Runbook.Environments {
		names = append(names, e.Name)
	}
	return nil, fmt.Errorf("%w: runbook %s has no environment %q (it has %v)", ErrConfig, cfg.Runbook.Name, cfg.Env, names)
}

// guardEnv applies the protections of a protected environment: no --yes,
// the change window (live and rehearsal only: a dry-run changes nothing),
// and the typed confirmation of the environment's name. A session is not
// started outside its window; one resuming there (it stopped mid-way and
// may have to finish, roll back or abort) needs the operator's reason,
// returned for the session to journal.
func guardEnv(ctx context.Context, cfg Config, env *runbook.Environment, resuming bool) (outside string, err error) {
	if !env.Protected {
		return "", nil
	}
	if cfg.Yes {
		return "", fmt.Errorf("%s: %w", env.Name, ErrProtectedYes)
	}
	switch {
	case resuming:
		if outside, err = resumeOutsideWindow(ctx, cfg, env); err != nil {
			return "", err
		}
	case env.Window != nil && cfg.Mode != ModeDryRun:
		if err := checkWindow(env, cfg.Clock.Now()); err != nil {
			return "", err
		}
	}
	ans, err := cfg.Prompter.Ask(ctx, Prompt{
		Kind: PromptConfirmEnv, Title: fmt.Sprintf("%s is protected: type its name to continue", env.Name),
		Text: fmt.Sprintf("Runbook **%s** will run in **%s** mode against the protected environment **%s**.",
			cfg.Runbook.Name, cfg.Mode, env.Name),
		Expect: env.Name, Key: "confirm_env",
	})
	if err != nil {
		return "", fmt.Errorf("confirm environment: %w", err)
	}
	if ans.Value != env.Name {
		return "", fmt.Errorf("%w: typed %q, want %q", ErrEnvConfirm, ans.Value, env.Name)
	}
	return outside, nil
}

func mergeVars(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

func newSessionID(cfg Config) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(errors.Join(errors.New("read random bytes"), err))
	}
	return cfg.Clock.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// lintRules is the table lint_ignored is checked with.
func lintRules(cfg Config) *runbook.Rules {
	if cfg.LintRules != nil {
		return cfg.LintRules
	}
	return runbook.DefaultRules()
}
