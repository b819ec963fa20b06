package portscan

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/rampart-sec/rampart/internal/collect"
)

func TestClassify(t *testing.T) {
	tlsAlert := []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}
	serverHello := []byte{0x16, 0x03, 0x03, 0x00, 0x31, 0x02}
	jrmiAck := append(append([]byte{0x4e, 0x00, 0x09}, "127.0.0.1"...), 0, 0, 0xc3, 0x50)
	ldapDone := []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}
	ldapNotice := []byte{0x30, 0x0c, 0x02, 0x01, 0x00, 0x78, 0x07, 0x0a, 0x01, 0x02, 0x04, 0x00, 0x04, 0x00}
	amqpStart := []byte{1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 10, 0xce}
	for _, c := range []struct {
		name    string
		probe   string
		in      []byte
		service string
		banner  string
		v       verdict
	}{
		{"ssh", probeNone, []byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), svcSSH, "SSH-2.0-OpenSSH_9.2p1 Debian-2", matched},
		{"ssh after a pre-banner line", probeTLS, []byte("Welcome\r\nSSH-2.0-dropbear\r\n"), svcSSH, "SSH-2.0-dropbear", matched},
		{"ssh partial", probeNone, []byte("SSH-2.0-Open"), "", "", needMore},
		{"ssh prefix", probeNone, []byte("SS"), "", "", needMore},
		{"mysql 8", probeNone, mysqlGreeting("8.0.36"), svcMySQL, "MySQL 8.0.36", matched},
		{"mariadb", probeTLS, mysqlGreeting("5.5.5-10.11.6-MariaDB-0+deb12u1"), svcMySQL, "MariaDB 5.5.5-10.11.6-MariaDB-0+deb12u1", matched},
		{"mysql truncated", probeNone, mysqlGreeting("8.0.36")[:20], "", "", needMore},
		{"mysql error", probeNone, append([]byte{0x17, 0, 0, 0, 0xff, 0x6a, 0x04}, "Host 'x' is blocked   "...), svcMySQL, "error 1130: Host 'x' is blocked", matched},
		{"http", probeHTTP, []byte("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n\r\n"), svcHTTP, "nginx/1.22.1", matched},
		{"http no server", probeTLS, []byte("HTTP/1.0 400 Bad Request\r\n\r\n"), svcHTTP, "HTTP/1.0 400 Bad Request", matched},
		{"http headers incomplete", probeHTTP, []byte("HTTP/1.1 200 OK\r\nServ"), "", "", needMore},
		{"http bad status", probeHTTP, []byte("HTTP/1.1 abc\r\n\r\n"), "", "", noMatch},
		{"tls alert", probeTLS, tlsAlert, svcTLS, "TLS alert", matched},
		{"tls server hello", probeTLS, serverHello, svcTLS, "", matched},
		{"tls record to another probe", probeLDAP, serverHello, "", "", noMatch},
		{"sslv2", probeTLS, []byte{0x80, 0x2e, 0x04, 0x00}, svcTLS, "SSLv2", matched},
		{"jrmi ack", probeJRMI, jrmiAck, svcJMX, "Java RMI", matched},
		{"jrmi partial", probeJRMI, jrmiAck[:6], "", "", needMore},
		{"jrmi not supported", probeJRMI, []byte{0x4f}, svcJMX, "Java RMI (protocol not supported)", matched},
		{"jrmi byte to another probe", probeHTTP, jrmiAck, "", "", noMatch},
		{"ldap search done", probeLDAP, ldapDone, svcLDAP, "", matched},
		{"ldap notice of disconnection", probeLDAP, ldapNotice, svcLDAP, "", matched},
		{"ldap wrong id", probeLDAP, append([]byte{0x30, 0x0c, 0x02, 0x01, 0x07}, ldapDone[5:]...), "", "", noMatch},
		{"postgres S", probePostgres, []byte("S"), svcPostgreSQL, "SSL supported", matched},
		{"postgres N", probePostgres, []byte("N"), svcPostgreSQL, "SSL not supported", matched},
		{"postgres error", probePostgres, []byte("E\x00\x00\x00\x50SFATAL\x00"), svcPostgreSQL, "error response", matched},
		{"N to the TLS probe", probeTLS, []byte("N"), "", "", needMore}, // could start a MySQL packet; never PostgreSQL
		{"hazelcast", probeHazelcast, []byte("HZC"), svcHazelcast, "Hazelcast member protocol", matched},
		{"hazelcast advanced networking", probeHazelcast, []byte("HZX"), svcHazelcast, "Hazelcast member protocol", matched},
		{"hazelcast partial", probeHazelcast, []byte("HZ"), "", "", needMore},
		{"amqp start", probeAMQP, amqpStart, svcAMQP, "AMQP 0-9-1", matched},
		{"amqp version header", probeAMQP, []byte("AMQP\x00\x01\x00\x00"), svcAMQP, "AMQP 1-0-0", matched},
		{"garbage", probeNone, []byte("\x00\x13\x37 hello\r\n"), "", "", noMatch},
		{"smtp banner", probeNone, []byte("220 mail.example ESMTP\r\n"), "", "", noMatch},
		{"empty", probeNone, nil, "", "", needMore},
	} {
		id, v := classify(c.probe, c.in)
		if v != c.v || id.service != c.service || id.banner != c.banner {
			t.Errorf("%s: got %q %q (verdict %d), want %q %q (verdict %d)", c.name, id.service, id.banner, v, c.service, c.banner, c.v)
		}
	}
}

