package sshprobe

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
	"github.com/rampart-sec/rampart/internal/testenv"
)

// dropOpts are quick options for the drop tests.
var dropOpts = Options{Timeout: 5 * time.Second, SniffTimeout: time.Second, RetryBackoff: 50 * time.Millisecond}

// TestDroppedConnections: a server that drops the connection, without a
// byte or right after saying it is SSH, is an error after one retry, never
// "not SSH" (which would leave every SSH rule not applicable and a
// host:port scan all clear).
func TestDroppedConnections(t *testing.T) {
	for _, tc := range []struct {
		name, scheme string
		serve        func(net.Conn)
		want         string
	}{
		{"accepts and closes, unknown scheme", "", func(net.Conn) {}, "closed the connection without sending a byte"},
		{"accepts and closes, ssh://", "ssh://", func(net.Conn) {}, "closed the connection without sending a byte"},
		{"identifies, then closes, unknown scheme", "", func(c net.Conn) { c.Write([]byte("SSH-2.0-OpenSSH_9.2p1\r\n")) }, `after identifying as "SSH-2.0-OpenSSH_9.2p1"`},
		{"identifies, then closes, ssh://", "ssh://", func(c net.Conn) { c.Write([]byte("SSH-2.0-OpenSSH_9.2p1\r\n")) }, `after identifying as "SSH-2.0-OpenSSH_9.2p1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := badServer(t, tc.serve)
			d := &testenv.CountingDialer{}
			_, err := New(dropOpts).Collect(context.Background(), endpoint(t, tc.scheme+addr), &collect.Env{Dialer: d})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "the same again on a retry 50ms later") {
				t.Fatalf("error %v, want one naming the drop (%q) and the retry", err, tc.want)
			}
			if _, total := d.Stats(); total != 2 {
				t.Errorf("%d connections, want 2 (one retry)", total)
			}
		})
	}
}

// TestClientFirstServerIsNotSSH: a server that waits for its client and
// hangs up on an SSH identification (as TLS servers do) is not SSH.
func TestClientFirstServerIsNotSSH(t *testing.T) {
	addr := badServer(t, func(c net.Conn) { c.Read(make([]byte, 64)) })
	f, err := New(dropOpts).Collect(context.Background(), endpoint(t, addr), &collect.Env{})
	if err != nil || f != nil {
		t.Fatalf("got %v, %v; want nil, nil", f, err)
	}
}

// dropFirstProxy forwards connections to backend, except the first, which
// it closes at once: a server that dropped one connection under load.
func dropFirstProxy(t *testing.T, backend string) string {
	var n atomic.Int32
	return testenv.Serve(t, 30*time.Second, func(c net.Conn) {
		if n.Add(1) == 1 {
			return
		}
		b, err := net.Dial("tcp", backend)
		if err != nil {
			return
		}
		defer b.Close()
		go func() { io.Copy(b, c); b.Close() }()
		io.Copy(c, b)
	})
}

// TestOpenSSHMaxStartups: a real sshd at its MaxStartups limit drops every
// new connection ("Exceeded MaxStartups", then close). With one
// unauthenticated connection held open and MaxStartups 1, the probe, of an
// endpoint of unknown scheme or of ssh://, ends in an error naming the
// drop after its retry: never "not SSH".
func TestOpenSSHMaxStartups(t *testing.T) {
	addr := openSSHD(t, "MaxStartups 1", "LoginGraceTime 60")
	// Hold one unauthenticated connection. It is the first sshd gets
	// (openSSHD waits for sshd's log, it does not connect), so sshd
	// identifies on it.
	hold, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := io.ReadAtLeast(hold, buf, 4)
	if !strings.HasPrefix(string(buf[:n]), "SSH-") {
		t.Fatalf("sshd's first connection: %q, want its identification", buf[:n])
	}
	for _, scheme := range []string{"", "ssh://"} {
		_, err := New(dropOpts).Collect(context.Background(), endpoint(t, scheme+addr), &collect.Env{})
		if err == nil || !errors.Is(err, collect.ErrDropsConnections) {
			t.Errorf("%starget at MaxStartups: error %v, want the drop", scheme, err)
		}
	}
	hold.Close()
}

// TestRetryAfterOneDrop: behind a proxy that drops the first connection
// (a server shedding load for a moment), the probe's retry gets the whole
// answer from the real sshd.
func TestRetryAfterOneDrop(t *testing.T) {
	addr := openSSHD(t)
	proxy := dropFirstProxy(t, addr)
	d := &testenv.CountingDialer{}
	f, err := New(dropOpts).Collect(context.Background(), endpoint(t, proxy), &collect.Env{Dialer: d})
	if err != nil || f == nil || f.SSH == nil || f.SSH.AuthError != "" {
		t.Fatalf("behind a proxy that dropped the first connection: %v, %+v", err, f)
	}
	if _, total := d.Stats(); total < 3 {
		t.Errorf("%d connections: want the dropped one, its retry and the host key fetches", total)
	}
}
