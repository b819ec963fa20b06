package tlsprobe

import (
	"bytes"
	"crypto/tls"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// nameOfLength is a valid DNS name of exactly n bytes (labels of 62 or 63
// letters, no dot at either end).
func nameOfLength(n int) string {
	b := bytes.Repeat([]byte("a"), n)
	for i := 62; i < n-1; i += 63 {
		b[i] = '.'
	}
	return string(b)
}

// TestLongHostnameHelloSizes scans a TLS 1.3 server under host names that
// bring the prober's TLS 1.3 hello (every group, no key share) to 509, 510
// and 511 bytes before padding: the size that made the padding length
// negative and the whole process panic (a cloud load balancer's name of
// 55-85 characters). Each scan must finish and see TLS 1.3.
func TestLongHostnameHelloSizes(t *testing.T) {
	pki := newPKI(t, false)
	port := goServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MinVersion: tls.VersionTLS12})
	c := New(Options{})
	size := func(name string) int {
		p := &prober{sni: name}
		ch := p.hello(tlswire.VersionTLS13, c.tls13)
		ch.Pad = false
		return len(ch.Marshal())
	}
	base := size("a") - 1
	for _, want := range []int{509, 510, 511} {
		name := nameOfLength(want - base)
		if got := size(name); got != want {
			t.Fatalf("a %d-byte name gives a %d-byte hello, want %d", len(name), got, want)
		}
		t.Logf("%d-byte host name: %d-byte TLS 1.3 hello", len(name), want)
		tg := endpoint("127.0.0.1", port, "https")
		tg.Decl.Hostname = name
		tf := probe(t, tg, &collect.Env{}, Options{})
		if d := diff([]string{"TLSv1.2", "TLSv1.3"}, tf.Versions); d != "" {
			t.Errorf("%d-byte hello: versions %s", want, d)
		}
		if tf.SNI != name {
			t.Errorf("SNI %q, want the declared name", tf.SNI)
		}
	}
}

// TestProberHellosEveryNameAndList builds every hello the prober sends
// (each version, every length of the candidate list an elimination walks
// through) under host names of 40 to 100 bytes: none panics, and none is
// left in the 256-511 byte range that some load balancers mishandle.
func TestProberHellosEveryNameAndList(t *testing.T) {
	c := New(Options{})
	versions := []tlswire.Version{tlswire.VersionSSL30, tlswire.VersionTLS10, tlswire.VersionTLS11, tlswire.VersionTLS12, tlswire.VersionTLS13}
	for n := 40; n <= 100; n++ {
		p := &prober{sni: nameOfLength(n)}
		for _, v := range versions {
			cands := c.tls
			if v == tlswire.VersionTLS13 {
				cands = c.tls13
			}
			for k := 0; k <= len(cands); k++ {
				ch := p.hello(v, cands[:k])
				b := ch.Marshal()
				if ch.Pad && len(b) >= 256 && len(b) < 512 {
					t.Fatalf("%s, %d suites, %d-byte name: hello of %d bytes", v, k, n, len(b))
				}
			}
		}
	}
}
