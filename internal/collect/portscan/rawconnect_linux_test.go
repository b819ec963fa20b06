//go:build linux

package portscan

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/netnstest"
	"github.com/rampart-sec/rampart/internal/target"
)

// socketCounter is a namespace's dialer that counts the sockets the raw
// engine opens there and the connections dialed the ordinary way.
type socketCounter struct {
	ns             *netnstest.Dialer
	sockets, dials atomic.Int64
}

func (d *socketCounter) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.dials.Add(1)
	return d.ns.DialContext(ctx, network, addr)
}

func (d *socketCounter) OpenSocket(family int) (int, error) {
	d.sockets.Add(1)
	return d.ns.OpenSocket(family)
}

// speaksWhenSpokenTo sends an SSH identification only once the client sent
// something: a server-first service whose banner comes after the banner
// wait, so after the TLS ClientHello, still reads as SSH.
func speaksWhenSpokenTo(c net.Conn) {
	b := make([]byte, 1)
	if _, err := c.Read(b); err != nil {
		return
	}
	_, _ = c.Write([]byte("SSH-2.0-late_banner\r\n"))
	_, _ = io.Copy(io.Discard, c)
}

// TestRawConnectFullRangeInNamespace scans 1-65535 of a namespace's
// loopback with the raw engine (its sockets opened in the namespace): the
// exact listeners are found open, every other port closed, no connect of
// the scan goes through the Dialer, and each service is named as it is,
// a silent one and one that closes at once as unknown.
func TestRawConnectFullRangeInNamespace(t *testing.T) {
	ns := netnstest.New(t)
	cert := testCert(t)
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	type lis struct {
		port    int
		handle  func(net.Conn)
		tls     bool
		service string
	}
	listeners := []lis{
		{1, closeHandler, false, svcUnknown},
		{22, func(c net.Conn) { _, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n")); _, _ = io.Copy(io.Discard, c) }, false, svcSSH},
		{2022, speaksWhenSpokenTo, false, svcSSH},
		{18080, httpHandler("plain"), false, svcHTTP},
		{18443, httpHandler("inside"), true, svcHTTPS},
		{27443, silentHandler, true, svcTLS},
		{40000, silentHandler, false, svcUnknown},
		{65535, silentHandler, false, svcUnknown},
	}
	var want []int
	for _, l := range listeners {
		ln := ns.Listen(t, "tcp", "127.0.0.1:"+strconv.Itoa(l.port))
		if l.tls {
			ln = tls.NewListener(ln, tlsCfg)
		}
		serve(t, ln, l.handle)
		want = append(want, l.port)
	}
	d := &socketCounter{ns: ns.Dialer(t, 16)}
	tg := target.Target{Name: "ns", Kind: target.Node, Host: "127.0.0.1", Decl: target.Declared{Ports: "1-65535"}}
	p := collectPorts(t, fastCollector(), tg, &collect.Env{Dialer: d, PerHost: 8})
	var got []int
	for _, o := range p.Open {
		got = append(got, o.Port)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("open ports %v, want %v", got, want)
	}
	if p.Tried != 65535 || p.Closed != 65535-len(want) || p.Filtered != 0 || p.Source != "127.0.0.1" {
		t.Errorf("tried %d closed %d filtered %d source %q", p.Tried, p.Closed, p.Filtered, p.Source)
	}
	if d.sockets.Load() < 65535 {
		t.Errorf("%d sockets opened for 65,535 ports", d.sockets.Load())
	}
	// Every dial is identification's: at most seven probes per open port.
	if n := d.dials.Load(); n > int64(7*len(want)) {
		t.Errorf("%d dials through the Dialer: the scan's connects went there too", n)
	}
	for _, l := range listeners {
		if o, _ := openPort(p, l.port); o.Service != l.service {
			t.Errorf("port %d: %+v, want %s", l.port, o, l.service)
		}
	}
	if o, _ := openPort(p, 2022); o.Banner != "SSH-2.0-late_banner" {
		t.Errorf("late banner: %+v", o)
	}
}

// A loopback connect can meet itself (the kernel picks the scanned port as
// its own local port: a simultaneous open); that connection says nothing
// about the port, so the engine tries again rather than report it open.
func TestSelfConnectIsRetried(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	lo := [4]byte{127, 0, 0, 1}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: lo}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*unix.SockaddrInet4).Port
	// The port is this test's own socket: it connects to itself.
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: lo, Port: port}); err != nil {
		t.Fatalf("self-connect to the test's own port %d: %v", port, err)
	}
	if st, _ := finish(fd, netip.MustParseAddr("127.0.0.1")); st != stateRetry {
		t.Errorf("self-connected socket: state %v, want a retry", st)
	}
}

// The raw engine takes a plain *net.Dialer and a SocketOpener, and leaves
// a Dialer that changes its connects (a local address, a hook) or any
// other Dialer to the ordinary path.
func TestRawEngineChoice(t *testing.T) {
	if rawEngine(&net.Dialer{}) == nil || rawEngine(&socketCounter{}) == nil {
		t.Error("plain dialer or socket opener: no raw engine")
	}
	if rawEngine(&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}) != nil {
		t.Error("a dialer with a local address got the raw engine")
	}
	if rawEngine(newCountingDialer(nil)) != nil {
		t.Error("a wrapping dialer got the raw engine")
	}
	r := rawEngine(&net.Dialer{})
	if !r.usable("127.0.0.1") || !r.usable("::1") || r.usable("fe80::1%lo") || r.usable("example.org") {
		t.Error("usable addresses")
	}
}

