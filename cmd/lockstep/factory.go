package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/mattn/go-sqlite3"
	"golang.org/x/term"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
)

// factory holds what every command needs from the outside world, so that
// commands can be run in tests with buffers and a fake environment.
type factory struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Getenv reads the process environment.
	Getenv func(string) string
	// IsTerminal reports whether stdin and stdout are both terminals.
	IsTerminal func() bool
	// CurrentUser is the OS user name ("" when unknown).
	CurrentUser func() string
	// RunTUI runs a session in the terminal UI and returns its outcome and
	// id (nil: runTUI, the Bubble Tea front end).
	RunTUI func(ctx context.Context, cfg engine.Config, resumeID string) (engine.Outcome, string, error)
	// Self is how the commands lockstep prints should run it again ("" is
	// "lockstep"); see selfCommand.
	Self string
	// resolveSelf, when Self is "", works it out on first use: the real
	// process looks itself up on $PATH (processSelf), which a command that
	// prints no follow-up need not pay at start-up.
	resolveSelf func() string
}

// self is the command name lockstep's printed follow-ups start with.
func (f *factory) self() string {
	if f.Self != "" {
		return f.Self
	}
	if f.resolveSelf != nil {
		if s := f.resolveSelf(); s != "" {
			return s
		}
	}
	return "lockstep"
}

// newFactory returns the factory of the real process.
func newFactory() *factory {
	return &factory{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		resolveSelf: sync.OnceValue(processSelf),
		Getenv:      os.Getenv,
		IsTerminal: func() bool {
			return term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
		},
		CurrentUser: func() string {
			if u, err := user.Current(); err == nil {
				return u.Username
			}
			return ""
		},
	}
}

// operator resolves who runs the session: --operator, else
// $LOCKSTEP_OPERATOR, else $USER, else the OS user.
func (f *factory) operator(flag string) (string, error) {
	for _, v := range []string{flag, f.Getenv("LOCKSTEP_OPERATOR"), f.Getenv("USER"), f.CurrentUser()} {
		if v != "" {
			return v, nil
		}
	}
	return "", usageError(fmt.Errorf("no operator: pass --operator NAME or set LOCKSTEP_OPERATOR"))
}

// journalPath resolves the journal file: --journal, else $LOCKSTEP_JOURNAL,
// else the default path.
func (f *factory) journalPath(flag string) string {
	if flag != "" {
		return flag
	}
	if v := f.Getenv("LOCKSTEP_JOURNAL"); v != "" {
		return v
	}
	return journal.DefaultPath()
}

// openJournal opens the journal at the resolved path for a session to
// write to, creating it when missing.
func (f *factory) openJournal(flag string) (*journal.Journal, error) {
	j, err := journal.Open(f.journalPath(flag), f.journalKey())
	if err != nil {
		return nil, journalError(err)
	}
	return j, nil
}

// openJournalRO opens the existing journal at the resolved path read-only,
// for commands that only read it: nothing is created or changed, and a
// missing file is an error naming the path.
func (f *factory) openJournalRO(flag string) (*journal.Journal, error) {
	j, err := journal.OpenReadOnly(f.journalPath(flag), f.journalKey())
	if err != nil {
		if errors.Is(err, journal.ErrNoJournal) {
			err = fmt.Errorf("%w%s", err, f.demoJournalHint(flag))
		}
		return nil, journalError(err)
	}
	return j, nil
}

// demoJournal is where `lockstep demo` keeps its journal, relative to the
// directory it ran in.
const demoJournal = "lockstep-demo/journal.db"

// demoJournalHint points at the demo's journal when the command reads the
// default journal and the demo's is here: after `make demo`, a newcomer's
// `lockstep journal` or `lockstep resume` otherwise finds nothing.
func (f *factory) demoJournalHint(flag string) string {
	if flag != "" || f.Getenv("LOCKSTEP_JOURNAL") != "" {
		return ""
	}
	if _, err := os.Stat(demoJournal); err != nil {
		return ""
	}
	return fmt.Sprintf("; the demo's journal is %s: add --journal %s", demoJournal, demoJournal)
}

// journalKey is $LOCKSTEP_JOURNAL_KEY: with it, new sessions are keyed
// (HMAC chain) and keyed ones can be checked and written.
func (f *factory) journalKey() journal.Option {
	return journal.WithKey([]byte(f.Getenv("LOCKSTEP_JOURNAL_KEY")))
}

// journalError marks a journal that cannot be used as given (missing, not
// a journal, a schema this lockstep does not read) as bad input (exit 2),
// and so a path lockstep cannot write (read-only, no permission, under a
// file) or a full disk, with what to do.
func journalError(err error) error {
	for _, target := range []error{journal.ErrNoJournal, journal.ErrNotJournal, journal.ErrSchemaTooNew, journal.ErrSchemaTooOld} {
		if errors.Is(err, target) {
			return usageError(err)
		}
	}
	if isDiskFull(err) {
		return usageError(fmt.Errorf("%w (free space on its disk, or choose another place with --journal or $LOCKSTEP_JOURNAL)", err))
	}
	for _, target := range []error{fs.ErrPermission, syscall.EROFS, syscall.ENOTDIR} {
		if errors.Is(err, target) {
			return usageError(fmt.Errorf("%w (choose a writable place with --journal or $LOCKSTEP_JOURNAL)", err))
		}
	}
	return err
}

// isDiskFull reports whether err is a write that found no space left: the
// file system's ENOSPC or SQLite's SQLITE_FULL.
func isDiskFull(err error) bool {
	var se sqlite3.Error
	return errors.Is(err, syscall.ENOSPC) || (errors.As(err, &se) && se.Code == sqlite3.ErrFull)
}

// workDir is where backups and exports go: a directory next to the journal.
func workDir(j *journal.Journal) string {
	return filepath.Join(filepath.Dir(j.Path()), "work")
}
