// Package zonetest builds a small network of zones for tests: a target
// namespace whose services listen on one address, and one namespace per
// zone linked to it by a veth pair and routed to that address, so each
// zone reaches the same target from its own source address. nftables
// rules in the target namespace decide what each zone reaches. Everything
// lives in namespaces the test creates (internal/netnstest).
package zonetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rampart-sec/rampart/internal/netnstest"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// TargetAddr is where the target's services listen.
const TargetAddr = "10.99.0.1"

// Net is a target namespace and the zones around it.
type Net struct {
	Target *netnstest.NS
	Zones  map[string]*netnstest.NS
	// Source is each zone's address as the target sees it.
	Source map[string]string
	// Subnet is each zone's link (a /24) for firewall rules; Gateway the
	// target's address on it (zones route to the target through it).
	Subnet  map[string]string
	Gateway map[string]string
}

// New creates the target namespace and a namespace per zone.
func New(t testing.TB, zones ...string) *Net {
	t.Helper()
	n := &Net{Target: netnstest.New(t), Zones: map[string]*netnstest.NS{}, Source: map[string]string{}, Subnet: map[string]string{}, Gateway: map[string]string{}}
	n.Target.IP(t, "addr", "add", TargetAddr+"/32", "dev", "lo")
	for i, z := range zones {
		ns := netnstest.New(t)
		gw, src := fmt.Sprintf("10.%d.0.1", 50+i), fmt.Sprintf("10.%d.0.2", 50+i)
		netnstest.Veth(t, n.Target, ns, gw+"/24", src+"/24")
		ns.IP(t, "route", "add", TargetAddr+"/32", "via", gw)
		n.Zones[z], n.Source[z], n.Subnet[z], n.Gateway[z] = ns, src, fmt.Sprintf("10.%d.0.0/24", 50+i), gw
	}
	return n
}

// Firewall loads an nftables ruleset into a namespace.
func Firewall(t testing.TB, ns *netnstest.NS, ruleset string) {
	t.Helper()
	testenv.Tool(t, "nft", "apt-get install nftables")
	f := filepath.Join(t.TempDir(), "rules.nft")
	if err := os.WriteFile(f, []byte(ruleset), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "netns", "exec", ns.Name, "nft", "-f", f).CombinedOutput(); err != nil {
		t.Fatalf("nft in %s: %v: %s", ns.Name, err, out)
	}
}

// RejectFrom returns an nftables ruleset that rejects the ports from the
// given subnets (TCP reset: the zone sees them closed).
func RejectFrom(rules map[string][]int) string {
	var b strings.Builder
	b.WriteString("table inet zonetest {\n  chain input {\n    type filter hook input priority 0; policy accept;\n")
	for subnet, ports := range rules {
		ps := make([]string, len(ports))
		for i, p := range ports {
			ps[i] = fmt.Sprint(p)
		}
		fmt.Fprintf(&b, "    ip saddr %s tcp dport { %s } reject with tcp reset\n", subnet, strings.Join(ps, ", "))
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// HTTP serves a handler on a listener until the test ends.
func HTTP(t testing.TB, l net.Listener, h http.Handler) {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// Console answers like a WSO2 admin console: /carbon pages 200,
// /services 403, anything else 404.
func Console() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/carbon" || strings.HasPrefix(r.URL.Path, "/carbon/"):
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html><title>WSO2 Management Console</title><form action=\"login.jsp\"></form></html>")
		case strings.HasPrefix(r.URL.Path, "/services"):
			http.Error(w, "forbidden", http.StatusForbidden)
		default:
			http.NotFound(w, r)
		}
	})
}

// Gateway answers / with 200 and everything else 404.
func Gateway() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, "gateway")
	})
}

// SSH serves the SSH protocol (x/crypto/ssh, an ed25519 host key, every
// login refused) on a listener until the test ends.
func SSH(t testing.TB, l net.Listener) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(ssh.ConnMetadata, []byte) (*ssh.Permissions, error) { return nil, fmt.Errorf("no") },
		ServerVersion:    "SSH-2.0-OpenSSH_9.2p1",
	}
	cfg.AddHostKey(signer)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				_, _, _, _ = ssh.NewServerConn(c, cfg)
			}()
		}
	}()
}

// Core creates a namespace for rampart serve (and NATS) linked to every
// zone, as a management network would be: it returns the namespace and,
// for each zone, the address the zone's agents reach it at.
func (n *Net) Core(t testing.TB) (*netnstest.NS, map[string]string) {
	t.Helper()
	core := netnstest.New(t)
	addrs := map[string]string{}
	i := 0
	for _, z := range sortedKeys(n.Zones) {
		c, a := fmt.Sprintf("10.%d.0.1", 150+i), fmt.Sprintf("10.%d.0.2", 150+i)
		netnstest.Veth(t, core, n.Zones[z], c+"/24", a+"/24")
		addrs[z] = c
		i++
	}
	return core, addrs
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Hold is a listener's gate: connections it holds get no answer until
// Release; Held reports each held connection's source address.
type Hold struct {
	pass     *chanListener
	mu       sync.Mutex
	hold     func(src string) bool
	held     []net.Conn
	released bool
	closed   bool
	Held     chan string
}

// HoldHTTP serves HTTP on l, except that connections for which hold
// returns true are held unanswered (a scan stuck on a slow target) until
// Release, after which they are served too.
func HoldHTTP(t testing.TB, l net.Listener, h http.Handler, hold func(src string) bool) *Hold {
	t.Helper()
	pass := &chanListener{Listener: l, c: make(chan net.Conn, 1024)}
	g := &Hold{pass: pass, hold: hold, Held: make(chan string, 64)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				g.mu.Lock()
				g.closed = true
				close(pass.c)
				g.mu.Unlock()
				return
			}
			src, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			g.mu.Lock()
			if !g.released && g.hold(src) {
				g.held = append(g.held, c)
				g.mu.Unlock()
				select {
				case g.Held <- src:
				default:
				}
				continue
			}
			g.mu.Unlock()
			pass.c <- c
		}
	}()
	HTTP(t, pass, h)
	t.Cleanup(g.Release)
	return g
}

// Release serves the held connections and every later one.
func (g *Hold) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.released {
		return
	}
	g.released = true
	for _, c := range g.held {
		if g.closed {
			_ = c.Close()
			continue
		}
		g.pass.c <- c // its request waits in the socket: served now
	}
	g.held = nil
}

// chanListener hands out connections another loop accepted.
type chanListener struct {
	net.Listener
	c chan net.Conn
}

func (l *chanListener) Accept() (net.Conn, error) {
	c, ok := <-l.c
	if !ok {
		return nil, net.ErrClosed
	}
	return c, nil
}
