// Package dynalite starts dynalite — a DynamoDB-compatible server from the
// npm registry, pinned in the repository's package-lock.json and installed
// into node_modules by `make deps` (npm ci) — on 127.0.0.1 for tests and
// benchmarks, so DynamoDB code runs against a real server.
//
// When dynalite is not installed, tests are skipped, except under CI=true
// where a missing dynalite fails the run.
//
// It may import the standard library only.
package dynalite

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ErrNotInstalled is returned when node_modules/dynalite (or node) cannot
// be found; `make deps` installs it.
var ErrNotInstalled = errors.New("dynalite not installed (run `make deps`, i.e. npm ci)")

// startTimeout bounds how long the server may take to listen.
const startTimeout = 30 * time.Second

// server is started by node: it loads dynalite, listens on 127.0.0.1 on a
// port the kernel picks (no race for a "free" port), prints it, and exits
// when its stdin closes — so it dies with the Go process that started it.
const server = `
const dynalite = require(process.argv[1]);
const srv = dynalite({createTableMs: 0, deleteTableMs: 0, updateTableMs: 0});
srv.listen(0, '127.0.0.1', () => console.log('LISTENING ' + srv.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
// dynalite rethrows a request's 'error' event (index.js: req.on('error',
// err => { throw err })), so a client that hangs up mid-request — a
// cancelled context, a kill -9 of the process under test — takes the whole
// server down. Real DynamoDB shrugs that off; so does this harness. Any
// other uncaught error still ends the server, loudly.
process.on('uncaughtException', (err) => {
  if (err && (err.code === 'ECONNRESET' || err.message === 'aborted')) return;
  console.error(err);
  process.exit(1);
});
`

// Find returns the directory of the installed dynalite package, looking
// for node_modules/dynalite from the working directory up to the module
// root (the directory holding go.mod).
func Find() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		cand := filepath.Join(dir, "node_modules", "dynalite")
		if _, err := os.Stat(filepath.Join(cand, "index.js")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "dynalite")); err == nil {
				return cand, nil
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return "", ErrNotInstalled
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNotInstalled
		}
		dir = parent
	}
}

// Server is a running dynalite.
type Server struct {
	// Endpoint is the server's URL, http://127.0.0.1:PORT.
	Endpoint string
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	done     chan struct{}
	waitErr  error
	stopping atomic.Bool
	started  atomic.Bool
}

// StartServer starts a dynalite in memory on 127.0.0.1 and waits until it
// accepts connections. It returns ErrNotInstalled when dynalite or node is
// missing. Stop it with Stop.
func StartServer() (*Server, error) {
	pkg, err := Find()
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: node: %w", ErrNotInstalled, err)
	}
	cmd := exec.Command(node, "-e", server, pkg)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	stderr := &limitedWriter{n: 8 << 10}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	s := &Server{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				port <- p
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		s.waitErr = cmd.Wait()
		if !s.stopping.Load() && s.started.Load() {
			// Tests then fail with "connection refused": say why here.
			fmt.Fprintf(os.Stderr, "dynalite (pid %d) exited unexpectedly: %v\n%s\n", cmd.Process.Pid, s.waitErr, stderr.String())
		}
		close(s.done)
	}()
	select {
	case p := <-port:
		s.Endpoint = "http://127.0.0.1:" + p
	case <-s.done:
		return nil, fmt.Errorf("start dynalite: exited: %v: %s", s.waitErr, stderr.String())
	case <-time.After(startTimeout):
		s.Stop()
		return nil, fmt.Errorf("start dynalite: not listening after %v: %s", startTimeout, stderr.String())
	}
	if err := waitDial(strings.TrimPrefix(s.Endpoint, "http://")); err != nil {
		s.Stop()
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	s.started.Store(true)
	return s, nil
}

func waitDial(addr string) error {
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends the server and waits for it.
func (s *Server) Stop() {
	s.stopping.Store(true)
	s.stdin.Close() // the server exits on EOF
	select {
	case <-s.done:
		return
	case <-time.After(5 * time.Second):
	}
	s.cmd.Process.Kill()
	<-s.done
}

// Start starts a dynalite for one test (or benchmark) and stops it with
// t.Cleanup. It returns the endpoint. When dynalite is not installed it
// skips the test, or fails it when CI=true.
func Start(t testing.TB) string {
	t.Helper()
	s, err := StartServer()
	if err != nil {
		missing(t, err)
	}
	t.Cleanup(s.Stop)
	return s.Endpoint
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the endpoint of one dynalite shared by the whole test
// binary, started on first use; it stops when the test binary exits. Give
// each test its own table. Missing dynalite skips (fails under CI=true)
// as Start does.
func Shared(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = StartServer() })
	if shared.err != nil {
		missing(t, shared.err)
	}
	return shared.srv.Endpoint
}

// StartMain is for TestMain: it starts a dynalite and returns its endpoint
// and a stop function. With dynalite missing it returns ErrNotInstalled
// (and MustInstall tells whether that is fatal).
func StartMain() (endpoint string, stop func(), err error) {
	s, err := StartServer()
	if err != nil {
		return "", func() {}, err
	}
	return s.Endpoint, s.Stop, nil
}

// MustInstall reports whether a missing dynalite must fail the run
// instead of skipping (CI=true).
func MustInstall() bool { return os.Getenv("CI") == "true" }

func missing(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNotInstalled) && !MustInstall() {
		t.Skipf("skipping: %v", err)
	}
	t.Fatalf("dynalite: %v", err)
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	mu  sync.Mutex
	buf strings.Builder
	n   int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n > 0 {
		q := p[:min(len(p), l.n)]
		l.buf.Write(q)
		l.n -= len(q)
	}
	return len(p), nil
}

func (l *limitedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
