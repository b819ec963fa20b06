package tlsprobe

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/testenv"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// BenchmarkProbeGoServer times a full audit (versions, suites, groups,
// renegotiation, certificate) of a loopback Go server offering TLS 1.0-1.3.
func BenchmarkProbeGoServer(b *testing.B) {
	pki := newPKI(b, false)
	port := goServer(b, "tcp4", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MinVersion: tls.VersionTLS10})
	c := New(Options{})
	tg := endpoint("127.0.0.1", port, "https")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Collect(context.Background(), tg, &collect.Env{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnumerateTLS12 times suite enumeration alone at TLS 1.2.
func BenchmarkEnumerateTLS12(b *testing.B) {
	pki := newPKI(b, false)
	port := goServer(b, "tcp4", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{0xC02F, 0xC030, 0xC013, 0xC014, 0xC027, 0x009C, 0x009D, 0x002F, 0x0035, 0x003C}})
	c := New(Options{})
	p := &prober{reg: c.reg, net: (&collect.Env{}).Net(5), host: "127.0.0.1",
		addr: endpoint("127.0.0.1", port, "").Address(), connectTimeout: c.opts.ConnectTimeout, handshakeTimeout: c.opts.HandshakeTimeout,
		tlsCands: c.tls, tls13Cands: c.tls13, rank: c.rank}
	b.ReportAllocs()
	for b.Loop() {
		vr, err := p.enumerate(context.Background(), tlswire.VersionTLS12, p.tlsCands, func(bool) {})
		if err != nil || len(vr.suites) != 10 {
			b.Fatalf("%d suites, %v", len(vr.suites), err)
		}
	}
}

// BenchmarkEvalWeak times a full audit of the weak eval target (44 suites
// on TLS 1.2, three versions) when it is up.
func BenchmarkEvalWeak(b *testing.B) {
	benchEval(b, 8443)
}

func BenchmarkEvalDHE(b *testing.B) {
	benchEval(b, 8444)
}

func benchEval(b *testing.B, port int) {
	tg := endpoint("127.0.0.1", port, "https")
	c := New(Options{})
	if _, err := c.Collect(context.Background(), tg, &collect.Env{}); err != nil {
		testenv.Missing(b, "eval target 127.0.0.1:%d: %v", port, err)
	}
	for b.Loop() {
		if _, err := c.Collect(context.Background(), tg, &collect.Env{}); err != nil {
			b.Fatal(err)
		}
	}
}
