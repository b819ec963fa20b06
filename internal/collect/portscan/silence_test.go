package portscan

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/netnstest"
	"github.com/rampart-sec/rampart/internal/target"
)

// holdingHandler counts the connections it holds open at once, then runs
// handle.
type holdingHandler struct {
	open, peak, total atomic.Int64
}

func (h *holdingHandler) serve(handle func(net.Conn)) func(net.Conn) {
	return func(c net.Conn) {
		h.total.Add(1)
		n := h.open.Add(1)
		defer h.open.Add(-1)
		for {
			p := h.peak.Load()
			if n <= p || h.peak.CompareAndSwap(p, n) {
				break
			}
		}
		handle(c)
	}
}

// unhintedListener listens on a loopback port that gives identification
// no hint (every probe is tried, TLS first after a banner wait).
func unhintedListener(t *testing.T) net.Listener {
	t.Helper()
	for range 20 {
		l := listenLoopback(t)
		if hintedProbe(portOf(l)) == probeNone {
			return l
		}
		_ = l.Close()
	}
	t.Fatal("no loopback port without a hint")
	return nil
}

// A port that accepts and never speaks: once the first probe heard
// nothing, the other six go out at once, each tried once (they share one
// window instead of a timeout each), and the port is unknown.
func TestSilentPortSharesOneWindow(t *testing.T) {
	l := unhintedListener(t)
	var h holdingHandler
	serve(t, l, h.serve(silentHandler))
	env := &collect.Env{Dialer: &net.Dialer{}, PerHost: 8}
	id := fastCollector().newIdentifying(context.Background(), env, nodeTarget("127.0.0.1"), "127.0.0.1").finish([]int{portOf(l)})
	if id[0].service != svcUnknown || id[0].banner != "" {
		t.Errorf("silent port: %+v", id[0])
	}
	if got := h.total.Load(); got != int64(len(defaultOrder)) {
		t.Errorf("%d connections, want one per probe (%d)", got, len(defaultOrder))
	}
	// The first probe's connection is still open when the others arrive.
	if got := h.peak.Load(); got != int64(len(defaultOrder)) {
		t.Errorf("at most %d connections at once, want all %d probes' (the six after the first sent together)", got, len(defaultOrder))
	}
	// With Silence < 0 the probes go one after the other, as before (the
	// server may see the next before it notices the last one close).
	var seq holdingHandler
	l2 := unhintedListener(t)
	serve(t, l2, seq.serve(silentHandler))
	c := New(Options{ConnectTimeout: fastCollector().opts.ConnectTimeout, BannerWait: fastCollector().opts.BannerWait,
		ProbeTimeout: fastCollector().opts.ProbeTimeout, Silence: -1})
	id = c.newIdentifying(context.Background(), env, nodeTarget("127.0.0.1"), "127.0.0.1").finish([]int{portOf(l2)})
	if id[0].service != svcUnknown || seq.total.Load() != int64(len(defaultOrder)) || seq.peak.Load() > 2 {
		t.Errorf("one after the other: %+v, %d connections, %d at once", id[0], seq.total.Load(), seq.peak.Load())
	}
}

// A service silent to a TLS ClientHello that answers a plain HTTP request
// (or, here, only that): the probes sent ahead are read in order, and the
// answer is the one the probes in turn would give.
func TestSilentToTLSAnswersHTTP(t *testing.T) {
	l := unhintedListener(t)
	serve(t, l, func(c net.Conn) {
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "GET " {
			_, _ = io.Copy(io.Discard, c) // silent to anything else
			return
		}
		httpHandler("quiet-httpd")(c)
	})
	env := &collect.Env{Dialer: &net.Dialer{}, PerHost: 8}
	id := fastCollector().newIdentifying(context.Background(), env, nodeTarget("127.0.0.1"), "127.0.0.1").finish([]int{portOf(l)})
	if id[0].service != svcHTTP || id[0].banner != "quiet-httpd" {
		t.Errorf("got %+v, want http quiet-httpd", id[0])
	}
}

