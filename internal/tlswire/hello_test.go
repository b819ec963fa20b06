package tlswire

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// helloExt is one extension of a parsed ClientHello.
type helloExt struct {
	typ  uint16
	data []byte
}

// parseHello decodes a marshalled ClientHello (with its handshake header)
// far enough to check every length field: it fails unless they add up.
func parseHello(b []byte) (suites int, exts []helloExt, err error) {
	in := cryptobyte.String(b)
	var typ uint8
	var body, sid, list, comp cryptobyte.String
	if !in.ReadUint8(&typ) || typ != HSClientHello || !in.ReadUint24LengthPrefixed(&body) || !in.Empty() {
		return 0, nil, fmt.Errorf("not one ClientHello message (type %d, %d trailing bytes)", typ, len(in))
	}
	var version uint16
	var random []byte
	if !body.ReadUint16(&version) || !body.ReadBytes(&random, 32) || !body.ReadUint8LengthPrefixed(&sid) || !body.ReadUint16LengthPrefixed(&list) || !body.ReadUint8LengthPrefixed(&comp) {
		return 0, nil, fmt.Errorf("truncated before the extensions")
	}
	if !body.Empty() {
		var e cryptobyte.String
		if !body.ReadUint16LengthPrefixed(&e) || !body.Empty() {
			return 0, nil, fmt.Errorf("extensions block: truncated or %d trailing bytes", len(body))
		}
		for !e.Empty() {
			var x helloExt
			var data cryptobyte.String
			if !e.ReadUint16(&x.typ) || !e.ReadUint16LengthPrefixed(&data) {
				return 0, nil, fmt.Errorf("extension %d truncated", len(exts))
			}
			x.data = data
			exts = append(exts, x)
		}
	}
	return len(list) / 2, exts, nil
}

// checkPadded checks the padding rule on a marshalled hello built with
// Pad: it parses, is never 256-511 bytes long, and a padding extension,
// when present, is last and carries at least one byte (some servers choke
// on an empty last extension).
func checkPadded(b []byte) error {
	_, exts, err := parseHello(b)
	if err != nil {
		return fmt.Errorf("hello of %d bytes does not parse: %w", len(b), err)
	}
	if len(b) >= 256 && len(b) < 512 {
		return fmt.Errorf("hello of %d bytes is not padded out of 256-511", len(b))
	}
	for i, x := range exts {
		if x.typ != ExtPadding {
			continue
		}
		if i != len(exts)-1 {
			return fmt.Errorf("padding is extension %d of %d, not the last", i+1, len(exts))
		}
		if len(x.data) == 0 || bytes.Count(x.data, []byte{0}) != len(x.data) {
			return fmt.Errorf("padding of %d bytes (%x)", len(x.data), x.data)
		}
	}
	return nil
}

// hostOfLength is a valid DNS name of exactly n bytes (n >= 1): labels of
// 62 or 63 letters joined by dots, never a dot at either end.
func hostOfLength(n int) string {
	b := bytes.Repeat([]byte("a"), n)
	for i := 62; i < n-1; i += 63 {
		b[i] = '.'
	}
	return string(b)
}

// sizeHello finds a server name (as close to 70 bytes, a cloud load
// balancer's name, as possible) and an ALPN filler protocol length that
// make build's unpadded hello exactly size bytes long: the hello grows by
// one byte per byte of either. build gets the name and the ALPN list.
func sizeHello(size int, build func(sni string, alpn []string) []byte) (string, []string, bool) {
	alpn := func(fill int) []string { return []string{"http/1.1", strings.Repeat("x", fill)} }
	for d := 0; d < 253; d++ {
		for _, n := range []int{70 - d, 70 + d} {
			if n < 1 || n > 253 {
				continue
			}
			sni := hostOfLength(n)
			fill := 1 + size - len(build(sni, alpn(1)))
			if fill < 1 || fill > 255 {
				continue
			}
			if len(build(sni, alpn(fill))) == size {
				return sni, alpn(fill), true
			}
		}
	}
	return "", nil, false
}

