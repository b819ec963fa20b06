package collect

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

func selfSignedCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// The inspecting client offers the classical groups, X25519 first: a
// server that prefers the post-quantum hybrid gets X25519, one that takes
// only P-384 gets P-384.
func TestInspectingTLSGroups(t *testing.T) {
	cert := selfSignedCert(t)
	for _, tc := range []struct {
		name   string
		server []tls.CurveID
		want   tls.CurveID
	}{
		{"default server", nil, tls.X25519},
		{"hybrid first", []tls.CurveID{tls.X25519MLKEM768, tls.X25519}, tls.X25519},
		{"P-384 only", []tls.CurveID{tls.CurveP384}, tls.CurveP384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, CurvePreferences: tc.server})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			done := make(chan tls.CurveID, 1)
			go func() {
				c, err := l.Accept()
				if err != nil {
					done <- 0
					return
				}
				defer c.Close()
				tc := c.(*tls.Conn)
				if tc.Handshake() != nil {
					done <- 0
					return
				}
				done <- tc.ConnectionState().CurveID
			}()
			raw, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			c := tls.Client(raw, InspectingTLS(""))
			if err := c.Handshake(); err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if got := c.ConnectionState().CurveID; got != tc.want {
				t.Errorf("client negotiated %v, want %v", got, tc.want)
			}
			if got := <-done; got != tc.want {
				t.Errorf("server negotiated %v, want %v", got, tc.want)
			}
		})
	}
}
