package httpprobe_test

import (
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/httpprobe"
)

// A server that closes every connection after its answer: the probe's
// connections after the first wave resume the TLS session, so most of
// its handshakes are not full ones.
func TestResumesTLSSessions(t *testing.T) {
	var full, resumed, requests atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Connection", "close")
		w.Header().Set("Server", "closer")
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{VerifyConnection: func(cs tls.ConnectionState) error {
		if cs.DidResume {
			resumed.Add(1)
		} else {
			full.Add(1)
		}
		return nil
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	f := collectHTTP(t, httpprobe.New(httpprobe.Options{}), simTarget(t, srv.URL+"/"), testEnv(false))
	if len(f.HTTP.Paths) == 0 {
		t.Fatalf("no answers: %+v", f.HTTP)
	}
	if requests.Load() < 10 || resumed.Load() == 0 || full.Load() > 4 {
		t.Errorf("%d requests: %d full handshakes, %d resumed; want at most one full per connection of the first wave (4)", requests.Load(), full.Load(), resumed.Load())
	}
}
