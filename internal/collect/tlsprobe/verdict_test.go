package tlsprobe

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
	builtinrules "github.com/rampart-sec/rampart/rules"
)

// judgeTLS runs the built-in rules over tls facts of tg and returns the
// findings by rule.
func judgeTLS(t *testing.T, tg target.Target, tf *facts.TLS) map[string]finding.Finding {
	t.Helper()
	set, err := rules.Load(rules.Source{Name: "rules", FS: builtinrules.FS})
	if err != nil {
		t.Fatal(err)
	}
	f := &facts.Facts{Target: tg.Facts(), Scan: facts.DefaultScan(time.Now()), TLS: tf}
	out := map[string]finding.Finding{}
	for _, fd := range rules.Judge(set.Rules(), rules.Input{Facts: f, Offers: map[string]bool{"probe": true}}) {
		out[fd.RuleID] = fd
	}
	return out
}

// wantStatus checks a finding's status and that its message holds each of
// parts.
func wantStatus(t *testing.T, got map[string]finding.Finding, id string, status finding.Status, parts ...string) {
	t.Helper()
	fd := got[id]
	if fd.Status != status {
		t.Errorf("%s %s (%s), want %s", id, fd.Status, fd.Message, status)
		return
	}
	for _, p := range parts {
		if !strings.Contains(fd.Message, p) {
			t.Errorf("%s message %q lacks %q", id, fd.Message, p)
		}
	}
}

// selfSigned is a self-signed certificate for name with key, signed with
// alg, as PEM certificate and PKCS #8 key.
func selfSigned(t *testing.T, name string, key crypto.Signer, alg x509.SignatureAlgorithm) (certPEM, keyPEM []byte) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour), DNSNames: []string{name},
		SignatureAlgorithm: alg}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k})
}

// TestDualCertificateNginx: nginx with two certificates presents the RSA
// one (1024 bits, SHA-1) to clients of RSA suites and the ECDSA one (P-256,
// SHA-256) to clients of ECDSA suites. Both chains are collected and every
// certificate rule judges both: the weak RSA certificate fails KEY-002 and
// KEY-003 even when the strong one comes first.
func TestDualCertificateNginx(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaCert, rsaPriv := selfSigned(t, "dual.test", rsaKey, x509.SHA1WithRSA)
	ecCert, ecPriv := selfSigned(t, "dual.test", ecKey, x509.ECDSAWithSHA256)
	addr := testenv.Nginx(t, "ssl", `
        ssl_certificate     rsa.crt;
        ssl_certificate_key rsa.key;
        ssl_certificate     ec.crt;
        ssl_certificate_key ec.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers 'ECDHE+AESGCM:ECDHE+CHACHA20:@SECLEVEL=0';
        location / { return 200 "dual\n"; }`,
		map[string][]byte{"rsa.crt": rsaCert, "rsa.key": rsaPriv, "ec.crt": ecCert, "ec.key": ecPriv})
	tg, err := target.ParseEndpoint(addr)
	if err != nil {
		t.Fatal(err)
	}
	tg.Decl.Hostname = "dual.test"
	tf := probe(t, tg, &collect.Env{}, Options{})
	if len(tf.Chains) != 2 {
		t.Fatalf("%d chains, want the RSA and the ECDSA one: %+v", len(tf.Chains), tf.Chains)
	}
	kinds := map[string][]string{}
	for _, ch := range tf.Chains {
		if len(ch.Certificates) != 1 || !ch.NameMatches {
			t.Errorf("chain %+v: want one certificate for dual.test", ch)
			continue
		}
		kinds[ch.Certificates[0].KeyType] = ch.ServedWith
	}
	if !slices.Contains(kinds["RSA"], "RSA") || !slices.Contains(kinds["EC"], "ECDSA") {
		t.Errorf("served with %v, want RSA for the RSA key and ECDSA for the EC key", kinds)
	}
	got := judgeTLS(t, tg, tf)
	wantStatus(t, got, "KEY-002", finding.Fail, "CN=dual.test (RSA 1024, served with RSA suites)")
	wantStatus(t, got, "KEY-003", finding.Fail, "SHA1-RSA, served with RSA suites")
	wantStatus(t, got, "KEY-005", finding.Fail, "served with ECDSA suites: the certificate is self-signed", "served with RSA suites")
	wantStatus(t, got, "KEY-006", finding.Pass)
}

// TestTLS13OnlyOpenSSL: an OpenSSL server offering TLS 1.3 alone passes
// TLS-003 (nothing below TLS 1.2, as RFC 9325 allows), saying TLS 1.2 is
// absent; its certificate comes from a TLS 1.3 handshake and is judged.
func TestTLS13OnlyOpenSSL(t *testing.T) {
	addr := testenv.OpenSSLServer(t, "tls13.test", "-tls1_3")
	tg, err := target.ParseEndpoint(addr)
	if err != nil {
		t.Fatal(err)
	}
	tf := probe(t, tg, &collect.Env{}, Options{})
	if d := diff([]string{"TLSv1.3"}, tf.Versions); d != "" {
		t.Fatalf("versions: %s", d)
	}
	got := judgeTLS(t, tg, tf)
	wantStatus(t, got, "TLS-003", finding.Pass, "TLS 1.3 offered", "TLS 1.2 is not")
	wantStatus(t, got, "TLS-001", finding.Pass)
	wantStatus(t, got, "TLS-002", finding.Pass)
	wantStatus(t, got, "KEY-002", finding.Pass)
	wantStatus(t, got, "KEY-003", finding.Pass)
	wantStatus(t, got, "KEY-005", finding.Fail, "self-signed")
	wantStatus(t, got, "TLS-009", finding.NotApplicable)
}

