package tlswire

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"slices"
	"testing"
	"time"
)

func testCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// flight sends hello to a Go crypto/tls server with cfg and returns the raw
// bytes of the server's first flight.
func flight(t testing.TB, cfg *tls.Config, hello []byte) []byte {
	t.Helper()
	client, server := net.Pipe()
	go func() {
		_ = tls.Server(server, cfg).Handshake()
		server.Close()
	}()
	defer client.Close()
	_ = client.SetDeadline(time.Now().Add(5 * time.Second))
	go func() { _, _ = client.Write(hello) }()
	var out bytes.Buffer
	rd := NewReader(io.TeeReader(client, &out))
	for {
		m, err := rd.Next()
		if err != nil {
			t.Fatalf("reading flight: %v", err)
		}
		if m.ContentType != TypeHandshake || m.HSType == HSServerHelloDone || m.HSType == HSServerHello && bytes.Contains(m.Body, []byte{0, 0x2b, 0, 2, 3, 4}) {
			return out.Bytes()
		}
	}
}

func hello12(suites []uint16) []byte {
	ch := &ClientHello{Version: VersionTLS12, Suites: append(suites, SuiteRenegotiationSCSV), ServerName: "localhost",
		Groups: []uint16{GroupX25519, GroupP256}, PointFormats: true, Pad: true}
	_, _ = rand.Read(ch.Random[:])
	return AppendRecords(nil, TypeHandshake, VersionTLS10, ch.Marshal())
}

func TestFlightFromGoServer(t *testing.T) {
	cfg := &tls.Config{Certificates: []tls.Certificate{testCert(t)}, MaxVersion: tls.VersionTLS12}
	raw := flight(t, cfg, hello12([]uint16{0xC02B}))
	rd := NewReader(bytes.NewReader(raw))
	var types []uint8
	for {
		m, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, m.HSType)
		switch m.HSType {
		case HSServerHello:
			sh, err := ParseServerHello(m.Body)
			if err != nil {
				t.Fatal(err)
			}
			if sh.Suite != 0xC02B || sh.Version() != VersionTLS12 || sh.RenegotiationInfo == nil || sh.HelloRetry {
				t.Errorf("ServerHello %+v", sh)
			}
		case HSCertificate:
			certs, err := ParseCertificates(m.Body, false)
			if err != nil || len(certs) != 1 {
				t.Fatalf("certificates %d, %v", len(certs), err)
			}
			if _, err := x509.ParseCertificate(certs[0]); err != nil {
				t.Error(err)
			}
		case HSServerKeyExchange:
			ske, err := ParseServerKeyExchange(m.Body, "ecdh")
			if err != nil || ske.Group != GroupX25519 || len(ske.Public) != 32 || len(ske.Signature) == 0 {
				t.Errorf("ServerKeyExchange %+v, %v", ske, err)
			}
		}
	}
	if !bytes.Equal(types, []uint8{HSServerHello, HSCertificate, HSServerKeyExchange, HSServerHelloDone}) {
		t.Errorf("flight %v", types)
	}
}

func TestHelloRetryRequest(t *testing.T) {
	cfg := &tls.Config{Certificates: []tls.Certificate{testCert(t)}, MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.CurveP384}}
	ch := &ClientHello{Version: VersionTLS12, Suites: []uint16{0x1301}, SupportedVersions: []Version{VersionTLS13},
		Groups: []uint16{GroupP384}, KeyShareExt: true, SessionID: make([]byte, 32)}
	raw := flight(t, cfg, AppendRecords(nil, TypeHandshake, VersionTLS10, ch.Marshal()))
	m, err := NewReader(bytes.NewReader(raw)).Next()
	if err != nil {
		t.Fatal(err)
	}
	sh, err := ParseServerHello(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !sh.HelloRetry || sh.KeyShareGroup != GroupP384 || sh.Version() != VersionTLS13 || sh.Suite != 0x1301 {
		t.Errorf("HelloRetryRequest %+v", sh)
	}
}

