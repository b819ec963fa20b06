package tlsprobe

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/netfail"
	"github.com/rampart-sec/rampart/internal/testenv/transcript"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// serverHello builds a plaintext ServerHello record choosing suite.
func serverHello(suite uint16) []byte {
	body := []byte{0x03, 0x03}
	body = append(body, make([]byte, 32)...)
	body = append(body, 0, byte(suite>>8), byte(suite), 0)
	msg := append([]byte{2, 0, 0, byte(len(body))}, body...)
	return tlswire.AppendRecords(nil, tlswire.TypeHandshake, tlswire.VersionTLS12, msg)
}

// readHello consumes the client's first record.
func readHello(c net.Conn) {
	_, _ = tlswire.ReadRecord(c)
}

func TestHostileServers(t *testing.T) {
	cases := []struct {
		name   string
		handle func(net.Conn)
		want   error  // errors.Is target
		text   string // substring of the error
		cause  netfail.Reason
	}{
		{"garbage bytes", func(c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
		}, errNotTLS, "not a TLS record", netfail.ProtocolMismatch},
		{"never answers", func(c net.Conn) {
			_, _ = io.Copy(io.Discard, c)
		}, errNoAnswer, "no answer", netfail.Timeout},
		{"drips a byte a second", func(c net.Conn) {
			readHello(c)
			tick := time.NewTicker(time.Second) // a slow peer, not a wait
			defer tick.Stop()
			for _, b := range serverHello(0xC02F) {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				<-tick.C
			}
		}, errNoAnswer, "no answer", netfail.Timeout},
		{"oversized record", func(c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte{0x16, 0x03, 0x03, 0xFF, 0xFF})
			_, _ = c.Write(make([]byte, 1<<16))
		}, tlswire.ErrTooLarge, "record of 65535 bytes", netfail.TooLarge},
		{"oversized handshake message", func(c net.Conn) {
			readHello(c)
			// A handshake header announcing 16 MiB, then records that never end it.
			first := append([]byte{2, 0xFF, 0xFF, 0xFF}, make([]byte, 1000)...)
			out := tlswire.AppendRecords(nil, tlswire.TypeHandshake, tlswire.VersionTLS12, first)
			for range 40 {
				out = tlswire.AppendRecords(out, tlswire.TypeHandshake, tlswire.VersionTLS12, make([]byte, 16000))
			}
			_, _ = c.Write(out)
		}, tlswire.ErrTooLarge, "limit", netfail.TooLarge},
		{"ServerHello with a suite not offered", func(c net.Conn) {
			readHello(c)
			_, _ = c.Write(serverHello(0x1234))
		}, errUnoffered, "0x1234", netfail.ProtocolMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each server is recorded too: its replay runs the probe
			// through the same conversation at once, timeouts included.
			transcript.Run(t, transcript.Case{
				Name: "hostile-" + strings.ReplaceAll(tc.name, " ", "-"),
				Live: func(t *testing.T) transcript.Target {
					return transcript.Target{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(rawServer(t, tc.handle)))}
				},
				Check: func(t *testing.T, env *collect.Env, tg transcript.Target) {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					c := New(Options{HandshakeTimeout: 1500 * time.Millisecond, ConnectTimeout: time.Second})
					f, err := c.Collect(ctx, endpointAt(t, tg.Addr, "https"), env)
					if err == nil {
						t.Fatalf("no error; facts %+v", f.TLS)
					}
					if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
						t.Errorf("error %q: want %v containing %q", err, tc.want, tc.text)
					}
					if !strings.HasPrefix(err.Error(), "tls probe 127.0.0.1:") {
						t.Errorf("error %q does not name the probe and address", err)
					}
					st := collect.Failure(err)
					if st.Cause != string(tc.cause) {
						t.Errorf("failure cause %q, want %q", st.Cause, tc.cause)
					}
				},
			}, *update)
		})
	}
}

// An endpoint of unknown scheme that does not speak TLS (an SSH server, a
// plain HTTP server) is not a TLS endpoint: no facts, no error.
func TestUnknownSchemeNotTLS(t *testing.T) {
	for name, handle := range map[string]func(net.Conn){
		"ssh banner": func(c net.Conn) { _, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2p1\r\n")); readHello(c) },
		"plain http": func(c net.Conn) { readHello(c); _, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) },
		"reads the hello, then closes without a word": func(c net.Conn) { readHello(c) },
	} {
		t.Run(name, func(t *testing.T) {
			port := rawServer(t, handle)
			f, err := New(Options{HandshakeTimeout: time.Second}).Collect(context.Background(), endpoint("127.0.0.1", port, ""), &collect.Env{})
			if err != nil || f != nil {
				t.Errorf("got facts %v, error %v; want nil, nil (not a TLS service)", f, err)
			}
		})
	}
}

func TestNotApplicable(t *testing.T) {
	c := New(Options{})
	for _, scheme := range []string{"http", "ssh"} {
		if c.Applies(endpoint("127.0.0.1", 1, scheme)) {
			t.Errorf("applies to %s endpoints", scheme)
		}
	}
	if !c.Applies(endpoint("127.0.0.1", 1, "")) || !c.Applies(endpoint("::1", 1, "https")) {
		t.Error("does not apply to https or unknown-scheme endpoints")
	}
	if c.Name() != "tls" || len(c.Provides()) != 1 || c.Provides()[0] != "tls" {
		t.Errorf("name %q provides %v", c.Name(), c.Provides())
	}
}

// A refused connection is an error, and a cancelled context ends the scan.
func TestConnectErrors(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, err = New(Options{}).Collect(context.Background(), endpoint("127.0.0.1", port, "https"), &collect.Env{})
	if err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("closed port: error %v, want a connect error", err)
	}
	port = rawServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = New(Options{}).Collect(ctx, endpoint("127.0.0.1", port, "https"), &collect.Env{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent server under a 200ms deadline: error %v, want deadline exceeded", err)
	}
}

// A chain too long to accept fails the certificate facts only: the
// protocol and suite facts still stand.
func TestOversizedChainFailsOnlyChain(t *testing.T) {
	pki := newPKI(t, true)
	long := tls.Certificate{PrivateKey: pki.leaf.PrivateKey, Certificate: [][]byte{pki.leaf.Certificate[0]}}
	for range 300 {
		long.Certificate = append(long.Certificate, pki.leaf.Certificate[1])
	}
	port := goServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{long}, MaxVersion: tls.VersionTLS12})
	f, err := New(Options{}).Collect(context.Background(), endpoint("127.0.0.1", port, "https"), &collect.Env{})
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	if diff([]string{"TLSv1.2"}, f.TLS.Versions) != "" || len(f.TLS.Suites) == 0 {
		t.Errorf("versions %v, %d suites: the scan should stand", f.TLS.Versions, len(f.TLS.Suites))
	}
	st, ok := f.Lookup("tls.chain")
	if !ok || st.State != facts.Failed || !strings.Contains(st.Reason, "more than 256 certificates") {
		t.Errorf("tls.chain status %+v, want failed: more than 256 certificates", st)
	}
	if st, _ := f.Lookup("tls.versions"); st.State == facts.Failed {
		t.Errorf("tls.versions failed too: %+v", st)
	}
}
