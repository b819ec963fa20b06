package tlswire

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"
	"golang.org/x/crypto/cryptobyte"
)

func testRSACert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(8), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serve runs handle for every connection to a fresh loopback listener and
// returns its address (see testenv.Serve).
func serve(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	return testenv.Serve(t, 10*time.Second, handle)
}

// echoServer is a Go crypto/tls server that echoes lines until the client
// closes, and reports what ended its read loop on ended.
func echoServer(t testing.TB, cfg *tls.Config, ended chan<- error) string {
	return serve(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			ended <- err
			return
		}
		r := bufio.NewReader(tc)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				ended <- err
				return
			}
			if line == "bye\n" {
				_ = tc.Close() // close_notify
				ended <- nil
				return
			}
			if _, err := tc.Write([]byte(strings.ToUpper(line))); err != nil {
				ended <- err
				return
			}
		}
	})
}

func dialClient(t testing.TB, addr string, cfg ClientConfig) (*Conn, error) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := Client(raw, cfg)
	if err := c.Handshake(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	return c, nil
}

// The client completes a handshake for every key exchange and record
// protection at each version, carries application data both ways, reads
// the server's close_notify as io.EOF, and sends its own on Close.
func TestClientAgainstGoServers(t *testing.T) {
	rsaCert, ecCert := testRSACert(t), testCert(t)
	cases := []struct {
		version uint16
		suite   uint16
		cert    tls.Certificate
	}{
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, rsaCert},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, rsaCert},
		{tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ecCert},
		{tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, ecCert},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, rsaCert},
		{tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, ecCert},
		{tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, rsaCert},
		{tls.VersionTLS12, tls.TLS_RSA_WITH_AES_256_GCM_SHA384, rsaCert},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, rsaCert},
		{tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, ecCert},
		{tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_CBC_SHA256, rsaCert},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, rsaCert},
		{tls.VersionTLS11, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, rsaCert},
		{tls.VersionTLS11, tls.TLS_RSA_WITH_AES_256_CBC_SHA, rsaCert},
		{tls.VersionTLS10, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, ecCert},
		{tls.VersionTLS10, tls.TLS_RSA_WITH_AES_128_CBC_SHA, rsaCert},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s %s", tls.VersionName(tc.version), tls.CipherSuiteName(tc.suite))
		t.Run(name, func(t *testing.T) {
			ended := make(chan error, 1)
			addr := echoServer(t, &tls.Config{
				Certificates: []tls.Certificate{tc.cert}, MinVersion: tc.version, MaxVersion: tc.version,
				CipherSuites: []uint16{tc.suite},
			}, ended)
			// The default range (TLS 1.0-1.2) and suites: the server picks.
			c, err := dialClient(t, addr, ClientConfig{ServerName: "localhost"})
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer c.Close()
			if c.Version() != Version(tc.version) || c.CipherSuite() != tc.suite {
				t.Errorf("negotiated %s 0x%04X", c.Version(), c.CipherSuite())
			}
			if len(c.PeerCertificates()) != 1 || !c.SecureRenegotiation() || len(c.ClientVerifyData()) != 12 {
				t.Errorf("certs %d secure renegotiation %v verify data %x", len(c.PeerCertificates()), c.SecureRenegotiation(), c.ClientVerifyData())
			}
			// More than one record each way.
			big := strings.Repeat("x", 3*MaxPlaintext) + "\n"
			for _, msg := range []string{"hello\n", big} {
				if _, err := io.WriteString(c, msg); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(c, got); err != nil || string(got) != strings.ToUpper(msg) {
					t.Fatalf("echo of %d bytes: %v (%.20q)", len(msg), err, got)
				}
			}
			if _, err := io.WriteString(c, "bye\n"); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Read(make([]byte, 10)); n != 0 || err != io.EOF {
				t.Errorf("after the server's close_notify: %d, %v, want io.EOF", n, err)
			}
			if err := <-ended; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
	// The client's close_notify ends the server's read loop with io.EOF.
	ended := make(chan error, 1)
	addr := echoServer(t, &tls.Config{Certificates: []tls.Certificate{rsaCert}, MaxVersion: tls.VersionTLS12}, ended)
	c, err := dialClient(t, addr, ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if err := <-ended; err != io.EOF {
		t.Errorf("server after the client's Close: %v, want io.EOF (close_notify)", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}

// Versions outside the configured range and servers the client cannot
// complete with end in clear errors.
func TestClientRefusals(t *testing.T) {
	cert := testRSACert(t)
	ended := make(chan error, 8)
	tls10 := echoServer(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, ended)
	if _, err := dialClient(t, tls10, ClientConfig{MinVersion: VersionTLS12}); !errors.Is(err, ErrUnsupported) && !errors.As(err, new(Alert)) {
		t.Errorf("TLS 1.0 server, client min 1.2: %v", err)
	}
	tls13 := echoServer(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}, ended)
	var a Alert
	if _, err := dialClient(t, tls13, ClientConfig{}); !errors.As(err, &a) || a.Description != AlertProtocolVersion {
		t.Errorf("TLS 1.3-only server: %v, want a protocol_version alert", err)
	}
	// A suite the server has but the client was not configured to offer.
	gcm := echoServer(t, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}, ended)
	if _, err := dialClient(t, gcm, ClientConfig{Suites: []uint16{0x002F}}); !errors.As(err, &a) || a.Description != AlertHandshakeFailure {
		t.Errorf("no common suite: %v, want handshake_failure", err)
	}
	// A server that wants a client certificate refuses the empty one.
	mtls := echoServer(t, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12, ClientAuth: tls.RequireAnyClientCert}, ended)
	// (The alert may be lost when the server's close resets the connection
	// before it is read.)
	if _, err := dialClient(t, mtls, ClientConfig{}); !errors.As(err, &a) && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("client certificate required: %v, want an alert", err)
	}
}