func TestClientHelloPadding(t *testing.T) {
	for n := 1; n < 200; n += 7 {
		suites := make([]uint16, n)
		for i := range suites {
			suites[i] = uint16(0xC000 + i)
		}
		ch := &ClientHello{Version: VersionTLS12, Suites: suites, ServerName: "example.test", Groups: []uint16{29}, Pad: true}
		b := ch.Marshal()
		if len(b) >= 256 && len(b) < 512 {
			t.Errorf("%d suites: hello of %d bytes not padded", n, len(b))
		}
		// The length fields must add up: parse it back.
		if got, _, err := parseHello(b); err != nil || got != n {
			t.Errorf("%d suites: parsed %d suites: %v", n, got, err)
		}
	}
	// No SNI for IP literals.
	ch := &ClientHello{Version: VersionTLS12, Suites: []uint16{1}, ServerName: "127.0.0.1"}
	if bytes.Contains(ch.Marshal(), []byte("127.0.0.1")) {
		t.Error("SNI sent for an IP literal")
	}
}

func TestReaderFragmentsAndLimits(t *testing.T) {
	msg := append([]byte{HSCertificate, 0, 0x50, 0}, make([]byte, 0x5000)...) // 20 KiB: spans two records
	two := append(AppendRecords(nil, TypeHandshake, VersionTLS12, msg), AppendRecords(nil, TypeHandshake, VersionTLS12, []byte{HSServerHelloDone, 0, 0, 0, HSServerHelloDone, 0, 0, 0})...)
	rd := NewReader(bytes.NewReader(two))
	for i, want := range []uint8{HSCertificate, HSServerHelloDone, HSServerHelloDone} {
		m, err := rd.Next()
		if err != nil || m.HSType != want {
			t.Fatalf("message %d: %d, %v", i, m.HSType, err)
		}
	}
	// An alert inside a fragmented handshake message is refused.
	bad := append(AppendRecords(nil, TypeHandshake, VersionTLS12, msg[:100]), AppendRecords(nil, TypeAlert, VersionTLS12, []byte{2, 40})...)
	if _, err := NewReader(bytes.NewReader(bad)).Next(); !errors.Is(err, ErrUnexpected) {
		t.Errorf("alert mid-message: %v", err)
	}
	if _, err := ReadRecord(bytes.NewReader([]byte("SSH-2.0-OpenSSH\r\n"))); !errors.Is(err, ErrNotTLS) {
		t.Errorf("ssh banner: %v", err)
	}
	if _, err := ReadRecord(bytes.NewReader([]byte{22, 3, 3, 0x48, 1})); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized record: %v", err)
	}
}

func TestRecordProtectionRoundTrip(t *testing.T) {
	key, iv := make([]byte, 16), make([]byte, 16)
	_, _ = rand.Read(key)
	_, _ = rand.Read(iv)
	pairs := map[string]func(v Version) (RecordCipher, RecordCipher){
		"gcm": func(Version) (RecordCipher, RecordCipher) {
			a, _ := NewGCMCipher(key, iv[:4])
			b, _ := NewGCMCipher(key, iv[:4])
			return a, b
		},
		"chacha20-poly1305": func(Version) (RecordCipher, RecordCipher) {
			k := append(slices.Clone(key), key...)
			a, _ := NewChaCha20Poly1305Cipher(k, iv[:12])
			b, _ := NewChaCha20Poly1305Cipher(k, iv[:12])
			return a, b
		},
		"cbc": func(v Version) (RecordCipher, RecordCipher) {
			a, _ := NewCBCCipher(v, key, iv, iv, sha256.New)
			b, _ := NewCBCCipher(v, key, iv, iv, sha256.New)
			return a, b
		},
	}
	for name, mk := range pairs {
		for v := VersionTLS10; v <= VersionTLS12; v++ {
			enc, dec := mk(v)
			for _, msg := range []string{"", "hello", string(make([]byte, 100))} {
				ct, err := enc.Encrypt(TypeApplicationData, v, []byte(msg))
				if err != nil {
					t.Fatal(err)
				}
				pt, err := dec.Decrypt(TypeApplicationData, v, ct)
				if err != nil || string(pt) != msg {
					t.Fatalf("%s %s: round trip %q -> %q, %v", name, v, msg, pt, err)
				}
			}
			enc, dec = mk(v)
			ct, _ := enc.Encrypt(TypeApplicationData, v, []byte("tamper"))
			ct[len(ct)-1] ^= 1
			if _, err := dec.Decrypt(TypeApplicationData, v, ct); err == nil {
				t.Fatalf("%s %s: tampered record accepted", name, v)
			}
		}
	}
}
