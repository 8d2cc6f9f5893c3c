// Package pgtest starts a throwaway PostgreSQL server — the one Debian's
// `postgresql` package installs — on 127.0.0.1 for tests and benchmarks,
// so PostgreSQL code runs against a real server. The cluster lives in a
// temporary directory (initdb, trust authentication, fsync off) and runs
// as the `postgres` system user when the tests run as root; each test
// gets its own fresh database.
//
// When no server is installed, tests are skipped, except under CI=true
// where a missing server fails the run.
//
// It may import the standard library and pgx only.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotInstalled is returned when initdb, pg_ctl or postgres cannot be
// found on PATH or in /usr/lib/postgresql/*/bin.
var ErrNotInstalled = errors.New("PostgreSQL not installed (apt-get install postgresql)")

// startTimeout bounds how long the server may take to accept connections.
const startTimeout = 60 * time.Second

// Server is a running throwaway PostgreSQL.
type Server struct {
	// Host and Port are where it listens (127.0.0.1 and a free port).
	Host string
	Port int
	dir  string // data directory and socket directory's parent
	cmd  *exec.Cmd
	done chan struct{}
	next atomic.Int64 // database name counter
}

// FindBin returns the directory holding initdb and postgres: the one on
// PATH, else the newest /usr/lib/postgresql/*/bin.
func FindBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "postgres")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// StartServer creates a cluster in a temporary directory and starts it.
// It returns ErrNotInstalled when PostgreSQL is missing. Stop it with Stop.
func StartServer() (*Server, error) {
	bin, err := FindBin()
	if err != nil {
		return nil, err
	}
	cred, err := serverUser()
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	dir, err := os.MkdirTemp("", "lockstep-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("start postgres: %w", err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start postgres: initdb: %w: %s", err, out)
	}
	for attempt := 0; ; attempt++ {
		s, err := launch(bin, dir, cred)
		if err == nil || attempt == 2 {
			if err != nil {
				os.RemoveAll(dir)
			}
			return s, err
		}
	}
}

// launch starts postgres on a free port; a port taken meanwhile fails
// and the caller retries.
func launch(bin, dir string, cred *syscall.Credential) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	defer log.Close()
	if cred != nil {
		_ = log.Chown(int(cred.Uid), int(cred.Gid))
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(dir, "data"),
		"-p", strconv.Itoa(port), "-h", "127.0.0.1", "-k", dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=64MB")
	// Pdeathsig: the server dies with the test binary (immediate
	// shutdown on SIGQUIT) even when the binary is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &Server{Host: "127.0.0.1", Port: port, dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(); err != nil {
		s.kill()
		b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return nil, fmt.Errorf("start postgres: %w: %s", err, tail(string(b), 2000))
	}
	return s, nil
}

func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, s.DSN("postgres"))
		cancel()
		if err == nil {
			return c.Close(context.Background())
		}
		select {
		case <-s.done:
			return errors.New("server exited")
		default:
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serverUser is who runs the server: the `postgres` system user when the
// process is root (PostgreSQL refuses to run as root), else nil (the
// current user).
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres system user (the postgresql package creates it): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// DSN is the URL of database db on the server, as the superuser.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@%s:%d/%s?sslmode=disable", s.Host, s.Port, db)
}

// CreateDatabase creates a fresh, empty database and returns its DSN.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), s.next.Add(1))
	c, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	defer c.Close(context.Background())
	// FILE_COPY (PostgreSQL 15+) copies template0's few files instead of
	// WAL-logging every block: a database in a few milliseconds.
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 STRATEGY FILE_COPY"); err != nil {
		if _, err := c.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
			return "", fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return s.DSN(name), nil
}

// Stop shuts the server down (fast shutdown) and removes its directory.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.kill()
	}
	os.RemoveAll(s.dir)
}

func (s *Server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// shared is the server of a test binary: started on the first DB call,
// stopped by Main (or Wrap) when the tests are over.
var shared struct {
	mu      sync.Mutex
	managed bool // Main or Wrap runs: it will stop the server
	srv     *Server
	err     error
	started bool
}

// Main is for TestMain: it runs the tests and stops the server they
// shared (DB starts it on first use, so a run whose tests need no
// PostgreSQL starts none), and returns the exit code.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int { return Wrap(m.Run) }

// Wrap is Main for a TestMain that already wraps m.Run (e.g. to build a
// binary first): it calls run and then stops the shared server.
func Wrap(run func() int) int {
	shared.mu.Lock()
	shared.managed = true
	shared.mu.Unlock()
	code := run()
	shared.mu.Lock()
	if shared.srv != nil {
		shared.srv.Stop()
		shared.srv = nil
	}
	shared.mu.Unlock()
	return code
}

// DB returns the DSN of a fresh database on the test binary's shared
// server, started on first use; the package's TestMain must call Main or
// Wrap, which stop it. Without PostgreSQL it skips the test, or fails it
// under CI=true.
func DB(t testing.TB) string {
	t.Helper()
	shared.mu.Lock()
	if !shared.managed {
		shared.mu.Unlock()
		t.Fatal("pgtest.DB needs pgtest.Main or pgtest.Wrap in the package's TestMain")
	}
	if !shared.started {
		shared.started = true
		shared.srv, shared.err = StartServer()
	}
	srv, err := shared.srv, shared.err
	shared.mu.Unlock()
	if err != nil {
		missing(t, err)
	}
	dsn, err := srv.CreateDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// Start starts a server for one test and stops it with t.Cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartServer()
	if err != nil {
		missing(t, err)
	}
	t.Cleanup(s.Stop)
	return s
}

// MustInstall reports whether a missing PostgreSQL must fail the run
// instead of skipping (CI=true).
func MustInstall() bool { return os.Getenv("CI") == "true" }

func missing(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNotInstalled) && !MustInstall() {
		t.Skipf("skipping: %v", err)
	}
	t.Fatalf("pgtest: %v", err)
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