// Identification starts while the scan goes on: in a namespace with a
// listener on port 1 and 65,535 ports to try, the first identification
// connection is dialed before the scan's last connect, whether the scan
// connects through the Dialer or makes its own sockets (the raw engine).
func TestIdentifiedWhileScanning(t *testing.T) {
	for _, raw := range []bool{false, true} {
		t.Run(map[bool]string{false: "dialer", true: "raw"}[raw], func(t *testing.T) {
			ns := netnstest.New(t)
			serve(t, ns.Listen(t, "tcp", "127.0.0.1:1"), silentHandler)
			serve(t, ns.Listen(t, "tcp", "127.0.0.1:22"), func(c net.Conn) { _, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n")); _, _ = io.Copy(io.Discard, c) })
			od := &orderDialer{inner: ns.Dialer(t, 64)}
			var d collect.Dialer = od
			if raw {
				d = &rawOrderDialer{orderDialer: od, ns: ns.Dialer(t, 4)}
			}
			tg := target.Target{Name: "ns", Kind: target.Node, Host: "127.0.0.1", Decl: target.Declared{Ports: "1-65535"}}
			p := collectPorts(t, fastCollector(), tg, &collect.Env{Dialer: d, PerHost: 8})
			if len(p.Open) != 2 || p.Open[0].Service != svcUnknown || p.Open[1].Service != svcSSH {
				t.Fatalf("open: %+v", p.Open)
			}
			od.mu.Lock()
			defer od.mu.Unlock()
			if od.lastScan < 65535 {
				t.Fatalf("%d scan connects for 65,535 ports", od.lastScan-od.identifies)
			}
			if od.firstIdentify < 0 || od.firstIdentify > od.lastScan {
				t.Errorf("first identification dial #%d, last scan connect #%d: identification waited for the scan", od.firstIdentify, od.lastScan)
			}
		})
	}
}

// rawOrderDialer is an orderDialer whose scan connects are the raw
// engine's: each socket it opens (in the namespace) counts as one.
type rawOrderDialer struct {
	*orderDialer
	ns *netnstest.Dialer
}

func (d *rawOrderDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if collect.DialLabel(ctx) == "" {
		return nil, fmt.Errorf("dial %s without a label: the scan's connects were to be the raw engine's", addr)
	}
	return d.orderDialer.DialContext(ctx, network, addr)
}

func (d *rawOrderDialer) OpenSocket(family int) (int, error) {
	d.mu.Lock()
	if !d.started {
		d.started, d.firstIdentify = true, -1
	}
	d.n++
	d.lastScan = d.n
	d.mu.Unlock()
	return d.ns.OpenSocket(family)
}

// orderDialer numbers dials: those of the scan (no label) and those of
// identification (labelled).
type orderDialer struct {
	inner                   collect.Dialer
	mu                      sync.Mutex
	n                       int
	firstIdentify, lastScan int
	identifies              int
	started                 bool
}

func (d *orderDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	if !d.started {
		d.started, d.firstIdentify = true, -1
	}
	d.n++
	if collect.DialLabel(ctx) != "" {
		d.identifies++
		if d.firstIdentify < 0 {
			d.firstIdentify = d.n
		}
	} else {
		d.lastScan = d.n
	}
	d.mu.Unlock()
	return d.inner.DialContext(ctx, network, addr)
}

// A port that never speaks says nothing about how loaded its host is: its
// seven silent connections do not narrow the host's adaptive window (their
// fast connects widen it further; a plain connection that heard nothing
// would halve it).
func TestSilentPortKeepsHostWindow(t *testing.T) {
	talking, silent := unhintedListener(t), unhintedListener(t)
	serve(t, talking, httpHandler("talks"))
	serve(t, silent, silentHandler)
	hosts := collect.NewAdaptiveHostLimiter(2, 16, time.Minute)
	env := &collect.Env{Dialer: &net.Dialer{}, Hosts: hosts}
	release, err := env.Net(2).Hold(context.Background(), "127.0.0.1") // keeps the host's entry
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ids := fastCollector().newIdentifying(context.Background(), env, nodeTarget("127.0.0.1"), "127.0.0.1")
	if id := ids.finish([]int{portOf(talking)}); id[0].service != svcHTTP {
		t.Fatalf("talking port: %+v", id[0])
	}
	widened := hosts.Window("127.0.0.1")
	if widened <= 2 {
		t.Fatalf("window %d after a port answered at once, want it widened past 2", widened)
	}
	ids = fastCollector().newIdentifying(context.Background(), env, nodeTarget("127.0.0.1"), "127.0.0.1")
	if id := ids.finish([]int{portOf(silent)}); id[0].service != svcUnknown {
		t.Fatalf("silent port: %+v", id[0])
	}
	if w := hosts.Window("127.0.0.1"); w < widened {
		t.Errorf("window %d after a silent port, want it kept at %d or more", w, widened)
	}
}