// A scan cancelled while its connects are under way stops with the
// context's error and leaves no socket of its own open. The sockets are
// told by their inodes: counting the process's descriptors also counted
// the listener's side of a connection, which its handler closes a moment
// after the scan closed its end (CI saw 11 descriptors after, 10 before).
func TestRawConnectCancelled(t *testing.T) {
	ns := netnstest.New(t)
	serve(t, ns.Listen(t, "tcp", "127.0.0.1:22"), silentHandler)
	d := &socketRecorder{ns: ns.Dialer(t, 4)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := &collect.Env{Dialer: d, PerHost: 8, PortProgress: func(_ string, done, _, _ int) {
		if done >= 1024 {
			cancel()
		}
	}}
	tg := target.Target{Name: "ns", Kind: target.Node, Host: "127.0.0.1", Decl: target.Declared{Ports: "1-65535"}}
	_, err := fastCollector().Collect(ctx, tg, env)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scan: %v, want context.Canceled", err)
	}
	opened, open := d.stillOpen(t)
	if opened < 1024 {
		t.Fatalf("the scan opened %d sockets before it was cancelled, want at least 1024", opened)
	}
	if len(open) > 0 {
		t.Errorf("%d of the scan's %d sockets still open after it returned: descriptors %v", len(open), opened, open)
	}
}

// A scan cancelled while connects are in flight closes those sockets too.
// Its target is an address on a veth's subnet that nobody holds: its ARP
// request goes unanswered, so for seconds no connect completes.
func TestRawConnectCancelledInFlight(t *testing.T) {
	ns, peer := netnstest.New(t), netnstest.New(t)
	netnstest.Veth(t, ns, peer, "192.0.2.1/24", "192.0.2.2/24")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const window = 8
	d := &socketRecorder{ns: ns.Dialer(t, 4), onOpen: func(n int) {
		if n == 2*window {
			cancel()
		}
	}}
	env := &collect.Env{Dialer: d, PerHost: window}
	tg := target.Target{Name: "ns", Kind: target.Node, Host: "192.0.2.9", Decl: target.Declared{Ports: "1-65535"}}
	_, err := fastCollector().Collect(ctx, tg, env)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scan: %v, want context.Canceled", err)
	}
	opened, open := d.stillOpen(t)
	if opened < 2*window {
		t.Fatalf("the scan opened %d sockets before it was cancelled, want %d", opened, 2*window)
	}
	if len(open) > 0 {
		t.Errorf("%d of the scan's %d sockets still open after it returned: descriptors %v", len(open), opened, open)
	}
}

// socketRecorder is a namespace's dialer that remembers every socket the
// scan opens (raw or dialed) by descriptor and inode, so a test can tell
// whether one is still open: a descriptor number reused since refers to
// another inode.
type socketRecorder struct {
	ns     *netnstest.Dialer
	onOpen func(opened int) // if set, called after each socket is recorded
	mu     sync.Mutex
	fds    map[int]uint64 // descriptor -> inode, as opened
	n      int
	// unseen are sockets it could not record: stillOpen fails the test
	// rather than pass it on what it did not see.
	unseen []error
}

func (d *socketRecorder) record(fd int) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		d.miss(fmt.Errorf("fstat descriptor %d: %w", fd, err))
		return
	}
	d.mu.Lock()
	if d.fds == nil {
		d.fds = map[int]uint64{}
	}
	d.fds[fd] = st.Ino
	d.n++
	n := d.n
	d.mu.Unlock()
	if d.onOpen != nil {
		d.onOpen(n)
	}
}

func (d *socketRecorder) OpenSocket(family int) (int, error) {
	fd, err := d.ns.OpenSocket(family)
	if err == nil {
		d.record(fd)
	}
	return fd, err
}

func (d *socketRecorder) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.ns.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		d.miss(fmt.Errorf("a %T has no descriptor", c))
		return c, nil
	}
	raw, err := sc.SyscallConn()
	if err == nil {
		err = raw.Control(func(fd uintptr) { d.record(int(fd)) })
	}
	if err != nil {
		d.miss(fmt.Errorf("descriptor of a connection to %s: %w", addr, err))
	}
	return c, nil
}

func (d *socketRecorder) miss(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.unseen = append(d.unseen, err)
}

// stillOpen reports how many sockets were opened and the descriptors of
// those that still refer to the socket they were opened as.
func (d *socketRecorder) stillOpen(t *testing.T) (int, []int) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, err := range d.unseen {
		t.Errorf("a socket of the scan not recorded: %v", err)
	}
	var open []int
	for fd, ino := range d.fds {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err == nil && st.Ino == ino {
			open = append(open, fd)
		}
	}
	slices.Sort(open)
	return d.n, open
}