// hostileFlight answers the client's hello with fixed bytes, then holds
// the connection open until the client gives up.
func hostileFlight(t *testing.T, flight []byte) string {
	return serve(t, func(c net.Conn) {
		_, _ = NewReader(c).Next()
		_, _ = c.Write(flight)
		_, _ = io.Copy(io.Discard, c)
	})
}

func serverHelloMsg(v Version, suite uint16, exts ...byte) []byte {
	var b cryptobyte.Builder
	b.AddUint8(HSServerHello)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(v))
		b.AddBytes(make([]byte, 32))
		b.AddUint8(0) // empty session id
		b.AddUint16(suite)
		b.AddUint8(0)
		if exts != nil {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(exts) })
		}
	})
	return b.BytesOrPanic()
}

func TestClientHostileServers(t *testing.T) {
	bigDH := func() []byte {
		p := make([]byte, maxDHBits/8+8)
		p[0] = 0x80
		p[len(p)-1] = 1
		var b cryptobyte.Builder
		for _, v := range [][]byte{p, {2}, {5}} {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(v) })
		}
		body := append(b.BytesOrPanic(), 4, 1, 0, 0) // sigalg + empty signature
		return append([]byte{HSServerKeyExchange, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	}()
	cases := []struct {
		name   string
		flight []byte
		want   error
	}{
		{"garbage", []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), ErrNotTLS},
		{"unoffered suite", AppendRecords(nil, TypeHandshake, VersionTLS12, serverHelloMsg(VersionTLS12, 0x0005)), ErrMalformed},
		{"version above the offer", AppendRecords(nil, TypeHandshake, VersionTLS12, serverHelloMsg(VersionTLS13, 0xC02F)), ErrMalformed},
		{"handshake before the ServerHello", AppendRecords(nil, TypeHandshake, VersionTLS12, []byte{HSServerHelloDone, 0, 0, 0}), ErrUnexpected},
		{"application data in the handshake", AppendRecords(nil, TypeApplicationData, VersionTLS12, []byte("hi")), ErrUnexpected},
		{"huge DH group", AppendRecords(nil, TypeHandshake, VersionTLS12, append(append(serverHelloMsg(VersionTLS12, 0x009E), bigDH...), HSServerHelloDone, 0, 0, 0)), ErrUnsupported},
		{"endless warnings", func() []byte {
			var b []byte
			for range 40 {
				b = AppendRecords(b, TypeAlert, VersionTLS12, []byte{1, 112})
			}
			return b
		}(), nil},
		{"fatal alert", AppendRecords(nil, TypeAlert, VersionTLS12, []byte{2, AlertHandshakeFailure}), Alert{2, AlertHandshakeFailure}},
		{"closed", nil, io.EOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var addr string
			if tc.flight == nil {
				addr = serve(t, func(c net.Conn) { _, _ = NewReader(c).Next() })
			} else {
				addr = hostileFlight(t, tc.flight)
			}
			_, err := dialClient(t, addr, ClientConfig{})
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
	// A server that never answers: the context ends the handshake.
	addr := serve(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := Client(raw, ClientConfig{}).Handshake(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent server: %v, want the context's deadline", err)
	}
}

// startOpenSSL runs `openssl s_server -www` (see testenv.OpenSSLServer).
func startOpenSSL(t testing.TB, args ...string) string {
	t.Helper()
	return testenv.OpenSSLServer(t, "openssl.test", args...)
}

// getStatusPage asks an s_server -www for its page over the client.
func getStatusPage(t *testing.T, addr string, cfg ClientConfig) (*Conn, string) {
	t.Helper()
	c, err := dialClient(t, addr, cfg)
	if err != nil {
		t.Fatalf("handshake with %s: %v", addr, err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(io.LimitReader(c, 1<<20))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	return c, string(page)
}

// A DHE-only OpenSSL server, which crypto/tls cannot talk to.
func TestClientOpenSSLDHE(t *testing.T) {
	for _, suite := range []struct {
		name string
		id   uint16
	}{{"DHE-RSA-AES128-GCM-SHA256", 0x009E}, {"DHE-RSA-CHACHA20-POLY1305", 0xCCAA}, {"DHE-RSA-AES256-SHA256", 0x006B}, {"DHE-RSA-AES128-SHA", 0x0033}} {
		t.Run(suite.name, func(t *testing.T) {
			addr := startOpenSSL(t, "-tls1_2", "-cipher", suite.name)
			c, page := getStatusPage(t, addr, ClientConfig{ServerName: "localhost"})
			if !strings.HasPrefix(page, "HTTP/1.0 200 ok\r\n") || c.CipherSuite() != suite.id || c.Version() != VersionTLS12 {
				t.Errorf("0x%04X %s: page %.40q", c.CipherSuite(), c.Version(), page)
			}
			// The page names the cipher the server negotiated.
			if !strings.Contains(page, "Cipher is "+suite.name) {
				t.Errorf("the page does not show %s:\n%s", suite.name, page)
			}
		})
	}
}

// The eval target dhe (openssl s_server, TLS 1.2, DHE-RSA with a
// 1024-bit group, -www).
func TestClientEvalDHE(t *testing.T) {
	const addr = "127.0.0.1:8444"
	testenv.Listening(t, addr, "start them with ../shared/eval/targets/up.sh")
	tc, page := getStatusPage(t, addr, ClientConfig{})
	if !strings.HasPrefix(page, "HTTP/1.0 200 ok\r\n") || !strings.Contains(page, "Secure Renegotiation IS supported") {
		t.Errorf("page %q", page)
	}
	if tc.Version() != VersionTLS12 || !tc.SecureRenegotiation() {
		t.Errorf("version %s secure renegotiation %v", tc.Version(), tc.SecureRenegotiation())
	}
	if s, ok := lookupClientSuite(tc.CipherSuite()); !ok || s.kex != kexDHE {
		t.Errorf("suite 0x%04X, want DHE", tc.CipherSuite())
	}
}

// BenchmarkClientHandshake is one ECDHE-RSA AES-GCM handshake and a
// request-sized round trip against a loopback Go server.
func BenchmarkClientHandshake(b *testing.B) {
	ended := make(chan error, 1)
	go func() {
		for range ended {
		}
	}()
	b.Cleanup(func() { close(ended) })
	addr := echoServer(b, &tls.Config{Certificates: []tls.Certificate{testRSACert(b)}, MaxVersion: tls.VersionTLS12}, ended)
	buf := make([]byte, 6)
	for b.Loop() {
		c, err := dialClient(b, addr, ClientConfig{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.WriteString(c, "hello\n"); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
		_ = c.Close()
	}
}
