// Package faultproxy is an HTTP reverse proxy to put in front of a
// DynamoDB-compatible server (dynalite) in tests: it injects, by
// percentage, throttling (HTTP 400 ProvisionedThroughputExceededException),
// HTTP 500 InternalServerError and dropped connections, and counts each.
// Fakes are for faults only: everything not injected reaches the real
// server.
//
// It may import the standard library only.
package faultproxy

import (
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Faults says what to inject. Percentages are of the requests a fault
// applies to (0–100); they are tried in order throttle, server error,
// drop.
type Faults struct {
	ThrottlePercent    int
	ServerErrorPercent int
	DropPercent        int
	// DropAfterForward makes drops happen after the server handled the
	// request: the write is applied but its answer lost.
	DropAfterForward bool
	// Operations limits faults to these DynamoDB operations ("UpdateItem",
	// "Scan", …); empty means all.
	Operations []string
	// Seed makes the fault sequence reproducible (0: a fixed default).
	Seed uint64
}

// Counts are what the proxy saw and did.
type Counts struct {
	Requests     int64 // all requests received
	Throttled    int64
	ServerErrors int64
	Dropped      int64
	Forwarded    int64 // reached the server
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's endpoint, http://127.0.0.1:PORT.
	URL string

	srv   *http.Server
	ln    net.Listener
	proxy *httputil.ReverseProxy

	mu     sync.Mutex
	faults Faults
	rng    *rand.Rand

	requests, throttled, serverErrors, dropped, forwarded atomic.Int64
}

// New starts a proxy on 127.0.0.1 in front of target (a URL).
func New(target string, f Faults) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("fault proxy: target: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fault proxy: listen: %w", err)
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), ln: ln, proxy: httputil.NewSingleHostReverseProxy(u)}
	p.SetFaults(f)
	p.srv = &http.Server{Handler: p}
	go p.srv.Serve(ln)
	return p, nil
}

// Start starts a proxy for one test and closes it with t.Cleanup.
func Start(t testing.TB, target string, f Faults) *Proxy {
	t.Helper()
	p, err := New(target, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// SetFaults changes the faults injected from now on.
func (p *Proxy) SetFaults(f Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seed := f.Seed
	if seed == 0 {
		seed = 1
	}
	p.faults, p.rng = f, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Counts returns the counters so far.
func (p *Proxy) Counts() Counts {
	return Counts{Requests: p.requests.Load(), Throttled: p.throttled.Load(), ServerErrors: p.serverErrors.Load(),
		Dropped: p.dropped.Load(), Forwarded: p.forwarded.Load()}
}

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

type fault int

const (
	none fault = iota
	throttle
	serverError
	drop
)

// pick draws the fault for a request to operation op.
func (p *Proxy) pick(op string) (fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.faults
	if len(f.Operations) > 0 && !slices.Contains(f.Operations, op) {
		return none, false
	}
	switch {
	case p.rng.IntN(100) < f.ThrottlePercent:
		return throttle, false
	case p.rng.IntN(100) < f.ServerErrorPercent:
		return serverError, false
	case p.rng.IntN(100) < f.DropPercent:
		return drop, f.DropAfterForward
	}
	return none, false
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	f, after := p.pick(op)
	switch f {
	case throttle:
		p.throttled.Add(1)
		writeError(w, http.StatusBadRequest, "ProvisionedThroughputExceededException",
			"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.")
		return
	case serverError:
		p.serverErrors.Add(1)
		writeError(w, http.StatusInternalServerError, "InternalServerError", "Internal server error")
		return
	case drop:
		p.dropped.Add(1)
		if after {
			p.forwarded.Add(1)
			p.proxy.ServeHTTP(discard{}, r)
		}
		hijackClose(w)
		return
	}
	p.forwarded.Add(1)
	p.proxy.ServeHTTP(w, r)
}

// writeError answers as DynamoDB does, CRC32 header included (the SDK
// checks it).
func writeError(w http.ResponseWriter, status int, code, msg string) {
	body := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, code, msg)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", "FAULTPROXY")
	w.Header().Set("x-amz-crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// hijackClose closes the client's connection without an answer.
func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("fault proxy: response writer cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // a reset, as a dropped connection looks
		}
		conn.Close()
	}
}

// discard is a ResponseWriter that throws the answer away.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