func TestLDAPRequestIsWellFormed(t *testing.T) {
	req := ldapRootDSESearch()
	// The faithful server of the tests and any LDAP server parse it: a
	// SEQUENCE holding message id 1 and an [APPLICATION 3] SearchRequest.
	if req[0] != 0x30 || int(req[1]) != len(req)-2 || req[2] != 0x02 || req[4] != ldapMessageID || req[5] != 0x63 {
		t.Fatalf("% x", req)
	}
	if !bytes.Contains(req, []byte("objectClass")) || !bytes.Contains(req, []byte("supportedLDAPVersion")) {
		t.Fatalf("% x", req)
	}
}

func TestCleanBanner(t *testing.T) {
	if got := cleanBanner("  a\x00\x01b\r\n\tc  " + strings.Repeat("x", 300)); got != "a b c "+strings.Repeat("x", 154) {
		t.Errorf("%q", got)
	}
}

func TestCatalogue(t *testing.T) {
	for _, c := range []struct {
		port  int
		name  string
		prods string
	}{
		{9443, "carbon-https", "wso2-is,wso2-apim"},
		{8243, "passthrough-https", "wso2-apim"},
		{8253, "passthrough-https", "wso2-mi"},
		{8290, "passthrough-http", "wso2-mi"},
		{9164, "mi-management-api", "wso2-mi"},
		{9201, "mi-internal-api", "wso2-mi"},
		{9999, "jmx-rmi-registry", "wso2-is,wso2-apim"},
		{10009, "jmx-rmi-registry", "wso2-mi"},
		{4000, "hazelcast", "wso2-is,wso2-apim"},
		{5672, "amqp", "wso2-apim"},
		{9611, "binary-event", "wso2-apim"},
		{9446, "", ""},
		{22, "", ""},
	} {
		name, prods, _ := defaultName(c.port)
		if name != c.name || strings.Join(prods, ",") != c.prods {
			t.Errorf("%d: %q %v, want %q %q", c.port, name, prods, c.name, c.prods)
		}
	}
	for _, c := range []struct {
		profile string
		open    []int
		offset  int
	}{
		{profileIS, []int{22, 9443, 9763}, 0},
		{profileIS, []int{22, 9446, 9766, 10002}, 3},
		{profileIS, []int{9444}, 0}, // one port proves no offset
		{profileAPIM, []int{8244, 8281, 9444, 9764}, 1},
		{profileMI, []int{8290, 8253, 9164}, 10},
		{profileMI, []int{8291, 8254, 9165, 9202}, 11},
		{profileMI, []int{8280, 8243}, 0},
	} {
		got, ok := detectOffset(c.profile, c.open)
		if !ok || got != c.offset {
			t.Errorf("%s %v: offset %d, want %d", c.profile, c.open, got, c.offset)
		}
	}
	if _, ok := detectOffset("webhook-relay", []int{443}); ok {
		t.Error("offset for a non-WSO2 profile")
	}
	is := profilePorts(profileIS, 1)
	for _, p := range []int{22, 4000, 9444, 9764, 10000, 11112} {
		if !containsInt(is, p) {
			t.Errorf("IS ports at offset 1 lack %d: %v", p, is)
		}
	}
	if containsInt(is, 8243) {
		t.Errorf("IS ports hold the API-M gateway: %v", is)
	}
	top := topPorts()
	for _, p := range []int{22, 443, 9443, 9444, 9453, 8253, 9164, 9999, 11111, 4000, 3306, 5432, 1099} {
		if !containsInt(top, p) {
			t.Errorf("top lacks %d", p)
		}
	}
	if len(top) > 400 {
		t.Errorf("top has %d ports", len(top))
	}
	for i := 1; i < len(top); i++ {
		if top[i] <= top[i-1] {
			t.Fatalf("top not sorted at %d", i)
		}
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestWithin(t *testing.T) {
	set := []string{"10.0.1.11", "10.0.2.0/24", "2001:db8::/64"}
	for ip, want := range map[string]bool{"10.0.1.11": true, "10.0.1.12": false, "10.0.2.200": true, "::ffff:10.0.2.1": true, "2001:db8::5": true, "2001:db9::5": false, "bad": false} {
		if got := within(ip, set); got != want {
			t.Errorf("within(%s) = %v", ip, got)
		}
	}
}

func TestClassifyDialError(t *testing.T) {
	op := func(e error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: &osSyscallError{e}} }
	for _, c := range []struct {
		err  error
		want portState
	}{
		{op(syscall.ECONNREFUSED), stateClosed},
		{op(syscall.EHOSTUNREACH), stateFiltered},
		{op(syscall.ENETUNREACH), stateFiltered},
		{op(syscall.EADDRNOTAVAIL), stateRetry},
		{op(syscall.EMFILE), stateRetry},
		{context.DeadlineExceeded, stateFiltered},
		{errors.New("dialer refused"), stateFiltered},
	} {
		if got := classifyDialError(c.err); got != c.want {
			t.Errorf("%v: %d, want %d", c.err, got, c.want)
		}
	}
}

type osSyscallError struct{ err error }

func (e *osSyscallError) Error() string { return "connect: " + e.err.Error() }
func (e *osSyscallError) Unwrap() error { return e.err }

// retryDialer fails the first attempts with a local shortage, then
// refuses: the scanner must retry and end with "closed".
type retryDialer struct{ fails int }

func (d *retryDialer) DialContext(context.Context, string, string) (net.Conn, error) {
	if d.fails > 0 {
		d.fails--
		return nil, &net.OpError{Op: "dial", Err: syscall.EADDRNOTAVAIL}
	}
	return nil, &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}
}

