package portscan

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
)

// TestIdentifyRetriesAConnectionDroppedWithoutAWord: an sshd past its
// MaxStartups (or any server under load) closes a new connection before
// its banner. The port is asked once more before it is called unknown,
// so a busy sshd is still named ssh; a port that closes every connection
// at once stays unknown (TestIdentifyLoopbackServers, "closes at once").
func TestIdentifyRetriesAConnectionDroppedWithoutAWord(t *testing.T) {
	var accepted atomic.Int32
	l := listenLoopback(t)
	serve(t, l, func(c net.Conn) {
		if accepted.Add(1) == 1 {
			return // the first connection: closed without a word
		}
		_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))
		_, _ = io.Copy(io.Discard, c)
	})
	env := &collect.Env{Dialer: newCountingDialer(nil), PerHost: 4}
	d := &identifier{net: env.Net(4), ip: "127.0.0.1", bannerWait: 2 * time.Second,
		probeTimeout: 2 * time.Second, appWait: time.Second}
	id := d.identify(context.Background(), portOf(l))
	if id.service != svcSSH {
		t.Fatalf("service %q banner %q, want ssh on the second connection", id.service, id.banner)
	}
	if n := accepted.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (one dropped, one answered)", n)
	}
}