// liveSuites are suites every live server of these tests accepts with an
// RSA certificate, few enough that a server name can bring the hello to
// any size around the 512-byte boundary.
var liveSuites = []uint16{0xC02F, 0xC030, 0xC027, 0xC013, 0xC014, 0x009C, 0x002F}

// tls13Hello is a TLS 1.3 hello without a key share, as the prober sends.
func tls13Hello(sni string, alpn []string, pad bool) *ClientHello {
	return &ClientHello{Version: VersionTLS12, Suites: []uint16{0x1301, 0x1302, 0x1303}, SessionID: make([]byte, 32),
		SupportedVersions: []Version{VersionTLS13}, Groups: []uint16{GroupX25519, GroupP256, GroupP384},
		KeyShareExt: true, ServerName: sni, ALPN: alpn, Pad: pad}
}

// TestHelloEverySize builds hellos of every unpadded length from 240 to
// 600 bytes (by the length of the server name) at TLS 1.2 and TLS 1.3: a
// hello of 509-511 bytes used to make the padding length negative and the
// process panic (makeslice: len out of range).
func TestHelloEverySize(t *testing.T) {
	kinds := map[string]func(sni string, alpn []string, pad bool) *ClientHello{
		"TLS 1.2": func(sni string, alpn []string, pad bool) *ClientHello {
			return &ClientHello{Version: VersionTLS12, Suites: liveSuites, ServerName: sni, ALPN: alpn,
				Groups: clientGroups, PointFormats: true, SessionTicket: true, ExtendedMasterSecret: true, Pad: pad}
		},
		"TLS 1.3": tls13Hello,
	}
	for name, mk := range kinds {
		t.Run(name, func(t *testing.T) {
			unpadded := func(sni string, alpn []string) []byte { return mk(sni, alpn, false).Marshal() }
			covered := 0
			for size := 240; size <= 600; size++ {
				sni, alpn, ok := sizeHello(size, unpadded)
				if !ok {
					continue
				}
				covered++
				var b []byte
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("unpadded %d bytes (SNI of %d): panic %v", size, len(sni), p)
						}
					}()
					b = mk(sni, alpn, true).Marshal()
				}()
				if err := checkPadded(b); err != nil {
					t.Errorf("unpadded %d bytes: %v", size, err)
				}
				if size >= 256 && size < 512 && len(b) > 520 {
					t.Errorf("unpadded %d bytes padded to %d", size, len(b))
				}
			}
			if covered < 300 {
				t.Errorf("only %d sizes covered", covered)
			}
		})
	}
}

// FuzzClientHello builds hellos over server names and suite lists (and
// the extensions that change the length): Marshal never panics, the
// result parses back with every suite, and padding keeps it out of the
// 256-511 byte range.
func FuzzClientHello(f *testing.F) {
	f.Add(uint8(70), []byte{0xc0, 0x2f, 0x13, 0x01}, uint8(0))
	f.Add(uint8(55), []byte{0x13, 0x01, 0x13, 0x02, 0x13, 0x03}, uint8(2))
	f.Add(uint8(85), bytes.Repeat([]byte{0xc0, 0x14}, 100), uint8(5))
	f.Add(uint8(0), []byte{}, uint8(7))
	f.Fuzz(func(t *testing.T, sniLen uint8, suiteBytes []byte, flags uint8) {
		if len(suiteBytes) > 2*1024 {
			suiteBytes = suiteBytes[:2*1024]
		}
		suites := make([]uint16, 0, len(suiteBytes)/2)
		for i := 0; i+1 < len(suiteBytes); i += 2 {
			suites = append(suites, uint16(suiteBytes[i])<<8|uint16(suiteBytes[i+1]))
		}
		ch := &ClientHello{Version: VersionTLS12, Suites: suites, Pad: true}
		if sniLen > 0 {
			ch.ServerName = hostOfLength(int(sniLen))
		}
		if flags&1 != 0 {
			ch.SupportedVersions = []Version{VersionTLS13}
			ch.KeyShareExt = true
			ch.SessionID = make([]byte, 32)
		}
		if flags&2 != 0 {
			ch.Groups, ch.PointFormats = clientGroups, true
		}
		if flags&4 != 0 {
			ch.SessionTicket, ch.ExtendedMasterSecret = true, true
		}
		if flags&8 != 0 {
			ch.ALPN = []string{"http/1.1"}
		}
		b := ch.Marshal()
		n, _, err := parseHello(b)
		if err != nil {
			t.Fatalf("%d suites, SNI %d: %v", len(suites), sniLen, err)
		}
		if n != len(suites) {
			t.Fatalf("%d suites marshalled as %d", len(suites), n)
		}
		if err := checkPadded(b); err != nil {
			t.Fatal(err)
		}
	})
}

