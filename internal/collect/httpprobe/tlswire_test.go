package httpprobe_test

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"

	"github.com/rampart-sec/rampart/internal/collect/httpprobe"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
)

// startOpenSSLWWW runs `openssl s_server -www` with the given extra
// arguments and returns its address (see testenv.OpenSSLServer).
func startOpenSSLWWW(t *testing.T, args ...string) string {
	t.Helper()
	return testenv.OpenSSLServer(t, "dhe.test", args...)
}

// A TLS 1.2 server with one DHE suite, which Go's client does not have:
// the probe falls back to tlswire's client, with the scheme given and
// without it.
func TestDHEOnlyServer(t *testing.T) {
	addr := startOpenSSLWWW(t, "-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256")
	c := httpprobe.New(httpprobe.Options{Version: "test"})
	for _, raw := range []string{"https://" + addr + "/", addr} {
		tg, err := target.ParseEndpoint(raw)
		if err != nil {
			t.Fatal(err)
		}
		f := collectHTTP(t, c, tg, testEnv(false))
		hf := f.HTTP
		if !hf.HTTPS || hf.TLSClient != "tlswire" || hf.RootStatus != 200 || hf.HSTS.Present || len(hf.ServerHeaders) != 0 {
			t.Errorf("%s: https=%v tls_client=%q root %d hsts %v server %v", raw, hf.HTTPS, hf.TLSClient, hf.RootStatus, hf.HSTS.Present, hf.ServerHeaders)
		}
		for _, pp := range hf.Paths {
			if pp.Error != "" {
				t.Errorf("%s %s: %s", raw, pp.Path, pp.Error)
			}
		}
		wantStatuses(t, judge(t, tg, f, false), map[string]finding.Status{"HTTP-001": finding.Pass, "HTTP-002": finding.Fail})
	}
}

// Servers Go's client can talk to keep using it.
func TestGoClientStaysDefault(t *testing.T) {
	srv := startSim(t, &wso2Sim{hardened: true}, true)
	f := collectHTTP(t, httpprobe.New(httpprobe.Options{}), simTarget(t, srv.URL+"/"), testEnv(false))
	if f.HTTP.TLSClient != "crypto/tls" {
		t.Errorf("tls_client %q, want crypto/tls", f.HTTP.TLSClient)
	}
	srv = startSim(t, &wso2Sim{hardened: true}, false)
	f = collectHTTP(t, httpprobe.New(httpprobe.Options{}), simTarget(t, srv.URL+"/"), testEnv(false))
	if f.HTTP.TLSClient != "" {
		t.Errorf("plain HTTP: tls_client %q, want none", f.HTTP.TLSClient)
	}
}

// A server that refuses Go's client and then never answers the fallback
// client ends in an error that names both, within the connect timeout.
func TestFallbackSilentServer(t *testing.T) {
	ln := listen(t)
	var conns atomic.Int32
	go serveConns(ln, func(conn net.Conn) {
		buf := make([]byte, 4096)
		_, _ = conn.Read(buf)
		if conns.Add(1) == 1 {
			_, _ = conn.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}) // handshake_failure to Go's hello
			return
		}
		readSome(conn) // the fallback's hello: silence until the client gives up
	})
	tg, _ := target.ParseEndpoint("https://" + ln.Addr().String() + "/")
	opts := hostileOpts
	opts.ConnectTimeout, opts.RequestTimeout = 300*time.Millisecond, 2*time.Second
	_, err := httpprobe.New(opts).Collect(context.Background(), tg, testEnv(false))
	if err == nil || !strings.Contains(err.Error(), "handshake failure") || !strings.Contains(err.Error(), "rampart's own TLS") {
		t.Fatalf("err %v, want both clients' failures", err)
	}
	t.Log(err)
}