func TestConnectRetriesLocalFailures(t *testing.T) {
	cs := &connectScanner{dialer: &retryDialer{fails: 3}, workers: 1, minTimeout: time.Millisecond, maxTimeout: time.Second}
	res, err := cs.scan(context.Background(), "192.0.2.1", []int{80})
	if err != nil || res.closed != 1 || res.transient != 3 {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestRateLimit: every connect attempt waits on the collector's limiter,
// which is shared by all its scans and set to the configured rate.
func TestRateLimit(t *testing.T) {
	c := New(Options{Rate: 50})
	if rl, ok := c.limiter.(*rate.Limiter); !ok || rl.Limit() != 50 {
		t.Fatalf("limiter %+v", c.limiter)
	}
	w := &countingWaiter{}
	c.limiter = w
	d := newCountingDialer(&retryDialer{})
	for range 2 {
		if _, err := c.Scan(context.Background(), nodeTarget("192.0.2.1"), "1-15", seq(1, 15), &collect.Env{Dialer: d}); err != nil {
			t.Fatal(err)
		}
	}
	if d.n.Load() != 30 || w.n.Load() != 30 {
		t.Errorf("%d connects, %d waits", d.n.Load(), w.n.Load())
	}
	if New(Options{}).limiter != nil {
		t.Error("a limiter without a rate")
	}
}

type countingWaiter struct{ n atomic.Int64 }

func (w *countingWaiter) Wait(context.Context) error { w.n.Add(1); return nil }

func seq(a, b int) []int {
	var out []int
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

// TestHostLimitShared: identification of many ports of one host never
// holds more connections than the shared per-host limit. Each server holds
// its connection until the next one arrives (the last one excepted), so
// the limit is reached, never exceeded: exactly two at once.
func TestHostLimitShared(t *testing.T) {
	const n = 12
	var (
		mu      sync.Mutex
		arrived int
		arrival = make(chan struct{}) // closed and replaced at each arrival
	)
	holdForNext := func(c net.Conn) {
		mu.Lock()
		arrived++
		need := min(arrived+1, n)
		close(arrival)
		arrival = make(chan struct{})
		mu.Unlock()
		for {
			mu.Lock()
			ok, next := arrived >= need, arrival
			mu.Unlock()
			if ok {
				break
			}
			select {
			case <-next:
			case <-time.After(10 * time.Second):
				t.Errorf("connection %d waited 10 s for another: identification held one connection at a time", need-1)
				return
			}
		}
		mysqlHandler(c)
	}
	var ports []int
	for range n {
		l := listenLoopback(t)
		serve(t, l, holdForNext)
		ports = append(ports, portOf(l))
	}
	d := &peakDialer{}
	env := &collect.Env{Dialer: d, Hosts: collect.NewHostLimiter(2)}
	ids := fastCollector().newIdentifying(context.Background(), env, nodeTarget("127.0.0.1"), "127.0.0.1").finish(ports)
	for i, id := range ids {
		if id.service != svcMySQL {
			t.Errorf("%d: %s", ports[i], id.service)
		}
	}
	if p := d.peak.Load(); p != 2 {
		t.Errorf("%d connections at once to one host, limit 2 (reached by the servers' holding)", p)
	}
	mu.Lock()
	defer mu.Unlock()
	if arrived != n {
		t.Errorf("%d connections for %d ports", arrived, n)
	}
}

// peakDialer tracks how many of its connections are open at once.
type peakDialer struct {
	open, peak atomic.Int64
}

func (d *peakDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	n := d.open.Add(1)
	for {
		p := d.peak.Load()
		if n <= p || d.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return &peakConn{Conn: c, d: d}, nil
}

type peakConn struct {
	net.Conn
	d    *peakDialer
	once sync.Once
}

func (c *peakConn) Close() error {
	c.once.Do(func() { c.d.open.Add(-1) })
	return c.Conn.Close()
}
