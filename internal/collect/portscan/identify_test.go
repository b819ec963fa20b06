package portscan

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// TestIdentifyLoopbackServers starts real and protocol-faithful servers on
// loopback ports the kernel gave this test, scans exactly those ports, and
// checks the service named on each.
func TestIdentifyLoopbackServers(t *testing.T) {
	cert := testCert(t)
	type srv struct {
		name    string
		port    int
		service string
		banner  string // substring
	}
	var servers []srv
	add := func(name string, l net.Listener, handle func(net.Conn), service, banner string) {
		serve(t, l, handle)
		servers = append(servers, srv{name, portOf(l), service, banner})
	}

	// Go's own HTTP and HTTPS servers.
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Server", "go-test")
		_, _ = w.Write([]byte("ok"))
	})
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	servers = append(servers, srv{"go http", portOf(hs.Listener), svcHTTP, "go-test"})
	tlsSrv := httptest.NewUnstartedServer(h)
	tlsSrv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	servers = append(servers, srv{"go https", portOf(tlsSrv.Listener), svcHTTPS, "go-test"})

	// A TLS server that is not HTTP, and one that only does TLS 1.3.
	// One silent after its handshake (as a slow HTTPS application is: the
	// banner says so, and the scan leaves HTTP open), one that answers
	// the HTTP request in another protocol (known not to be HTTP).
	add("tls silent", tls.NewListener(listenLoopback(t), &tls.Config{Certificates: []tls.Certificate{cert}}),
		func(c net.Conn) { _ = c.(*tls.Conn).Handshake(); _, _ = io.Copy(io.Discard, c) }, svcTLS, facts.TLSSilentSuffix)
	add("tls other protocol", tls.NewListener(listenLoopback(t), &tls.Config{Certificates: []tls.Certificate{cert}}),
		func(c net.Conn) {
			_ = c.(*tls.Conn).Handshake()
			_, _ = c.Write([]byte("* OK ready\r\n"))
			_, _ = io.Copy(io.Discard, c)
		}, svcTLS, "TLS 1.3")
	add("http 1.0", listenLoopback(t), httpHandler("Apache-Coyote/1.1"), svcHTTP, "Apache-Coyote")
	add("mysql", listenLoopback(t), mysqlHandler, svcMySQL, "MySQL 8.0.36")
	add("mysql refusing", listenLoopback(t), mysqlRefusedHandler, svcMySQL, "error 1130")
	add("ldap", listenLoopback(t), ldapHandler, svcLDAP, "")
	add("hazelcast", listenLoopback(t), hazelcastHandler, svcHazelcast, "Hazelcast")
	add("amqp", listenLoopback(t), amqpHandler, svcAMQP, "AMQP")
	add("silent", listenLoopback(t), silentHandler, svcUnknown, "")
	add("closes at once", listenLoopback(t), closeHandler, svcUnknown, "")
	add("garbage", listenLoopback(t), garbageHandler, svcUnknown, "not a protocol")
	add("flood", listenLoopback(t), floodHandler, svcHTTP, "")

	var ports []int
	for _, s := range servers {
		ports = append(ports, s.port)
	}
	d := newCountingDialer(nil)
	env := &collect.Env{Dialer: d, PerHost: 8}
	p := collectPorts(t, fastCollector(), nodeTarget("127.0.0.1", ports...), env)
	if p.Tried != len(ports) || len(p.Open) != len(ports) || p.Closed != 0 || p.Filtered != 0 {
		t.Errorf("tried %d open %d closed %d filtered %d, want %d open", p.Tried, len(p.Open), p.Closed, p.Filtered, len(ports))
	}
	for _, s := range servers {
		op, ok := openPort(p, s.port)
		if !ok {
			t.Errorf("%s (port %d) not found open", s.name, s.port)
			continue
		}
		if s.name == "tls other protocol" && strings.HasSuffix(op.Banner, facts.TLSSilentSuffix) {
			t.Errorf("%s: banner %q: it answered, so it is known not to be HTTP", s.name, op.Banner)
		}
		if op.Service != s.service || !strings.Contains(op.Banner, s.banner) {
			t.Errorf("%s: service %q banner %q, want %q with %q", s.name, op.Service, op.Banner, s.service, s.banner)
		}
		if op.Origin.Endpoint == "" {
			t.Errorf("%s: no origin", s.name)
		}
	}
	if p.Source != "127.0.0.1" {
		t.Errorf("source = %q, want 127.0.0.1", p.Source)
	}
	for addr := range d.addrs {
		host, port, _ := net.SplitHostPort(addr)
		if host != "127.0.0.1" || !containsPort(ports, port) {
			t.Errorf("dialed %s, which this test did not open", addr)
		}
	}
}

func containsPort(ports []int, s string) bool {
	for _, p := range ports {
		if s == itoa(p) {
			return true
		}
	}
	return false
}

func itoa(p int) string { return strconv.Itoa(p) }

// TestIdentifyIPv6 scans a listener on ::1.
func TestIdentifyIPv6(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		testenv.Missing(t, "no IPv6 loopback: %v", err)
	}
	serve(t, l, mysqlHandler)
	p := collectPorts(t, fastCollector(), nodeTarget("::1", portOf(l)), &collect.Env{})
	op, ok := openPort(p, portOf(l))
	if !ok || op.Service != svcMySQL {
		t.Fatalf("open %+v, want mysql on %d", p.Open, portOf(l))
	}
	if p.Address != "::1" || p.Source != "::1" {
		t.Errorf("address %q source %q, want ::1", p.Address, p.Source)
	}
	if !strings.HasPrefix(op.Origin.Endpoint, "[::1]:") {
		t.Errorf("origin %q", op.Origin.Endpoint)
	}
}

// TestIdentifyEvalTargets identifies the eval targets (nginx TLS, openssl
// s_server, OpenSSH) by their exact ports.
func TestIdentifyEvalTargets(t *testing.T) {
	want := map[int]string{8443: svcHTTPS, 9443: svcHTTPS, 8444: svcTLS, 2222: svcSSH, 2223: svcSSH}
	var ports []int
	for p := range want {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", itoa(p)), time.Second)
		if err != nil {
			testenv.Missing(t, "eval target 127.0.0.1:%d is not listening: %v", p, err)
		}
		c.Close()
		ports = append(ports, p)
	}
	p := collectPorts(t, fastCollector(), nodeTarget("127.0.0.1", ports...), &collect.Env{PerHost: 2})
	for port, svc := range want {
		op, ok := openPort(p, port)
		if !ok || op.Service != svc {
			t.Errorf("port %d: %+v, want %s", port, op, svc)
		}
	}
	if op, _ := openPort(p, 2222); !strings.HasPrefix(op.Banner, "SSH-2.0-OpenSSH_9.2") {
		t.Errorf("sshd banner %q", op.Banner)
	}
	if op, _ := openPort(p, 8443); op.Banner != "nginx/1.22.1" {
		t.Errorf("nginx banner %q, want nginx/1.22.1", op.Banner)
	}
	// 9443 is also the WSO2 carbon HTTPS default.
	if op, _ := openPort(p, 9443); op.Default != "carbon-https" {
		t.Errorf("9443 default = %q", op.Default)
	}
}