// TestHelloSizesLive sends hellos of every unpadded size from 500 to 520
// bytes, padded, to real servers: OpenSSL (TLS 1.2 with the client's
// handshake, TLS 1.3 with a hello as the prober sends it) and the eval
// nginx targets. Each must answer with a ServerHello.
func TestHelloSizesLive(t *testing.T) {
	type server struct{ name, addr string }
	servers := []server{{"openssl s_server", startOpenSSL(t)}}
	for _, ev := range []server{{"eval nginx weak", "127.0.0.1:8443"}, {"eval nginx strong", "127.0.0.1:9443"}} {
		if c, err := net.DialTimeout("tcp", ev.addr, time.Second); err == nil {
			_ = c.Close()
			servers = append(servers, ev)
		} else {
			testenv.Missing(t, "%s not listening at %s (start it with ../shared/eval/targets/up.sh): %v", ev.name, ev.addr, err)
		}
	}
	for size := 500; size <= 520; size++ {
		for _, s := range servers {
			t.Run(fmt.Sprintf("%s/%d", s.name, size), func(t *testing.T) {
				// The client's own hello at TLS 1.2, with a full handshake.
				cfg := func(sni string, alpn []string) ClientConfig {
					return ClientConfig{MaxVersion: VersionTLS12, Suites: liveSuites, ServerName: sni, NextProtos: alpn}
				}
				sni, alpn, ok := sizeHello(size, func(sni string, alpn []string) []byte {
					ch := Client(nil, cfg(sni, alpn)).hello()
					ch.Pad = false
					return ch.Marshal()
				})
				if !ok {
					t.Fatalf("no server name gives a %d-byte hello", size)
				}
				if _, err := liveHandshake(t, s.addr, cfg(sni, alpn)); err != nil {
					t.Errorf("TLS 1.2 handshake with a %d-byte unpadded hello: %v", size, err)
				}
				if s.name == "eval nginx weak" {
					return // TLS 1.2 at most
				}
				// A TLS 1.3 hello without a key share, as the prober sends.
				sni, alpn, ok = sizeHello(size, func(sni string, alpn []string) []byte { return tls13Hello(sni, alpn, false).Marshal() })
				if !ok {
					t.Fatalf("no server name gives a %d-byte TLS 1.3 hello", size)
				}
				sh, err := liveHello(t, s.addr, tls13Hello(sni, alpn, true))
				if err != nil || sh.Version() != VersionTLS13 || !sh.HelloRetry {
					t.Errorf("TLS 1.3 hello of %d bytes unpadded: %+v, %v", size, sh, err)
				}
			})
		}
	}
}

func liveHandshake(t *testing.T, addr string, cfg ClientConfig) (*Conn, error) {
	t.Helper()
	c, err := dialClient(t, addr, cfg)
	if err == nil {
		_ = c.Close()
	}
	return c, err
}

// liveHello sends one hello and returns the ServerHello it got.
func liveHello(t *testing.T, addr string, ch *ClientHello) (*ServerHello, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dl, _ := ctx.Deadline()
	_ = conn.SetDeadline(dl)
	if _, err := conn.Write(AppendRecords(nil, TypeHandshake, VersionTLS10, ch.Marshal())); err != nil {
		return nil, err
	}
	m, err := NewReader(io.LimitReader(conn, 1<<20)).Next()
	if err != nil {
		return nil, err
	}
	if m.ContentType != TypeHandshake || m.HSType != HSServerHello {
		return nil, fmt.Errorf("answer: content type %d, handshake type %d, alert %v", m.ContentType, m.HSType, m.Alert)
	}
	return ParseServerHello(m.Body)
}
