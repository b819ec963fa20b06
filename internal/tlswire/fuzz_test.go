package tlswire

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/rampart-sec/rampart/internal/certinfo"
)

// The seed corpora in testdata/fuzz/FuzzXxx/ are real server flights (Go
// crypto/tls servers, and the eval targets' nginx and openssl s_server when
// they were up), split by TestWriteFuzzSeeds. Regenerate with
// TLSWIRE_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds ./internal/tlswire/

func FuzzReader(f *testing.F) {
	f.Add(AppendRecords(nil, TypeAlert, VersionTLS12, []byte{2, 40}))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(bytes.NewReader(data))
		for range 64 {
			m, err := rd.Next()
			if err != nil {
				return
			}
			if m.ContentType == TypeHandshake && len(m.Raw) != len(m.Body)+4 {
				t.Fatalf("raw %d body %d", len(m.Raw), len(m.Body))
			}
		}
	})
}

func FuzzServerHello(f *testing.F) {
	f.Add([]byte{3, 3})
	f.Fuzz(func(t *testing.T, body []byte) {
		sh, err := ParseServerHello(body)
		if err != nil {
			return
		}
		if len(sh.Random) != 32 || sh.Version() == 0 {
			t.Fatalf("accepted a ServerHello with random %d bytes, version %v", len(sh.Random), sh.Version())
		}
	})
}

func FuzzServerKeyExchange(f *testing.F) {
	f.Add([]byte{3, 0, 29, 1, 0}, true)
	f.Fuzz(func(t *testing.T, body []byte, dh bool) {
		kind := "ecdh"
		if dh {
			kind = "dh"
		}
		s, err := ParseServerKeyExchange(body, kind)
		if err != nil {
			return
		}
		if len(s.Params)+len(s.Signature) != len(body) {
			t.Fatalf("params %d + signature %d != body %d", len(s.Params), len(s.Signature), len(body))
		}
		if dh && s.DHBits > 8*len(s.P) {
			t.Fatalf("%d DH bits from a %d-byte prime", s.DHBits, len(s.P))
		}
	})
}

// FuzzCertificates: the certificates read are non-empty pieces of the
// message, and written again as a Certificate message (TLS 1.2 or 1.3
// framing) they read back the same; those Go's X.509 parser reads give
// certificate facts without panicking.
func FuzzCertificates(f *testing.F) {
	f.Add([]byte{0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, body []byte, tls13 bool) {
		ders, err := ParseCertificates(body, tls13)
		if err != nil {
			return
		}
		var b cryptobyte.Builder
		if tls13 {
			b.AddUint8LengthPrefixed(func(*cryptobyte.Builder) {})
		}
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, d := range ders {
				if len(d) == 0 || !bytes.Contains(body, d) {
					t.Fatalf("certificate of %d bytes not taken from the message", len(d))
				}
				b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(d) })
				if tls13 {
					b.AddUint16LengthPrefixed(func(*cryptobyte.Builder) {})
				}
			}
		})
		again, err := ParseCertificates(b.BytesOrPanic(), tls13)
		if err != nil || !slices.EqualFunc(again, ders, bytes.Equal) {
			t.Fatalf("written again, read as %d certificates (%v); want %d", len(again), err, len(ders))
		}
		for _, d := range ders {
			c, err := x509.ParseCertificate(d)
			if err != nil {
				continue
			}
			_ = certinfo.Facts(c)
		}
	})
}

func FuzzSSLv2ServerHello(f *testing.F) {
	f.Add([]byte{4, 0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 7, 0, 0xC0})
	f.Fuzz(func(t *testing.T, body []byte) {
		if s, err := ParseSSLv2ServerHello(body); err == nil && len(s.CipherKinds)*3 > len(body) {
			t.Fatal("more cipher kinds than bytes")
		}
		_, _ = ReadSSLv2ServerHello(bytes.NewReader(body))
	})
}

