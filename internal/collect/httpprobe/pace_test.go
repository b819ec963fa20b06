package httpprobe_test

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect/httpprobe"
)

// startCounting starts a TLS test server with handler h and counts its
// connections and full TLS handshakes.
func startCounting(t *testing.T, h http.HandlerFunc) (srv *httptest.Server, conns, full, requests *atomic.Int32) {
	t.Helper()
	conns, full, requests = &atomic.Int32{}, &atomic.Int32{}, &atomic.Int32{}
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		h(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.TLS = &tls.Config{VerifyConnection: func(cs tls.ConnectionState) error {
		if !cs.DidResume {
			full.Add(1)
		}
		return nil
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, conns, full, requests
}

// A server that answers at once and keeps connections alive gets the
// whole probe on one connection: one TCP connect, one TLS handshake.
func TestCatalogueOnOneConnection(t *testing.T) {
	srv, conns, full, requests := startCounting(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "fast")
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	// The test clock stands still: every answer is instant, and no
	// request is ever slow (an hour).
	f := collectHTTP(t, httpprobe.New(httpprobe.Options{SlowRequest: time.Hour}), simTarget(t, srv.URL+"/"), testEnv(false))
	if len(f.HTTP.Paths) < 10 {
		t.Fatalf("%d paths probed: %+v", len(f.HTTP.Paths), f.HTTP.Paths)
	}
	if conns.Load() != 1 || full.Load() != 1 {
		t.Errorf("%d requests on %d connections with %d full handshakes, want one connection", requests.Load(), conns.Load(), full.Load())
	}
	if int(requests.Load()) != len(f.HTTP.Paths)+2 { // the root, the not-found probe, the paths
		t.Errorf("%d requests for %d paths", requests.Load(), len(f.HTTP.Paths))
	}
}

// A request the server holds is not waited for before the others are
// sent: another connection opens beside it. The held request is answered
// only once another one arrives while it waits; on one connection it
// would time out instead.
func TestCatalogueWidensBesideHeldRequest(t *testing.T) {
	const held = "/carbon"
	var (
		mu      sync.Mutex
		waiting bool
		other   = make(chan struct{})
		once    sync.Once
	)
	srv, conns, _, _ := startCounting(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "holder")
		if r.URL.Path == held {
			mu.Lock()
			waiting = true
			mu.Unlock()
			select {
			case <-other:
				_, _ = w.Write([]byte("console\n"))
			case <-r.Context().Done():
			}
			return
		}
		mu.Lock()
		if waiting {
			once.Do(func() { close(other) })
		}
		mu.Unlock()
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	c := httpprobe.New(httpprobe.Options{SlowRequest: time.Millisecond, RequestTimeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := c.Collect(ctx, simTarget(t, srv.URL+"/"), testEnv(false))
	if err != nil || f == nil || f.HTTP == nil {
		t.Fatalf("collect: %v", err)
	}
	pp, ok := pathByName(f.HTTP, held)
	if !ok || pp.Status != http.StatusOK {
		t.Errorf("%s: %+v, want answered (200) once another request came beside it", held, pp)
	}
	if conns.Load() < 2 {
		t.Errorf("%d connections, want another beside the held request", conns.Load())
	}
}
