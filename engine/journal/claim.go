package journal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// Session claims.
//
// A session is claimed with an exclusive flock(2) on its own lock file,
// <journal>-locks/<session id>.lock. The kernel drops a flock when the last
// descriptor of its open file closes, so a process that dies, even by
// kill -9, gives its sessions back with no cleanup; Go opens files
// close-on-exec, so the shell commands a step runs never inherit one.
// A flock belongs to an open file description, not to a process: two
// Journals in one process exclude each other as two processes do.
//
// The file holds the owner as JSON (operator, host, pid, since) for the
// message a refused resume prints. A claim given back normally removes its
// file while still holding the lock; a claimer therefore checks, once
// locked, that the path still names the file it locked, and starts again
// when it does not.

// claimRetry is how long ClaimSession waits for a lock held only for a
// moment (SessionHolder's probe) before reporting the session held.
const (
	claimRetry = 25 * time.Millisecond
	claimTries = 10
)

// claim is one session this Journal holds.
type claim struct {
	f     *os.File
	path  string
	owner engine.SessionOwner
}

// safeID reports whether a session id is usable as a file name as it is:
// 1 to 101 ASCII letters, digits, '.', '_' and '-', starting with a letter
// or digit. (A loop, not the regular expression it replaces: compiling
// its {0,100} took 1.3k allocations at every start of every command.)
func safeID(id string) bool {
	if len(id) == 0 || len(id) > 101 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// LockDir is the directory of session lock files beside the journal.
func (j *Journal) LockDir() string { return j.path + "-locks" }

func (j *Journal) lockPath(id string) string {
	name := id
	if !safeID(id) {
		sum := sha256.Sum256([]byte(id))
		name = hex.EncodeToString(sum[:])
	}
	return filepath.Join(j.LockDir(), name+".lock")
}

// ClaimSession takes session id for this Journal until EndSession,
// ReleaseSession or Close, or until the process dies (see engine.Journal).
// A session another process or Journal holds is refused with a
// *engine.SessionHeldError naming the holder.
func (j *Journal) ClaimSession(ctx context.Context, id string, owner engine.SessionOwner) error {
	if j.readOnly {
		return fmt.Errorf("claim session %s: %w", id, ErrReadOnly)
	}
	j.claimMu.Lock()
	defer j.claimMu.Unlock()
	if c, ok := j.claims[id]; ok { // already ours: a new owner takes over
		if err := writeOwner(c.f, owner); err != nil {
			return fmt.Errorf("claim session %s: %w", id, err)
		}
		c.owner = owner
		return nil
	}
	if err := os.MkdirAll(j.LockDir(), 0o700); err != nil {
		return fmt.Errorf("claim session %s: create lock directory: %w", id, err)
	}
	path := j.lockPath(id)
	for try := 1; ; try++ {
		f, err := lockFile(path)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if try < claimTries && ctx.Err() == nil {
				time.Sleep(claimRetry)
				continue
			}
			held, _ := readOwner(path)
			return &engine.SessionHeldError{ID: id, Owner: held}
		}
		if errors.Is(err, errStaleLock) {
			continue
		}
		if err != nil {
			return fmt.Errorf("claim session %s: %w", id, err)
		}
		if err := writeOwner(f, owner); err != nil {
			os.Remove(path)
			f.Close()
			return fmt.Errorf("claim session %s: %w", id, err)
		}
		if j.claims == nil {
			j.claims = map[string]*claim{}
		}
		j.claims[id] = &claim{f: f, path: path, owner: owner}
		return nil
	}
}

// errStaleLock: the file locked was removed or replaced meanwhile.
var errStaleLock = errors.New("lock file replaced")

// lockFile opens (creating) path and takes an exclusive, non-blocking
// flock on it: syscall.EWOULDBLOCK when another holds it, errStaleLock
// when path no longer names the file locked.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	locked, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat lock file: %w", err)
	}
	if now, err := os.Stat(path); err != nil || !os.SameFile(locked, now) {
		f.Close()
		return nil, errStaleLock
	}
	return f, nil
}

// flock is syscall.Flock on f, retried on EINTR.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func writeOwner(f *os.File, owner engine.SessionOwner) error {
	b, err := json.Marshal(owner)
	if err != nil {
		return fmt.Errorf("encode owner: %w", err)
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	if _, err := f.WriteAt(append(b, '\n'), 0); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	return nil
}

// readOwner reads the owner a lock file records; a zero owner when it
// cannot (the holder is still writing it, or the file is gone).
func readOwner(path string) (engine.SessionOwner, error) {
	var owner engine.SessionOwner
	for range 3 {
		b, err := os.ReadFile(path)
		if err != nil {
			return owner, fmt.Errorf("read lock file: %w", err)
		}
		if err = json.Unmarshal(b, &owner); err == nil {
			return owner, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return engine.SessionOwner{}, nil
}

// ReleaseSession gives back a claim this Journal holds; a no-op otherwise.
func (j *Journal) ReleaseSession(_ context.Context, id string) error {
	j.claimMu.Lock()
	defer j.claimMu.Unlock()
	return j.release(id)
}

// release removes the lock file while still holding it, then unlocks
// (by closing). j.claimMu is held.
func (j *Journal) release(id string) error {
	c, ok := j.claims[id]
	if !ok {
		return nil
	}
	delete(j.claims, id)
	rmErr := os.Remove(c.path)
	if errors.Is(rmErr, fs.ErrNotExist) {
		rmErr = nil
	}
	if err := errors.Join(rmErr, c.f.Close()); err != nil {
		return fmt.Errorf("release session %s: %w", id, err)
	}
	return nil
}

func (j *Journal) releaseAll() {
	j.claimMu.Lock()
	defer j.claimMu.Unlock()
	for id := range j.claims {
		_ = j.release(id)
	}
}

// SessionHolder reports who holds session id when a live process (or
// another Journal) does. It only reads: a shared flock probe, given back
// at once, on the session's lock file if there is one.
func (j *Journal) SessionHolder(_ context.Context, id string) (engine.SessionOwner, bool, error) {
	j.claimMu.Lock()
	c, ok := j.claims[id]
	j.claimMu.Unlock()
	if ok {
		return c.owner, true, nil
	}
	path := j.lockPath(id)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return engine.SessionOwner{}, false, nil
	}
	if err != nil {
		return engine.SessionOwner{}, false, fmt.Errorf("probe session %s: %w", id, err)
	}
	defer f.Close()
	switch err := flock(f, syscall.LOCK_SH|syscall.LOCK_NB); {
	case errors.Is(err, syscall.EWOULDBLOCK):
		owner, _ := readOwnerFrom(f)
		return owner, true, nil
	case err != nil:
		return engine.SessionOwner{}, false, fmt.Errorf("probe session %s: %w", id, err)
	}
	_ = flock(f, syscall.LOCK_UN)
	return engine.SessionOwner{}, false, nil
}

func readOwnerFrom(f *os.File) (engine.SessionOwner, error) {
	var owner engine.SessionOwner
	b, err := io.ReadAll(f)
	if err != nil {
		return owner, err
	}
	if json.Unmarshal(b, &owner) != nil {
		return readOwner(f.Name())
	}
	return owner, nil
}