// TestWriteFuzzSeeds captures real flights and writes them as seed corpora.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("TLSWIRE_WRITE_SEEDS") != "1" {
		t.Skip("set TLSWIRE_WRITE_SEEDS=1 to regenerate testdata/fuzz")
	}
	var flights [][]byte
	cert := testCert(t)
	flights = append(flights,
		flight(t, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12}, hello12([]uint16{0xC02B})),
		flight(t, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.CurveP256}}, hello12([]uint16{0xC009})),
	)
	ch := &ClientHello{Version: VersionTLS12, Suites: []uint16{0x1301}, SupportedVersions: []Version{VersionTLS13},
		Groups: []uint16{GroupP384}, KeyShareExt: true, SessionID: make([]byte, 32)}
	flights = append(flights, flight(t, &tls.Config{Certificates: []tls.Certificate{cert}, CurvePreferences: []tls.CurveID{tls.CurveP384}},
		AppendRecords(nil, TypeHandshake, VersionTLS10, ch.Marshal())))
	for _, target := range []struct {
		addr   string
		suites []uint16
	}{{"127.0.0.1:8443", []uint16{0x009E}}, {"127.0.0.1:8444", []uint16{0x0033}}, {"127.0.0.1:8443", []uint16{0xC02F}}, {"127.0.0.1:9443", []uint16{0xC030}}} {
		c, err := net.DialTimeout("tcp", target.addr, time.Second)
		if err != nil {
			t.Logf("%s not up: %v", target.addr, err)
			continue
		}
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		_, _ = c.Write(hello12(target.suites))
		var buf bytes.Buffer
		rd := NewReader(io.TeeReader(c, &buf))
		for {
			m, err := rd.Next()
			if err != nil || m.HSType == HSServerHelloDone {
				break
			}
		}
		c.Close()
		flights = append(flights, buf.Bytes())
	}
	for _, fl := range flights {
		writeSeed(t, "FuzzReader", fl)
		writeSeed(t, "FuzzClientHandshake", fl)
		rd := NewReader(bytes.NewReader(fl))
		for {
			m, err := rd.Next()
			if err != nil {
				break
			}
			switch m.HSType {
			case HSServerHello:
				writeSeed(t, "FuzzServerHello", m.Body)
			case HSCertificate:
				writeSeed(t, "FuzzCertificates", m.Body, false)
			case HSServerKeyExchange:
				// DH parameters start with a two-byte length; EC with curve type 3.
				writeSeed(t, "FuzzServerKeyExchange", m.Body, m.Body[0] != 3)
			}
		}
	}
	writeSeed(t, "FuzzSSLv2ServerHello", []byte{4, 0, 1, 0, 2, 0, 3, 0, 6, 0, 16, 'c', 'e', 'r', 1, 0, 0x80, 7, 0, 0xC0, 'i', 'd', 'i', 'd', 'i', 'd', 'i', 'd', 'i', 'd', 'i', 'd', 'i', 'd', 'i', 'd'})
	writeSeed(t, "FuzzSSLv2ServerHello", []byte{0, 0, 1})
	// Records each protection really produced, for FuzzRecordDecrypt.
	for which := range uint8(5) {
		c := fuzzCipher(which)
		for _, msg := range []string{"", "GET / HTTP/1.0\r\n\r\n"} {
			ct, err := c.Encrypt(TypeApplicationData, VersionTLS12, []byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			writeSeed(t, "FuzzRecordDecrypt", ct, which)
		}
	}
}

func writeSeed(t *testing.T, fuzz string, args ...any) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		}
	}
	sum := sha256.Sum256(b.Bytes())
	dir := filepath.Join("testdata", "fuzz", fuzz)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%x", sum[:8])), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fuzzConn is a net.Conn whose peer's bytes are fixed: reads come from
// them, writes go nowhere.
type fuzzConn struct {
	net.Conn // nil: only the methods below are used
	r        io.Reader
}

func (f *fuzzConn) Read(b []byte) (int, error)         { return f.r.Read(b) }
func (f *fuzzConn) Write(b []byte) (int, error)        { return len(b), nil }
func (f *fuzzConn) Close() error                       { return nil }
func (f *fuzzConn) SetDeadline(time.Time) error        { return nil }
func (f *fuzzConn) SetWriteDeadline(t time.Time) error { return nil }

// FuzzClientHandshake feeds a server's side of a handshake to the client.
// The seeds are the real first flights of FuzzReader's corpus.
func FuzzClientHandshake(f *testing.F) {
	f.Add(AppendRecords(nil, TypeAlert, VersionTLS12, []byte{2, 40}))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Client(&fuzzConn{r: bytes.NewReader(data)}, ClientConfig{OfferDeflate: len(data)%2 == 0})
		if err := c.Handshake(context.Background()); err == nil {
			t.Fatal("a handshake completed without the client's keys")
		}
		_ = c.Close()
	})
}

// FuzzRecordDecrypt feeds arbitrary record payloads to every record
// protection.
func FuzzRecordDecrypt(f *testing.F) {
	for _, n := range []int{0, 16, 20, 32, 48, 64} {
		f.Add(bytes.Repeat([]byte{byte(n)}, n), uint8(0))
	}
	f.Fuzz(func(t *testing.T, payload []byte, which uint8) {
		c := fuzzCipher(which)
		if pt, err := c.Decrypt(TypeApplicationData, VersionTLS12, payload); err == nil && len(pt) >= len(payload) {
			t.Fatalf("%d bytes of plaintext from a %d-byte record", len(pt), len(payload))
		}
	})
}

// fuzzCipher returns one of the record protections with fixed keys.
func fuzzCipher(which uint8) RecordCipher {
	key := bytes.Repeat([]byte{7}, 32)
	var c RecordCipher
	var err error
	switch which % 5 {
	case 0:
		c, err = NewGCMCipher(key[:16], key[:4])
	case 1:
		c, err = NewCBCCipher(VersionTLS10, key[:16], key[:20], key[:16], sha1.New)
	case 2:
		c, err = NewCBCCipher(VersionTLS12, key[:32], key[:32], key[:16], sha256.New)
	case 3:
		c, err = NewCBCCipher(VersionTLS11, key[:16], key[:32], nil, sha512.New384)
	case 4:
		c, err = NewChaCha20Poly1305Cipher(key, key[:12])
	}
	if err != nil {
		panic(err)
	}
	return c
}
