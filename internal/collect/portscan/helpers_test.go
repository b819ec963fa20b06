package portscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

// testCert is a throwaway self-signed certificate for 127.0.0.1 and ::1.
func testCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "portscan test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serve accepts connections on l and hands each to handle until the test
// ends (see testenv.ServeListener).
func serve(t testing.TB, l net.Listener, handle func(net.Conn)) {
	t.Helper()
	testenv.ServeListener(t, l, 10*time.Second, handle)
}

// listenLoopback opens a listener on 127.0.0.1 at a port the kernel picks:
// tests scan only ports they opened themselves.
func listenLoopback(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func portOf(l net.Listener) int { return l.Addr().(*net.TCPAddr).Port }

// Handlers of faithful protocol servers: each speaks the real bytes of
// its protocol's opening exchange.

// mysqlGreeting is a MySQL 8.0 protocol-10 initial handshake packet.
func mysqlGreeting(version string) []byte {
	var p []byte
	p = append(p, 0x0a)
	p = append(p, version...)
	p = append(p, 0)
	p = append(p, 0x2a, 0, 0, 0)                          // connection id
	p = append(p, []byte("abcdefgh")...)                  // auth-plugin-data part 1
	p = append(p, 0)                                      // filler
	p = append(p, 0xff, 0xf7)                             // capability flags (lower)
	p = append(p, 0xff)                                   // character set
	p = append(p, 0x02, 0x00)                             // status flags
	p = append(p, 0xff, 0xdf)                             // capability flags (upper)
	p = append(p, 21)                                     // auth-plugin-data length
	p = append(p, make([]byte, 10)...)                    // reserved
	p = append(p, []byte("ijklmnopqrst")...)              // auth-plugin-data part 2
	p = append(p, 0)                                      //
	p = append(p, []byte("caching_sha2_password\x00")...) // auth plugin name
	hdr := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), 0}
	return append(hdr, p...)
}

func mysqlHandler(c net.Conn) { _, _ = c.Write(mysqlGreeting("8.0.36")); _, _ = io.Copy(io.Discard, c) }

// mysqlRefusedHandler sends the error packet MySQL sends to a host it
// does not admit.
func mysqlRefusedHandler(c net.Conn) {
	msg := "Host '127.0.0.1' is not allowed to connect to this MySQL server"
	p := append([]byte{0xff, 0x6a, 0x04}, msg...) // error 1130
	_, _ = c.Write(append([]byte{byte(len(p)), 0, 0, 0}, p...))
}

// ldapHandler answers an LDAP SearchRequest with a SearchResultDone
// (success) carrying the request's message id.
func ldapHandler(c net.Conn) {
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil || n < 5 || buf[0] != 0x30 || buf[2] != 0x02 {
		return
	}
	idLen := int(buf[3])
	id := buf[4 : 4+idLen]
	// SEQUENCE { INTEGER id, [APPLICATION 5] { ENUM 0, OCTET "", OCTET "" } }
	done := []byte{0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}
	body := append(append([]byte{0x02, byte(idLen)}, id...), done...)
	_, _ = c.Write(append([]byte{0x30, byte(len(body))}, body...))
	_, _ = io.Copy(io.Discard, c)
}

// hazelcastHandler accepts the member protocol as Hazelcast 4 and 5 do.
func hazelcastHandler(c net.Conn) {
	buf := make([]byte, 3)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "HZC" {
		return
	}
	_, _ = c.Write([]byte("HZC"))
	_, _ = io.Copy(io.Discard, c)
}

// amqpHandler answers the AMQP 0-9-1 header with a Connection.Start.
func amqpHandler(c net.Conn) {
	buf := make([]byte, 8)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf[:4]) != "AMQP" {
		return
	}
	payload := []byte{0, 10, 0, 10, 0, 9, 0, 0, 0, 0, 0, 0, 0, 5, 'P', 'L', 'A', 'I', 'N', 0, 0, 0, 5, 'e', 'n', '_', 'U', 'S'}
	frame := []byte{1, 0, 0, byte(len(payload) >> 24), byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload))}
	frame = append(append(frame, payload...), 0xce)
	_, _ = c.Write(frame)
	_, _ = io.Copy(io.Discard, c)
}

func silentHandler(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

func closeHandler(net.Conn) {}

func garbageHandler(c net.Conn) {
	_, _ = c.Write([]byte("\x00\x13\x37 not a protocol anyone speaks\r\n"))
	_, _ = io.Copy(io.Discard, c)
}

// floodHandler sends without end: identification must stop reading.
func floodHandler(c net.Conn) {
	chunk := []byte(strings.Repeat("HTTP/1.1 200 OK flood ", 200))
	for {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

// httpHandler is a minimal HTTP/1.0 server with a Server header.
func httpHandler(server string) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
		_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nServer: %s\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", server)
	}
}

// countingDialer counts the connections a scan opens and records every
// address it dials, so tests can prove nothing else was touched.
type countingDialer struct {
	inner collect.Dialer
	n     atomic.Int64
	mu    sync.Mutex
	addrs map[string]int
}

func newCountingDialer(inner collect.Dialer) *countingDialer {
	if inner == nil {
		inner = &net.Dialer{}
	}
	return &countingDialer{inner: inner, addrs: map[string]int{}}
}

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.n.Add(1)
	d.mu.Lock()
	d.addrs[addr]++
	d.mu.Unlock()
	return d.inner.DialContext(ctx, network, addr)
}

// nodeTarget is a node target scanning exactly ports.
func nodeTarget(host string, ports ...int) target.Target {
	ps := make([]string, len(ports))
	for i, p := range ports {
		ps[i] = strconv.Itoa(p)
	}
	return target.Target{Name: host, Kind: target.Node, Host: host, Decl: target.Declared{Ports: strings.Join(ps, ",")}}
}

// fastCollector is a collector with short waits, for tests.
func fastCollector() *Collector {
	return New(Options{ConnectTimeout: time.Second, BannerWait: 300 * time.Millisecond, ProbeTimeout: 1500 * time.Millisecond})
}

func collectPorts(t *testing.T, c *Collector, tg target.Target, env *collect.Env) *facts.Ports {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f, err := c.Collect(ctx, tg, env)
	if err != nil {
		t.Fatalf("collect %s: %v", tg.Name, err)
	}
	if f == nil || f.Ports == nil {
		t.Fatalf("collect %s: no ports facts", tg.Name)
	}
	return f.Ports
}

func openPort(p *facts.Ports, port int) (facts.OpenPort, bool) {
	for _, o := range p.Open {
		if o.Port == port {
			return o, true
		}
	}
	return facts.OpenPort{}, false
}