// TestNoCertificateServed: a server that never sends a certificate (it has
// none for the name asked: every TLS 1.2 hello is refused, and the TLS 1.3
// handshake fails after the HelloRetryRequest) leaves the certificate
// rules in error, saying why, not "not applicable".
func TestNoCertificateServed(t *testing.T) {
	port := goServer(t, "tcp4", &tls.Config{MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return nil, errors.New("no certificate for this name")
		}})
	tg := endpoint("127.0.0.1", port, "")
	tf := probe(t, tg, &collect.Env{}, Options{})
	if d := diff([]string{"TLSv1.3"}, tf.Versions); d != "" {
		t.Errorf("versions: %s", d)
	}
	if len(tf.Chains) != 0 || tf.ChainError == "" || tf.AnonymousOnly {
		t.Fatalf("chains %+v, chain error %q, anonymous only %v", tf.Chains, tf.ChainError, tf.AnonymousOnly)
	}
	got := judgeTLS(t, tg, tf)
	for _, id := range []string{"KEY-001", "KEY-002", "KEY-003", "KEY-005", "KEY-006"} {
		wantStatus(t, got, id, finding.Error, "no certificate was received from the endpoint", "TLSv1.3 handshake for the certificate")
	}
}

// TestTLS13ClientAuthChain: a TLS 1.3-only server that insists on a client
// certificate still shows its own before the handshake fails; the chain is
// read and judged.
func TestTLS13ClientAuthChain(t *testing.T) {
	pki := newPKI(t, false)
	port := goServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MinVersion: tls.VersionTLS13,
		ClientAuth: tls.RequireAnyClientCert})
	tf := probe(t, endpoint("localhost", port, ""), &collect.Env{}, Options{})
	if len(tf.Chains) != 1 || len(tf.Chain) != 2 || tf.Chain[0].KeyBits != 2048 || tf.Chains[0].ServedWith[0] != "TLSv1.3" {
		t.Fatalf("chains %+v, want the served RSA-2048 leaf and CA from TLS 1.3", tf.Chains)
	}
}

// TestTLS006GoServer: Go's crypto/tls ranks its suites itself (AEAD first)
// but lets the client choose between suites it ranks alike (AES-GCM and
// ChaCha20), so the order test says "client". A client that lists CBC
// suites first still gets AEAD: TLS-006 passes and says what was seen.
func TestTLS006GoServer(t *testing.T) {
	pki := newPKI(t, false)
	port := goServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA}})
	tg := endpoint("localhost", port, "https")
	tf := probe(t, tg, &collect.Env{}, Options{})
	if len(tf.CBCFirst) != 1 || tf.CBCFirst[0].Mode != "AEAD" {
		t.Fatalf("cbc_first %+v, want an AEAD choice at TLS 1.2", tf.CBCFirst)
	}
	t.Logf("cipher order %v, cbc_first %+v", tf.CipherOrder, tf.CBCFirst)
	got := judgeTLS(t, tg, tf)
	wantStatus(t, got, "TLS-006", finding.Pass, "a client that lists its CBC suites first still gets TLS_ECDHE_RSA_WITH_")
	if tf.CipherOrder["TLSv1.2"] == "client" {
		wantStatus(t, got, "TLS-006", finding.Pass, "lets the client choose among suites it ranks alike")
	}
}

// TestUnansweredVersionIsUnknown: a server that ignores TLS 1.0 and 1.1
// hellos (no answer at all) while answering TLS 1.2 leaves them unknown,
// not "not offered": TLS-002 and the suite rules are error, not pass.
func TestUnansweredVersionIsUnknown(t *testing.T) {
	pki := newPKI(t, false)
	backend := goServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12})
	port := rawServer(t, func(c net.Conn) {
		raw, h, ok := readClientHello(c)
		if !ok {
			return
		}
		if h.version == tls.VersionTLS10 || h.version == tls.VersionTLS11 {
			_, _ = io.Copy(io.Discard, c) // say nothing
			return
		}
		b, err := net.Dial("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(backend)))
		if err != nil {
			return
		}
		defer b.Close()
		_, _ = b.Write(raw)
		go func() { _, _ = io.Copy(b, c); b.Close() }()
		_, _ = io.Copy(c, b)
	})
	tg := endpoint("127.0.0.1", port, "https")
	tf := probe(t, tg, &collect.Env{}, Options{HandshakeTimeout: 3 * time.Second})
	if d := diff([]string{"TLSv1.2"}, tf.Versions); d != "" {
		t.Errorf("versions: %s", d)
	}
	if d := diff([]string{"TLSv1.0", "TLSv1.1"}, tf.VersionsUnknown); d != "" {
		t.Fatalf("versions unknown: %s", d)
	}
	got := judgeTLS(t, tg, tf)
	wantStatus(t, got, "TLS-002", finding.Error, "whether TLSv1.0 is offered is not known", "whether TLSv1.1 is offered is not known")
	wantStatus(t, got, "TLS-001", finding.Pass)
	wantStatus(t, got, "TLS-003", finding.Pass)
	wantStatus(t, got, "TLS-005", finding.Error, "the suites of TLSv1.0, TLSv1.1 are not known")
}
