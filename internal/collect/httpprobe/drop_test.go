package httpprobe_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/httpprobe"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
)

var dropOpts = httpprobe.Options{ConnectTimeout: time.Second, RequestTimeout: 2 * time.Second, RetryBackoff: 20 * time.Millisecond}

// TestDroppingServer: a server that accepts and closes every connection
// without a byte is an error naming the drop, after a retry, whether the
// endpoint is host:port, http:// or https:// — never "not HTTP", which
// left every HTTP rule not applicable on a host:port scan.
func TestDroppingServer(t *testing.T) {
	addr := testenv.Serve(t, 10*time.Second, func(net.Conn) {})
	for _, s := range []string{addr, "http://" + addr + "/", "https://" + addr + "/"} {
		tg, err := target.ParseEndpoint(s)
		if err != nil {
			t.Fatal(err)
		}
		d := &testenv.CountingDialer{}
		env := testEnv(false)
		env.Dialer = d
		f, err := httpprobe.New(dropOpts).Collect(context.Background(), tg, env)
		if err == nil || !errors.Is(err, collect.ErrDropsConnections) || !strings.Contains(err.Error(), "also on a retry 20ms later") {
			t.Errorf("%s: facts %v, error %v; want the drop after a retry", s, f, err)
		}
		if _, total := d.Stats(); total < 3 {
			t.Errorf("%s: %d connections, want the attempts, the retry and a look at the server", s, total)
		}
	}
}

// TestClientFirstNonHTTPServer: a server that waits for its client and
// closes on anything it does not understand, without a word, is not HTTP.
func TestClientFirstNonHTTPServer(t *testing.T) {
	addr := testenv.Serve(t, 10*time.Second, func(c net.Conn) { _, _ = c.Read(make([]byte, 512)) })
	tg, err := target.ParseEndpoint(addr)
	if err != nil {
		t.Fatal(err)
	}
	f, err := httpprobe.New(dropOpts).Collect(context.Background(), tg, testEnv(false))
	if err != nil || f != nil {
		t.Errorf("facts %v, error %v; want nil, nil (not HTTP)", f, err)
	}
}

// TestRetryAfterDroppedConnection: behind a proxy that drops the first
// connection, a real nginx is probed whole on the retry.
func TestRetryAfterDroppedConnection(t *testing.T) {
	backend := testenv.Nginx(t, "", `        location / { return 200 "hello\n"; }`, nil)
	var n atomic.Int32
	proxy := testenv.Serve(t, 10*time.Second, func(c net.Conn) {
		if n.Add(1) == 1 {
			return
		}
		b, err := net.Dial("tcp", backend)
		if err != nil {
			return
		}
		defer b.Close()
		go func() { _, _ = io.Copy(b, c); b.Close() }()
		_, _ = io.Copy(c, b)
	})
	tg, err := target.ParseEndpoint("http://" + proxy + "/")
	if err != nil {
		t.Fatal(err)
	}
	f := collectHTTP(t, httpprobe.New(dropOpts), tg, testEnv(false))
	if f.HTTP.RootStatus != 200 || len(f.HTTP.ServerHeaders) == 0 || !strings.HasPrefix(f.HTTP.ServerHeaders[0], "nginx") {
		t.Errorf("root status %d, server %v", f.HTTP.RootStatus, f.HTTP.ServerHeaders)
	}
}
