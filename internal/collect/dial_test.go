package collect_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/netfail"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// TestHostLimiterForgetsHosts: a scan of a /16 takes and gives back a slot
// of each of 65,536 hosts; once they are done the limiter holds nothing
// for any of them (it kept a channel per host for the whole scan).
func TestHostLimiterForgetsHosts(t *testing.T) {
	l := collect.NewHostLimiter(2)
	ctx := context.Background()
	for i := range 1 << 16 {
		host := fmt.Sprintf("10.1.%d.%d", i>>8, i&0xff)
		r1, err := l.Acquire(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := l.Acquire(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && l.Hosts() != 1 {
			t.Fatalf("%d hosts while one holds two slots", l.Hosts())
		}
		r1()
		r2()
		r2() // a second release gives nothing back twice
	}
	if n := l.Hosts(); n != 0 {
		t.Fatalf("%d hosts still held after every connection of a /16 closed", n)
	}
}

// A host's entry stays while a connection waits for a slot, and the
// waiter that gives up leaves nothing behind either.
func TestHostLimiterWaiterLeaves(t *testing.T) {
	l := collect.NewHostLimiter(1)
	release, err := l.Acquire(context.Background(), "db1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		_, err := l.Acquire(ctx, "db1")
		waited <- err
	}()
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter: %v", err)
	}
	if l.Hosts() != 1 {
		t.Fatalf("%d hosts while a slot is held", l.Hosts())
	}
	// The held slot still counts: a new waiter gets it only once released.
	got := make(chan func(), 1)
	go func() {
		r, err := l.Acquire(context.Background(), "db1")
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	release()
	(<-got)()
	if l.Hosts() != 0 {
		t.Fatalf("%d hosts after every slot came back", l.Hosts())
	}
}

// serveOnce runs handle on each connection to a loopback listener.
func serveOnce(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	return testenv.Serve(t, 10*time.Second, handle)
}

func dial(t *testing.T, n *collect.Net, ctx context.Context, addr string, spec collect.DialSpec) *collect.Conn {
	t.Helper()
	spec.Host, spec.Addr = "127.0.0.1", addr
	c, err := n.Dial(ctx, spec)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Each failure of a connection reads as one reason of the fixed
// vocabulary.
func TestDialFailureCauses(t *testing.T) {
	ctx := context.Background()
	n := (&collect.Env{}).Net(0) // no per-host limit: the test keeps its connections open

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()
	_, err = n.Dial(ctx, collect.DialSpec{Host: "127.0.0.1", Addr: closedPort})
	if netfail.Of(err) != netfail.Refused || !strings.Contains(err.Error(), "connect "+closedPort) {
		t.Errorf("closed port: %v (%q), want refused", err, netfail.Of(err))
	}

	silent := serveOnce(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	c := dial(t, n, ctx, silent, collect.DialSpec{Timeout: 50 * time.Millisecond})
	_, err = c.Read(make([]byte, 1))
	if netfail.Of(err) != netfail.Timeout {
		t.Errorf("silent server: %v (%q), want timeout", err, netfail.Of(err))
	}

	hangsUp := serveOnce(t, func(net.Conn) {})
	c = dial(t, n, ctx, hangsUp, collect.DialSpec{})
	_, err = c.Read(make([]byte, 1))
	if netfail.Of(err) != netfail.ClosedEarly {
		t.Errorf("server that closes: %v (%q), want closed_early", err, netfail.Of(err))
	}

	resets := serveOnce(t, func(c net.Conn) {
		// Once the client is connected and spoke, close with a RST.
		if _, err := c.Read(make([]byte, 1)); err == nil {
			_ = c.(*net.TCPConn).SetLinger(0)
		}
	})
	c = dial(t, n, ctx, resets, collect.DialSpec{})
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	_, err = c.Read(make([]byte, 1))
	if netfail.Of(err) != netfail.Reset {
		t.Errorf("server that resets: %v (%q), want reset", err, netfail.Of(err))
	}

	talks := serveOnce(t, func(c net.Conn) { _, _ = c.Write(bytes.Repeat([]byte("A"), 5000)) })
	c = dial(t, n, ctx, talks, collect.DialSpec{MaxRead: 1000})
	got, err := io.ReadAll(c)
	if !errors.Is(err, collect.ErrReadLimit) || netfail.Of(err) != netfail.TooLarge || len(got) != 1000 {
		t.Errorf("5000 bytes with a 1000-byte bound: read %d, %v (%q), want 1000 then too_large", len(got), err, netfail.Of(err))
	}
	c = dial(t, n, ctx, talks, collect.DialSpec{MaxRead: collect.NoReadLimit})
	if got, err := io.ReadAll(c); err != nil || len(got) != 5000 {
		t.Errorf("without a bound: read %d, %v", len(got), err)
	}
	if n.Dials() != 5 || n.BytesRead() != 1000+5000 { // the refused connect opened nothing
		t.Errorf("net counted %d dials and %d bytes, want 5 and 6000", n.Dials(), n.BytesRead())
	}
}

// Cancelling the context unblocks a read at once; a pooled connection
// outlives the context it was dialed with.
func TestDialCancel(t *testing.T) {
	got := make(chan struct{}, 2)
	addr := serveOnce(t, func(c net.Conn) {
		b := make([]byte, 1)
		if _, err := c.Read(b); err == nil {
			got <- struct{}{}
		}
		_, _ = io.Copy(io.Discard, c)
	})
	n := (&collect.Env{}).Net(0) // no per-host limit: the test keeps its connections open
	ctx, cancel := context.WithCancel(context.Background())
	c := dial(t, n, ctx, addr, collect.DialSpec{})
	pooled := dial(t, n, ctx, addr, collect.DialSpec{Pooled: true})
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	<-got
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("read returned no error after the context ended")
	}
	// The pooled one still works.
	if _, err := pooled.Write([]byte("y")); err != nil {
		t.Fatalf("pooled connection cut by its dial context: %v", err)
	}
	<-got
	c.SetTimeout(time.Hour) // an ended context keeps the connection cut
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("SetTimeout revived a connection whose context ended")
	}
}

// A connection holds a slot of its host's budget until it closes; a
// pooled one takes none (its requests hold them, Net.Hold).
func TestDialHoldsSlotUntilClose(t *testing.T) {
	addr := serveOnce(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	hosts := collect.NewHostLimiter(1)
	n := (&collect.Env{Hosts: hosts, PerHost: 5}).Net(3)
	if n.PerHost() != 1 {
		t.Fatalf("per host %d: the scan's shared budget is the limit", n.PerHost())
	}
	c := dial(t, n, context.Background(), addr, collect.DialSpec{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := n.Dial(ctx, collect.DialSpec{Host: "127.0.0.1", Addr: addr}); err == nil || !strings.Contains(err.Error(), "waiting for a connection slot") {
		t.Fatalf("second connection while the only slot is taken: %v", err)
	}
	_ = dial(t, n, context.Background(), addr, collect.DialSpec{Pooled: true})
	c.Close()
	c.Close()
	c2 := dial(t, n, context.Background(), addr, collect.DialSpec{})
	c2.Close()
	if hosts.Hosts() != 0 {
		t.Errorf("%d hosts held after every connection closed", hosts.Hosts())
	}
}

// recordingDialer keeps the labels it was asked to dial.
type recordingDialer struct {
	net.Dialer
	mu     sync.Mutex
	labels []string
}

func (d *recordingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.labels = append(d.labels, collect.DialLabel(ctx))
	d.mu.Unlock()
	return d.Dialer.DialContext(ctx, network, addr)
}

// fixedEntropy gives each label a stream of its own bytes.
type fixedEntropy struct{}

func (fixedEntropy) Stream(label string) io.Reader {
	return strings.NewReader(strings.Repeat(label, 8))
}

// The dialer sees each connection's label, and the connection's
// randomness comes from the environment's Entropy, by label.
func TestDialLabelAndEntropy(t *testing.T) {
	addr := serveOnce(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	d := &recordingDialer{}
	n := (&collect.Env{Dialer: d, Entropy: fixedEntropy{}}).Net(2)
	c := dial(t, n, context.Background(), addr, collect.DialSpec{Label: "hello A"})
	b := make([]byte, 7)
	if _, err := io.ReadFull(c.Rand(), b); err != nil || string(b) != "hello A" || c.Label() != "hello A" {
		t.Errorf("randomness %q (%v), label %q", b, err, c.Label())
	}
	if len(d.labels) != 1 || d.labels[0] != "hello A" {
		t.Errorf("the dialer saw labels %q", d.labels)
	}
}

// WatchFirstMove consumes nothing and puts the deadline back: after a
// server that waits for its client, the conversation goes on.
func TestWatchFirstMove(t *testing.T) {
	waits := serveOnce(t, func(c net.Conn) {
		b := make([]byte, 1)
		if _, err := c.Read(b); err == nil {
			_, _ = c.Write([]byte("hi"))
		}
	})
	speaks := serveOnce(t, func(c net.Conn) { _, _ = c.Write([]byte("SSH-2.0-x\r\n")); _, _ = io.Copy(io.Discard, c) })
	hangsUp := serveOnce(t, func(net.Conn) {})
	n := (&collect.Env{}).Net(0) // no per-host limit: the test keeps its connections open
	ctx := context.Background()

	c := dial(t, n, ctx, waits, collect.DialSpec{Timeout: time.Minute})
	if move, err := c.WatchFirstMove(20 * time.Millisecond); move != collect.Waits || err != nil {
		t.Fatalf("waiting server: %v, %v", move, err)
	}
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(c); string(b) != "hi" || err != nil {
		t.Errorf("after the watch: %q, %v (the watch's deadline stayed?)", b, err)
	}

	c = dial(t, n, ctx, speaks, collect.DialSpec{})
	if move, err := c.WatchFirstMove(time.Minute); move != collect.Speaks || err != nil {
		t.Fatalf("speaking server: %v, %v", move, err)
	}
	line, err := c.Reader().ReadString('\n')
	if line != "SSH-2.0-x\r\n" || err != nil || c.BytesRead() != int64(len(line)) {
		t.Errorf("the watched bytes were consumed: %q, %v, %d counted", line, err, c.BytesRead())
	}

	c = dial(t, n, ctx, hangsUp, collect.DialSpec{})
	if move, err := c.WatchFirstMove(time.Minute); move != collect.HangsUp || err != nil {
		t.Errorf("server that hangs up: %v, %v", move, err)
	}
}

// A QuietOK connection (a port scan asking a service that may never
// speak) counts its connect as the host's answer: a fast one widens an
// adaptive budget's window and its silence afterwards narrows nothing;
// without QuietOK the same silence halves the window.
func TestQuietOKSilenceKeepsWindow(t *testing.T) {
	answers := serveOnce(t, func(c net.Conn) {
		b := make([]byte, 1)
		if _, err := c.Read(b); err == nil {
			_, _ = c.Write([]byte("ok"))
		}
		_, _ = io.Copy(io.Discard, c)
	})
	silent := serveOnce(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	hosts := collect.NewAdaptiveHostLimiter(2, 8, time.Minute)
	n := (&collect.Env{Hosts: hosts}).Net(2)
	_ = dial(t, n, context.Background(), silent, collect.DialSpec{}) // keeps the host's entry

	talk := func(addr string, quiet bool, wantAnswer bool) {
		t.Helper()
		c := dial(t, n, context.Background(), addr, collect.DialSpec{QuietOK: quiet})
		if _, err := c.Write([]byte("?")); err != nil {
			t.Fatal(err)
		}
		if wantAnswer {
			b := make([]byte, 2)
			if _, err := io.ReadFull(c, b); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
	}
	talk(answers, true, true)
	if w := hosts.Window("127.0.0.1"); w != 3 {
		t.Fatalf("window %d after a fast connect and answer on a QuietOK connection, want 3 (one widening)", w)
	}
	talk(silent, true, false)
	if w := hosts.Window("127.0.0.1"); w != 4 {
		t.Errorf("window %d after a QuietOK connection connected fast and heard nothing, want 4", w)
	}
	talk(silent, false, false)
	if w := hosts.Window("127.0.0.1"); w != 2 {
		t.Errorf("window %d after a plain connection heard nothing, want it halved to the base 2", w)
	}
}
