package portscan

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/netnstest"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// TestFullRangeInNamespace scans 1-65535 of a namespace's own loopback,
// where only this test's listeners run, and must find exactly them.
func TestFullRangeInNamespace(t *testing.T) {
	ns := netnstest.New(t)
	want := []int{1, 22, 443, 4000, 9443, 9999, 33333, 65535}
	handlers := map[int]func(net.Conn){22: garbageHandler, 443: httpHandler("x"), 4000: hazelcastHandler, 9999: silentHandler}
	for _, p := range want {
		h := handlers[p]
		if h == nil {
			h = closeHandler
		}
		serve(t, ns.Listen(t, "tcp", "127.0.0.1:"+strconv.Itoa(p)), h)
	}
	d := newCountingDialer(ns.Dialer(t, 64))
	tg := target.Target{Name: "ns", Kind: target.Node, Host: "127.0.0.1", Decl: target.Declared{Ports: "1-65535"}}
	p := collectPorts(t, fastCollector(), tg, &collect.Env{Dialer: d, PerHost: 8})
	var got []int
	for _, o := range p.Open {
		got = append(got, o.Port)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("open ports %v, want %v", got, want)
	}
	if p.Tried != 65535 || p.Closed != 65535-len(want) || p.Filtered != 0 {
		t.Errorf("tried %d closed %d filtered %d", p.Tried, p.Closed, p.Filtered)
	}
	if o, _ := openPort(p, 4000); o.Service != svcHazelcast || o.Default != "hazelcast" {
		t.Errorf("4000: %+v", o)
	}
	if o, _ := openPort(p, 9999); o.Default != "jmx-rmi-registry" || o.Service != svcUnknown {
		t.Errorf("9999: %+v", o)
	}
	if d.n.Load() < 65535 {
		t.Errorf("%d connections for 65535 ports", d.n.Load())
	}
}

// TestFilteredAndIPv6InNamespace: an address on a dummy interface with
// no route back answers nothing (filtered, bounded by the timeout); ::1
// in the namespace is scanned like 127.0.0.1.
func TestFilteredAndIPv6InNamespace(t *testing.T) {
	ns := netnstest.New(t)
	serve(t, ns.Listen(t, "tcp", "[::1]:8443"), httpHandler("v6"))
	d := ns.Dialer(t, 8)
	p := collectPorts(t, fastCollector(), nodeTarget("::1", 8442, 8443, 8444), &collect.Env{Dialer: d})
	if len(p.Open) != 1 || p.Open[0].Port != 8443 || p.Open[0].Service != svcHTTP || p.Closed != 2 {
		t.Fatalf("::1: %+v", p)
	}

	// A blackhole route makes connects to 198.51.100.7 fail at once
	// inside the namespace: unreachable counts as filtered.
	ns.IP(t, "route", "add", "blackhole", "198.51.100.0/24")
	p = collectPorts(t, fastCollector(), nodeTarget("198.51.100.7", 80, 443), &collect.Env{Dialer: d})
	if len(p.Open) != 0 || p.Filtered != 2 || p.Closed != 0 {
		t.Fatalf("blackholed: %+v", p)
	}
}

// TestTimeoutFilteredInNamespace: a peer namespace that drops everything
// (its interface is down after the route is learned) leaves connects
// unanswered; they end as filtered within the connect timeout (plus one
// retry at the maximum).
func TestTimeoutFilteredInNamespace(t *testing.T) {
	a, b := netnstest.New(t), netnstest.New(t)
	netnstest.Veth(t, a, b, "192.0.2.1/24", "192.0.2.2/24")
	// Drop b's side: packets from a go into the void.
	b.IP(t, "link", "set", b.LinkTo(a), "down")
	a.IP(t, "neigh", "replace", "192.0.2.2", "lladdr", "02:00:00:00:00:02", "dev", a.LinkTo(b), "nud", "permanent")
	c := New(Options{ConnectTimeout: 400 * time.Millisecond, MinTimeout: 100 * time.Millisecond})
	p := collectPorts(t, c, nodeTarget("192.0.2.2", 22, 80, 443), &collect.Env{Dialer: a.Dialer(t, 4)})
	if p.Filtered != 3 || len(p.Open) != 0 {
		t.Fatalf("dropped: %+v", p)
	}
}

// TestCIDRDiscoveryInNamespace: a /29 where two addresses answer (one
// with an open port, one refusing) and the rest do not exist.
func TestCIDRDiscoveryInNamespace(t *testing.T) {
	a, b := netnstest.New(t), netnstest.New(t)
	netnstest.Veth(t, a, b, "192.0.2.1/29", "192.0.2.2/29")
	b.IP(t, "addr", "add", "192.0.2.3/29", "dev", b.LinkTo(a))
	serve(t, b.Listen(t, "tcp", "192.0.2.3:9443"), closeHandler)
	c := New(Options{ConnectTimeout: 500 * time.Millisecond})
	tg := target.Target{Name: "range", Kind: target.Node, Host: "192.0.2.0/29"}
	f, err := c.Collect(context.Background(), tg, &collect.Env{Dialer: a.Dialer(t, 16)})
	if err != nil || f.Ports == nil {
		t.Fatalf("%v", err)
	}
	if st := f.Status[facts.NSPorts]; st.State != facts.Absent || !strings.Contains(st.Reason, "3 live address(es)") {
		t.Errorf("status of a range: %+v", st)
	}
	p := f.Ports
	// 192.0.2.1 is the scanner's own address in a: refused, so live too.
	if !slices.Equal(p.Hosts, []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}) {
		t.Fatalf("hosts %v", p.Hosts)
	}
	if p.Tried != 6*len(discoveryPorts) {
		t.Errorf("tried %d", p.Tried)
	}
}

