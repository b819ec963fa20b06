package tlsprobe

import (
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"slices"
	"strconv"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// No SSLv2 or SSLv3 stack exists on this machine (Debian's OpenSSL has
// neither), and no stock server chokes on long hellos on demand, so these
// tests put small hand-written servers on loopback that speak just enough.

// parsedHello is what the test servers read from a ClientHello record.
type parsedHello struct {
	version     uint16
	suites      []uint16
	compression []byte
}

func readClientHello(c net.Conn) (raw []byte, h parsedHello, ok bool) {
	rec, err := tlswire.ReadRecord(c)
	if err != nil || rec.Type != tlswire.TypeHandshake || len(rec.Payload) < 4+2+32+1 {
		return nil, h, false
	}
	b := rec.Payload[4:]
	h.version = binary.BigEndian.Uint16(b)
	b = b[34:]
	b = b[1+int(b[0]):]
	n := int(binary.BigEndian.Uint16(b)) / 2
	for i := range n {
		h.suites = append(h.suites, binary.BigEndian.Uint16(b[2+2*i:]))
	}
	b = b[2+2*n:]
	h.compression = b[1 : 1+int(b[0])]
	raw = tlswire.AppendRecords(nil, rec.Type, tlswire.Version(rec.Version), rec.Payload)
	return raw, h, true
}

func alert(desc uint8) []byte {
	return tlswire.AppendRecords(nil, tlswire.TypeAlert, tlswire.VersionTLS12, []byte{2, desc})
}

// chokingProxy forwards to a real Go TLS server but fails any hello that
// offers more than maxSuites suites, as some JSSE and older stacks do.
func chokingProxy(t *testing.T, backend, maxSuites int) int {
	return rawServer(t, func(c net.Conn) {
		raw, h, ok := readClientHello(c)
		if !ok {
			return
		}
		if len(h.suites) > maxSuites {
			_, _ = c.Write(alert(tlswire.AlertHandshakeFailure))
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
}

func TestChokingServerChunked(t *testing.T) {
	pki := newPKI(t, false)
	suites := []uint16{0xC02F, 0xC030, 0xC013, 0xC014, 0x009C, 0x002F}
	backend := goServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: suites})
	direct := probe(t, endpoint("127.0.0.1", backend, "https"), &collect.Env{}, Options{})
	port := chokingProxy(t, backend, chunkSize+1)
	tf := probe(t, endpoint("127.0.0.1", port, "https"), &collect.Env{}, Options{})
	if d := diff([]string{"TLSv1.2"}, tf.Versions); d != "" {
		t.Fatalf("versions through a server that refuses long hellos: %s", d)
	}
	// Same suites, and the same server order recovered over the chunks.
	if d := diff(suiteIDs(direct, "TLSv1.2"), suiteIDs(tf, "TLSv1.2")); d != "" {
		t.Errorf("suites via chunks vs direct: %s", d)
	}
	if tf.CipherOrder["TLSv1.2"] != "server" {
		t.Errorf("cipher order %v, want server", tf.CipherOrder)
	}
}

// fakeSSLv3 answers SSLv3 hellos with a ServerHello for the first offered
// suite it supports (client order), a Certificate and ServerHelloDone, and
// refuses every other version.
func fakeSSLv3(t *testing.T, supported []uint16, cert []byte) int {
	return rawServer(t, func(c net.Conn) {
		_, h, ok := readClientHello(c)
		if !ok {
			return
		}
		if h.version != 0x0300 {
			_, _ = c.Write(alert(tlswire.AlertProtocolVersion))
			return
		}
		i := slices.IndexFunc(h.suites, func(s uint16) bool { return slices.Contains(supported, s) })
		if i < 0 {
			_, _ = c.Write(alert(tlswire.AlertHandshakeFailure))
			return
		}
		sh := append([]byte{3, 0}, make([]byte, 32)...)
		sh = append(sh, 0, byte(h.suites[i]>>8), byte(h.suites[i]), 0)
		msgs := append([]byte{tlswire.HSServerHello, 0, 0, byte(len(sh))}, sh...)
		l := len(cert)
		certMsg := []byte{tlswire.HSCertificate, byte((l + 6) >> 16), byte((l + 6) >> 8), byte(l + 6), byte((l + 3) >> 16), byte((l + 3) >> 8), byte(l + 3), byte(l >> 16), byte(l >> 8), byte(l)}
		msgs = append(append(msgs, certMsg...), cert...)
		msgs = append(msgs, tlswire.HSServerHelloDone, 0, 0, 0)
		_, _ = c.Write(tlswire.AppendRecords(nil, tlswire.TypeHandshake, tlswire.VersionSSL30, msgs))
		_, _ = io.Copy(io.Discard, c)
	})
}

func TestSSLv3(t *testing.T) {
	pki := newPKI(t, false)
	supported := []uint16{0x000A, 0x0005, 0x0004, 0x0009}
	port := fakeSSLv3(t, supported, pki.leaf.Certificate[0])
	tf := probe(t, endpoint("127.0.0.1", port, "https"), &collect.Env{}, Options{})
	if d := diff([]string{"SSLv3"}, tf.Versions); d != "" {
		t.Fatalf("versions: %s", d)
	}
	if d := diff(sorted(hexIDs(supported...)), sorted(suiteIDs(tf, "SSLv3"))); d != "" {
		t.Errorf("SSLv3 suites: %s", d)
	}
	if tf.CipherOrder["SSLv3"] != "client" {
		t.Errorf("cipher order %v, want client", tf.CipherOrder)
	}
	if len(tf.Chain) != 1 || tf.Chain[0].KeyBits != 2048 {
		t.Errorf("chain %+v", tf.Chain)
	}
	if tf.SecureRenegotiation || tf.ClientRenegotiation != "unknown" {
		t.Errorf("renegotiation secure=%v client=%q (%s): want no RFC 5746 and unknown (SSLv3 only)", tf.SecureRenegotiation, tf.ClientRenegotiation, tf.ClientRenegotiationNote)
	}
}

// fakeSSLv2 answers SSLv2 CLIENT-HELLOs with a SERVER-HELLO and closes on
// anything else.
func fakeSSLv2(t *testing.T, kinds []uint32, cert []byte) int {
	return rawServer(t, func(c net.Conn) {
		var h [2]byte
		if _, err := io.ReadFull(c, h[:]); err != nil || h[0]&0x80 == 0 {
			return
		}
		body := []byte{4, 0, 1, 0, 2}
		body = binary.BigEndian.AppendUint16(body, uint16(len(cert)))
		body = binary.BigEndian.AppendUint16(body, uint16(3*len(kinds)))
		body = binary.BigEndian.AppendUint16(body, 16)
		body = append(body, cert...)
		for _, k := range kinds {
			body = append(body, byte(k>>16), byte(k>>8), byte(k))
		}
		body = append(body, make([]byte, 16)...)
		_, _ = c.Write(append([]byte{0x80 | byte(len(body)>>8), byte(len(body))}, body...))
	})
}

func TestSSLv2(t *testing.T) {
	pki := newPKI(t, false)
	port := fakeSSLv2(t, []uint32{0x0700C0, 0x010080, 0x020080}, pki.leaf.Certificate[0])
	tf := probe(t, endpoint("127.0.0.1", port, "https"), &collect.Env{}, Options{})
	if d := diff([]string{"SSLv2"}, tf.Versions); d != "" {
		t.Fatalf("versions: %s", d)
	}
	if d := diff([]string{"0x0700C0", "0x010080", "0x020080"}, suiteIDs(tf, "SSLv2")); d != "" {
		t.Errorf("SSLv2 kinds: %s", d)
	}
	for _, s := range tf.Suites {
		if s.ID == "0x020080" && (!s.Export || s.Bits != 40 || s.MAC != "MD5") {
			t.Errorf("RC4-40 export kind classified %+v", s)
		}
	}
	if len(tf.Chain) != 1 {
		t.Errorf("chain from the SSLv2 SERVER-HELLO: %+v", tf.Chain)
	}
}

// deflateProxy forwards to a real Go server, except that it answers any
// hello offering DEFLATE with a ServerHello choosing DEFLATE (no stack on
// this machine has TLS compression any more).
func deflateProxy(t *testing.T, backend int) int {
	return rawServer(t, func(c net.Conn) {
		raw, h, ok := readClientHello(c)
		if !ok {
			return
		}
		if slices.Contains(h.compression, 1) {
			sh := append([]byte{3, 3}, make([]byte, 32)...)
			sh = append(sh, 0, byte(h.suites[0]>>8), byte(h.suites[0]), 1)
			_, _ = c.Write(tlswire.AppendRecords(nil, tlswire.TypeHandshake, tlswire.VersionTLS12, append([]byte{tlswire.HSServerHello, 0, 0, byte(len(sh))}, sh...)))
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
}

func TestCompression(t *testing.T) {
	pki := newPKI(t, false)
	backend := goServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MaxVersion: tls.VersionTLS12})
	plain := probe(t, endpoint("127.0.0.1", backend, "https"), &collect.Env{}, Options{})
	if plain.Compression {
		t.Error("Go server reported with compression")
	}
	tf := probe(t, endpoint("127.0.0.1", deflateProxy(t, backend), "https"), &collect.Env{}, Options{})
	if !tf.Compression {
		t.Error("DEFLATE chosen by the server, compression false")
	}
	// The renegotiation test is redone without DEFLATE and reaches Go.
	if tf.ClientRenegotiation != "rejected" || tf.ClientRenegotiationNote != plain.ClientRenegotiationNote {
		t.Errorf("client renegotiation %q (%s), want Go's answer %q", tf.ClientRenegotiation, tf.ClientRenegotiationNote, plain.ClientRenegotiationNote)
	}
}
