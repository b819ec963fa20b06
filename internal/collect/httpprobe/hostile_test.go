package httpprobe_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect/httpprobe"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
)

// Hostile servers: each must end in a clear error (the collector's, or
// one per path) with bounded memory, and the probe must stop on its own
// timeouts; the test's only clock is the test binary's overall timeout.

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// serveConns runs fn on every connection until ln is closed.
func serveConns(ln net.Listener, fn func(net.Conn)) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			fn(conn)
		}()
	}
}

// readSome reads one request's header block (or gives up after a while).
func readSome(conn net.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

// hostileOpts are short timeouts so the hostile tests finish quickly.
var hostileOpts = httpprobe.Options{ConnectTimeout: time.Second, RequestTimeout: time.Second, MaxBody: 64 << 10}

// patientOpts are for hostile servers that answer at once but too much
// (a redirect loop, an endless body): the test is about the bounds on
// what is read, so a loaded machine's slowness must not end it in a
// timeout first.
var patientOpts = httpprobe.Options{ConnectTimeout: 30 * time.Second, RequestTimeout: 30 * time.Second, MaxBody: 64 << 10}

func rawTarget(t testing.TB, ln net.Listener) target.Target {
	t.Helper()
	tg, err := target.ParseEndpoint("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

func TestHostileHugeHeaders(t *testing.T) {
	ln := listen(t)
	go serveConns(ln, func(conn net.Conn) {
		readSome(conn)
		line := []byte("X-Junk: " + strings.Repeat("a", 1000) + "\r\n")
		_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\n"))
		for sent := 0; sent < 10<<20; sent += len(line) { // 10 MB of headers
			if _, err := conn.Write(line); err != nil {
				return
			}
		}
		_, _ = conn.Write([]byte("\r\nok"))
	})
	before := totalAlloc()
	_, err := httpprobe.New(hostileOpts).Collect(context.Background(), rawTarget(t, ln), testEnv(false))
	grew := totalAlloc() - before
	if err == nil || !strings.Contains(err.Error(), "headers exceeded") {
		t.Fatalf("err %v, want the header limit", err)
	}
	t.Logf("error: %v; allocated %d KiB", err, grew>>10)
	if grew > 8<<20 {
		t.Errorf("allocated %d MiB for a 10 MB header block; the cap is 128 KiB", grew>>20)
	}
}

func TestHostileRedirectLoop(t *testing.T) {
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		http.Redirect(w, r, fmt.Sprintf("/loop/%d", i), http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	tg := simTarget(t, srv.URL+"/")
	tg.Decl.Role = "dmz"
	f := collectHTTP(t, httpprobe.New(patientOpts), tg, testEnv(false))
	for _, p := range f.HTTP.Paths {
		if !strings.Contains(p.Error, "stopped after 5 redirects") || p.Reachable {
			t.Errorf("%s: %+v, want the redirect bound as its error", p.Path, p)
		}
	}
	mu.Lock()
	if max := (len(f.HTTP.Paths) + 2) * 6; n > max {
		t.Errorf("%d requests for %d paths; each should stop after 6", n, len(f.HTTP.Paths)+2)
	}
	mu.Unlock()
	got := judge(t, tg, f, false)
	wantStatuses(t, got, map[string]finding.Status{"HTTP-004": finding.Error})
	if !strings.Contains(got["HTTP-004"].Message, "stopped after 5 redirects") {
		t.Errorf("HTTP-004 message %q", got["HTTP-004"].Message)
	}
}

func TestHostileEndlessBody(t *testing.T) {
	ln := listen(t)
	chunk := []byte(strings.Repeat("never ends ", 6000))
	go serveConns(ln, func(conn net.Conn) {
		readSome(conn)
		_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"))
		for {
			if _, err := conn.Write(chunk); err != nil {
				return
			}
		}
	})
	before := totalAlloc()
	tg := rawTarget(t, ln)
	f := collectHTTP(t, httpprobe.New(patientOpts), tg, testEnv(false))
	grew := totalAlloc() - before
	t.Logf("allocated %d MiB for %d endless bodies", grew>>20, len(f.HTTP.Paths)+2)
	if f.HTTP.RootStatus != 200 {
		t.Errorf("root status %d", f.HTTP.RootStatus)
	}
	// Every path gets the same endless page: the catch-all, not reachable.
	for _, p := range f.HTTP.Paths {
		if p.Reachable || p.Error != "" {
			t.Errorf("%s: %+v", p.Path, p)
		}
	}
	if limit := uint64(len(f.HTTP.Paths)+2) * 10 * uint64(patientOpts.MaxBody); grew > limit {
		t.Errorf("allocated %d MiB; bodies are capped at %d KiB each", grew>>20, patientOpts.MaxBody>>10)
	}
}

// drip writes s one byte at a time, a second apart: a slow peer (the
// probe's own timeout is what ends the exchange).
func drip(conn net.Conn, s string) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := range len(s) {
		if _, err := conn.Write([]byte{s[i]}); err != nil {
			return
		}
		<-tick.C
	}
}

func TestHostileSlowDripHeaders(t *testing.T) {
	ln := listen(t)
	go serveConns(ln, func(conn net.Conn) {
		readSome(conn)
		drip(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	_, err := httpprobe.New(hostileOpts).Collect(context.Background(), rawTarget(t, ln), testEnv(false))
	if err == nil || !strings.Contains(err.Error(), "timeout") && !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err %v, want a timeout", err)
	}
	t.Log(err)
}

// Headers come at once, the body a byte a second: the first requests
// time out, then the rest are not sent at all.
func TestHostileSlowDripBody(t *testing.T) {
	ln := listen(t)
	var mu sync.Mutex
	conns := 0
	go serveConns(ln, func(conn net.Conn) {
		mu.Lock()
		conns++
		mu.Unlock()
		readSome(conn)
		_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"))
		drip(conn, strings.Repeat("x", 1000))
	})
	tg := rawTarget(t, ln)
	tg.Decl.Role = "dmz"
	f := collectHTTP(t, httpprobe.New(hostileOpts), tg, testEnv(false))
	skipped := 0
	for _, p := range f.HTTP.Paths {
		if p.Error == "" || p.Reachable {
			t.Errorf("%s: %+v, want an error", p.Path, p)
		}
		if strings.Contains(p.Error, "timed out on earlier requests") {
			skipped++
		}
	}
	mu.Lock()
	t.Logf("%d connections; %d of %d paths not sent after the timeouts", conns, skipped, len(f.HTTP.Paths))
	mu.Unlock()
	if skipped < len(f.HTTP.Paths)/2 {
		t.Errorf("only %d of %d paths skipped after repeated timeouts", skipped, len(f.HTTP.Paths))
	}
	wantStatuses(t, judge(t, tg, f, false), map[string]finding.Status{"HTTP-004": finding.Error, "HTTP-005": finding.Manual})
}

// One hostile path does not spoil the others, and a hostile target does
// not spoil another target scanned at the same time by the same collector.
func TestHostileRestUnharmed(t *testing.T) {
	sim := &wso2Sim{password: "admin"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/carbon" {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	slow := listen(t)
	go serveConns(slow, func(conn net.Conn) { readSome(conn); drip(conn, "HTTP/1.1 200 OK\r\n\r\n") })

	c := httpprobe.New(hostileOpts)
	var wg sync.WaitGroup
	var good *facts.Facts
	var slowErr error
	tg := simTarget(t, srv.URL+"/")
	wg.Add(2)
	go func() { defer wg.Done(); good = collectHTTP(t, c, tg, testEnv(false)) }()
	go func() {
		defer wg.Done()
		_, slowErr = c.Collect(context.Background(), rawTarget(t, slow), testEnv(false))
	}()
	wg.Wait()
	if slowErr == nil {
		t.Errorf("slow target: no error")
	}
	pp, _ := pathByName(good.HTTP, "/carbon")
	if pp.Error == "" || pp.Reachable {
		t.Errorf("/carbon %+v, want its own error", pp)
	}
	for _, p := range []string{"/services", "/carbon/admin/login.jsp"} {
		if pp, _ := pathByName(good.HTTP, p); !pp.Reachable {
			t.Errorf("%s %+v, want reachable despite /carbon hanging", p, pp)
		}
	}
	// A reachable admin path fails the rule even though another errored.
	wantStatuses(t, judge(t, tg, good, false), map[string]finding.Status{"HTTP-004": finding.Fail})
}