// TestJavaRMIAndJMXInNamespace identifies a real JDK rmiregistry and a
// real JMX agent (registry and RMI server ports) started in a namespace.
func TestJavaRMIAndJMXInNamespace(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		testenv.Missing(t, "no java")
	}
	ns := netnstest.New(t)
	src, _ := filepath.Abs("testdata/jmx/Sleep.java")
	jmx := exec.Command("ip", "netns", "exec", ns.Name, java,
		"-Dcom.sun.management.jmxremote.port=9999", "-Dcom.sun.management.jmxremote.rmi.port=11111",
		"-Dcom.sun.management.jmxremote.authenticate=false", "-Dcom.sun.management.jmxremote.ssl=false",
		"-Djava.rmi.server.hostname=127.0.0.1", src, "60000")
	startProc(t, jmx)
	if rmireg, err := exec.LookPath("rmiregistry"); err == nil {
		startProc(t, exec.Command("ip", "netns", "exec", ns.Name, rmireg, "1099"))
	}
	d := ns.Dialer(t, 8)
	waitListening(t, d, "127.0.0.1:9999", "127.0.0.1:11111")
	ports := []int{9999, 11111}
	if _, err := exec.LookPath("rmiregistry"); err == nil {
		waitListening(t, d, "127.0.0.1:1099")
		ports = append(ports, 1099)
	}
	p := collectPorts(t, fastCollector(), nodeTarget("127.0.0.1", ports...), &collect.Env{Dialer: d})
	for _, port := range ports {
		o, ok := openPort(p, port)
		if !ok || o.Service != svcJMX || o.Banner != "Java RMI" {
			t.Errorf("port %d: %+v, want jmx", port, o)
		}
	}
	if o, _ := openPort(p, 11111); o.Default != "jmx-rmi-server" {
		t.Errorf("11111 default %q", o.Default)
	}
}

// TestPostgreSQLInNamespace identifies a real PostgreSQL server.
func TestPostgreSQLInNamespace(t *testing.T) {
	initdb, postgres := postgresBinaries()
	if initdb == "" {
		testenv.Missing(t, "PostgreSQL is not installed (apt-get install postgresql)")
	}
	ns := netnstest.New(t)
	dir, err := os.MkdirTemp("", "rampart-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	asNobody := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"}
	out, err := exec.Command(asNobody[0], append(asNobody[1:], initdb, "-D", dir+"/data", "-A", "trust", "-U", "rampart")...).CombinedOutput()
	if err != nil {
		t.Fatalf("initdb: %v: %s", err, out)
	}
	pg := exec.Command("ip", append([]string{"netns", "exec", ns.Name}, append(asNobody, postgres, "-D", dir+"/data", "-p", "5432",
		"-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")...)...)
	startProc(t, pg)
	d := ns.Dialer(t, 4)
	waitListening(t, d, "127.0.0.1:5432")
	p := collectPorts(t, fastCollector(), nodeTarget("127.0.0.1", 5432), &collect.Env{Dialer: d})
	if o, _ := openPort(p, 5432); o.Service != svcPostgreSQL || o.Banner != "SSL not supported" {
		t.Fatalf("5432: %+v", p.Open)
	}
}

// postgresBinaries finds initdb and postgres on PATH or where Debian
// keeps them.
func postgresBinaries() (initdb, postgres string) {
	i, err1 := exec.LookPath("initdb")
	p, err2 := exec.LookPath("postgres")
	if err1 == nil && err2 == nil {
		return i, p
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for _, d := range dirs {
		i, p = filepath.Join(d, "initdb"), filepath.Join(d, "postgres")
		if _, err := os.Stat(i); err == nil {
			if _, err := os.Stat(p); err == nil {
				return i, p
			}
		}
	}
	return "", ""
}

// startProc starts cmd and stops it (its process only) when the test ends.
func startProc(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(cmd.Args[len(cmd.Args)-1]), out.String())
		}
	})
}

// waitListening waits until every address accepts a connection.
func waitListening(t *testing.T, d collect.Dialer, addrs ...string) {
	t.Helper()
	for _, a := range addrs {
		// Another process (java, postgres) in the namespace: it says
		// nothing when it listens, so its port is tried until it does.
		testenv.Poll(t, 30*time.Second, a+" listening", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			c, err := d.DialContext(ctx, "tcp", a)
			if err == nil {
				c.Close()
			}
			return err
		})
	}
}

// TestEverythingOpenInNamespace: a host where 2,000 ports accept (as a
// firewall answering for every port would) is scanned in bounded time:
// only the first MaxIdentify open ports are identified.
func TestEverythingOpenInNamespace(t *testing.T) {
	ns := netnstest.New(t)
	for p := 20000; p < 22000; p++ {
		serve(t, ns.Listen(t, "tcp", "127.0.0.1:"+strconv.Itoa(p)), closeHandler)
	}
	c := New(Options{MaxIdentify: 50, BannerWait: 100 * time.Millisecond})
	start := time.Now()
	p := collectPorts(t, c, target.Target{Name: "all", Kind: target.Node, Host: "127.0.0.1", Decl: target.Declared{Ports: "20000-21999"}},
		&collect.Env{Dialer: ns.Dialer(t, 32), PerHost: 8})
	if len(p.Open) != 2000 {
		t.Fatalf("%d open", len(p.Open))
	}
	if o := p.Open[1999]; o.Service != svcUnknown || !strings.Contains(o.Banner, "not identified") {
		t.Errorf("last port: %+v", o)
	}
	if o := p.Open[0]; strings.Contains(o.Banner, "not identified") {
		t.Errorf("first port: %+v", o)
	}
	t.Logf("2,000 open ports in %s", time.Since(start))
}
