// Package netnstest gives tests network namespaces of their own: a private
// loopback (and veth links between namespaces, to stand for network zones)
// where a test may open any port and scan whole ranges without touching the
// machine's network. Code reaches a namespace only through the listeners
// and the dialer this package hands out, whose sockets are created on OS
// threads that joined it. Creating namespaces needs root (ip netns add);
// where that is not possible the test is skipped, or failed when
// RAMPART_EVAL=1 says the environment must provide it (testenv.Missing).
package netnstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// NS is a network namespace a test created; it is deleted when the test
// ends.
type NS struct {
	Name string
	path string
}

var seq atomic.Int64

// New creates a namespace with its loopback up.
func New(t testing.TB) *NS {
	t.Helper()
	testenv.Root(t, "network namespaces (ip netns add)")
	testenv.Tool(t, "ip", "apt-get install iproute2")
	name := fmt.Sprintf("rampart-t%d-%d", os.Getpid(), seq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		testenv.Missing(t, "ip netns add: %v: %s", err, out)
	}
	ns := &NS{Name: name, path: "/run/netns/" + name}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	ns.IP(t, "link", "set", "lo", "up")
	return ns
}

// IP runs `ip -n NS args...`.
func (ns *NS) IP(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", ns.Name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s %s: %v: %s", ns.Name, strings.Join(args, " "), err, out)
	}
}

// LinkTo is the name of ns's end of the veth that Veth made to peer:
// "v<pid>-<n>" of the peer, unique across test processes running at once
// and within the 15 bytes an interface name may have.
func (ns *NS) LinkTo(peer *NS) string {
	return "v" + strings.TrimPrefix(peer.Name, "rampart-t")
}

// Veth links a and b with a veth pair, a's end at aAddr and b's at bAddr
// (CIDR notation), both up.
func Veth(t testing.TB, a, b *NS, aAddr, bAddr string) {
	t.Helper()
	la, lb := a.LinkTo(b), b.LinkTo(a)
	out, err := exec.Command("ip", "link", "add", la, "netns", a.Name, "type", "veth", "peer", "name", lb, "netns", b.Name).CombinedOutput()
	if err != nil {
		testenv.Missing(t, "veth: %v: %s", err, out)
	}
	a.IP(t, "addr", "add", aAddr, "dev", la)
	b.IP(t, "addr", "add", bAddr, "dev", lb)
	a.IP(t, "link", "set", la, "up")
	b.IP(t, "link", "set", lb, "up")
	// The carrier comes up after "link set up" returns: a SYN sent before
	// is dropped, and a scan with a sub-second connect timeout then takes
	// a live address for a dead one. Wait until both ends carry.
	a.waitCarrier(t, la)
	b.waitCarrier(t, lb)
}

// waitCarrier returns once link in ns is up with a carrier (LOWER_UP).
func (ns *NS) waitCarrier(t testing.TB, link string) {
	t.Helper()
	testenv.Poll(t, 10*time.Second, "carrier on "+link+" in "+ns.Name, func() error {
		out, err := exec.Command("ip", "-n", ns.Name, "-o", "link", "show", "dev", link).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip link show: %v: %s", err, out)
		}
		if !strings.Contains(string(out), "LOWER_UP") || !strings.Contains(string(out), "state UP") {
			return fmt.Errorf("not yet: %s", strings.TrimSpace(string(out)))
		}
		return nil
	})
}

// join moves the calling goroutine's OS thread into the namespace; the
// goroutine must stay locked (and end locked, so the thread is discarded).
func (ns *NS) join() error {
	runtime.LockOSThread()
	fd, err := unix.Open(ns.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Setns(fd, unix.CLONE_NEWNET)
}

// Listen opens a listener inside the namespace.
func (ns *NS) Listen(t testing.TB, network, addr string) net.Listener {
	t.Helper()
	type res struct {
		l   net.Listener
		err error
	}
	c := make(chan res, 1)
	go func() {
		if err := ns.join(); err != nil {
			c <- res{nil, err}
			return
		}
		l, err := net.Listen(network, addr)
		c <- res{l, err}
	}()
	r := <-c
	if r.err != nil {
		t.Fatalf("listen %s in %s: %v", addr, ns.Name, r.err)
	}
	t.Cleanup(func() { r.l.Close() })
	return r.l
}

// ListenAll opens many listeners inside the namespace from one thread
// (a benchmark's thousands of targets).
func (ns *NS) ListenAll(t testing.TB, network string, addrs []string) []net.Listener {
	t.Helper()
	type res struct {
		ls  []net.Listener
		err error
	}
	c := make(chan res, 1)
	go func() {
		if err := ns.join(); err != nil {
			c <- res{nil, err}
			return
		}
		var ls []net.Listener
		for _, a := range addrs {
			l, err := net.Listen(network, a)
			if err != nil {
				for _, l := range ls {
					l.Close()
				}
				c <- res{nil, fmt.Errorf("listen %s: %w", a, err)}
				return
			}
			ls = append(ls, l)
		}
		c <- res{ls, nil}
	}()
	r := <-c
	if r.err != nil {
		t.Fatalf("in %s: %v", ns.Name, r.err)
	}
	t.Cleanup(func() {
		for _, l := range r.ls {
			l.Close()
		}
	})
	return r.ls
}

// Dialer returns a dialer (a collect.Dialer) whose connections are made
// from inside the namespace by a pool of workers threads.
func (ns *NS) Dialer(t testing.TB, workers int) *Dialer {
	t.Helper()
	d := &Dialer{reqs: make(chan func())}
	ready := make(chan error, workers)
	for range workers {
		go func() {
			if err := ns.join(); err != nil {
				ready <- err
				return
			}
			ready <- nil
			for r := range d.reqs {
				r()
			}
		}()
	}
	for range workers {
		if err := <-ready; err != nil {
			t.Fatalf("join namespace %s: %v", ns.Name, err)
		}
	}
	t.Cleanup(func() { close(d.reqs) })
	return d
}

type dialRes struct {
	c   net.Conn
	err error
}

// Dialer dials from inside a namespace: each request runs on one of its
// worker threads, which joined the namespace.
type Dialer struct{ reqs chan func() }

// DialContext implements collect.Dialer.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	reply := make(chan dialRes, 1)
	req := func() {
		var nd net.Dialer
		c, err := nd.DialContext(ctx, network, addr)
		reply <- dialRes{c, err}
	}
	select {
	case d.reqs <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res := <-reply
	return res.c, res.err
}

// OpenSocket opens a non-blocking TCP socket of family (unix.AF_INET or
// AF_INET6) inside the namespace, for a port scan that makes its own
// connects (portscan.SocketOpener): a socket keeps the namespace it was
// made in, whichever thread connects it.
func (d *Dialer) OpenSocket(family int) (int, error) {
	type res struct {
		fd  int
		err error
	}
	reply := make(chan res, 1)
	d.reqs <- func() {
		fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		reply <- res{fd, err}
	}
	r := <-reply
	return r.fd, r.err
}
