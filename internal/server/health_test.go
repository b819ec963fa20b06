package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// healthCA is a test CA that signs loopback certificates.
type healthCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newHealthCA(t *testing.T) *healthCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "health test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-365 * 24 * time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &healthCA{cert: c, key: key}
}

// server starts a loopback HTTPS health endpoint whose certificate is
// valid until notAfter.
func (ca *healthCA) server(t *testing.T, notAfter time.Time) *httptest.Server {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "health.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"status":"UP"}`)) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// Health checks trusted only monitor.ca_bundle (so endpoints signed by
// the CA the scans are told to trust, scan.ca_bundle, failed as unknown
// authority), and an expired certificate read as Go's error. They now
// use the configured ca_bundle, and an expired certificate reads
// "expired N days ago".
func TestHealthChecksUseCABundleAndSayHowLongExpired(t *testing.T) {
	ca := newHealthCA(t)
	dir := t.TempDir()
	bundle := filepath.Join(dir, "corp-ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	good := ca.server(t, time.Now().Add(60*24*time.Hour))
	expired := ca.server(t, time.Now().Add(-3*24*time.Hour-time.Hour))
	ts := startServer(t, "scan: {ca_bundle: "+bundle+"}\nmonitor:\n  endpoints:\n    - {target: good, url: "+good.URL+"/health}\n    - {target: old, url: "+expired.URL+"/health}\n")
	ts.signUp(t)
	samples := ts.srv.checker.Round(context.Background())
	if len(samples) != 2 {
		t.Fatalf("%d samples", len(samples))
	}
	for _, s := range samples {
		switch s.Target {
		case "good":
			if !s.OK {
				t.Errorf("an endpoint signed by the configured ca_bundle: %+v; want OK", s)
			}
		case "old":
			if s.OK || !strings.Contains(s.Error, "certificate expired 3 days ago") {
				t.Errorf("an expired certificate: %q; want it to say 'certificate expired 3 days ago'", s.Error)
			}
		}
	}
	if _, body := ts.do(t, "GET", "/monitor", nil, nil); !strings.Contains(body, "expired 3 days ago") {
		t.Errorf("the monitoring page does not say how long ago the certificate expired")
	}
}
