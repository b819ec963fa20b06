package tlswire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/md5" //nolint:gosec // the TLS 1.0/1.1 handshake hash.
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // idem.
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/rampart-sec/rampart/internal/entropy"
)

var (
	// ErrUnsupported marks a handshake the client cannot complete because
	// the server chose something it does not implement (a version outside
	// the configured range, a curve, a suite) or needs what it does not
	// have (a client certificate the server insists on).
	ErrUnsupported = errors.New("not supported by the minimal TLS client")
	// ErrCompressed: the server chose DEFLATE, which the client offered
	// (ClientConfig.OfferDeflate) only to learn whether the server would.
	ErrCompressed = errors.New("the server chose DEFLATE compression")
)

// Bounds of the client.
const (
	// maxTranscript bounds the handshake messages the client accepts.
	maxTranscript = 1 << 20
	// maxDHBits bounds the finite-field group the client computes in.
	maxDHBits = 8192
	// maxUselessRecords bounds records in a row that carry no data (empty
	// records, warning alerts), as crypto/tls does.
	maxUselessRecords = 16
	// closeNotifyTimeout bounds sending close_notify on Close.
	closeNotifyTimeout = time.Second
)

// ClientConfig configures Client. Zero values take the defaults.
type ClientConfig struct {
	// MinVersion and MaxVersion bound the protocol version (TLS 1.0 and
	// TLS 1.2 by default; nothing older or newer is implemented). The hello
	// offers MaxVersion.
	MinVersion, MaxVersion Version
	// Suites are offered in this order; nil offers every suite the client
	// implements (ClientSuites(MaxVersion)). Suites it does not implement
	// are left out.
	Suites []uint16
	// ServerName is sent as SNI (left out when empty or an IP literal).
	ServerName string
	// NextProtos, when set, are offered in the ALPN extension.
	NextProtos []string
	// OfferDeflate also offers DEFLATE compression; when the server picks
	// it, Handshake stops with ErrCompressed (the client has none).
	OfferDeflate bool
	// Rand is the source of the client's randomness: its hello's random,
	// its key exchange, explicit CBC IVs (default crypto/rand). A probe
	// passes its connection's (collect.Conn.Rand), so a run with a
	// deterministic environment sends the same bytes every time. (Go 1.26
	// ignores it for RSA encryption's padding, which comes from crypto/rand.)
	Rand io.Reader
}

// Conn is a client-side TLS 1.0-1.2 connection built on the package's own
// handshake and record protection: ECDHE (X25519, P-256, P-384, P-521),
// finite-field DHE and RSA key exchange, with AES-GCM, ChaCha20-Poly1305
// (RFC 7905) or AES-CBC with HMAC. It exists for what crypto/tls does not do (DHE suites, a
// client-initiated renegotiation); use crypto/tls for everything else.
//
// It does NOT authenticate the server: neither the certificate nor the
// ServerKeyExchange signature is checked (a prober judges certificates
// separately). Only the server's Finished message is verified, so the keys
// are right. After Handshake it is a net.Conn carrying application data;
// one Read and one Write may run at the same time.
type Conn struct {
	conn net.Conn
	cfg  ClientConfig

	// handshake state, written by Handshake only
	handshaked bool
	version    Version
	suite      clientSuite
	sh         *ServerHello
	certs      [][]byte
	clientVD   []byte
	transcript []byte
	clientRand [32]byte

	in      sync.Mutex // guards rd, input, readErr
	rd      *Reader
	input   []byte
	readErr error

	out       sync.Mutex // guards the output cipher and closed
	outCipher RecordCipher
	closed    bool
}

// Client returns a client connection over c; call Handshake before
// reading or writing.
func Client(c net.Conn, cfg ClientConfig) *Conn {
	if cfg.MinVersion == 0 {
		cfg.MinVersion = VersionTLS10
	}
	if cfg.MaxVersion == 0 {
		cfg.MaxVersion = VersionTLS12
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Conn{conn: c, cfg: cfg, rd: NewReader(bufio.NewReaderSize(c, 8192))}
}

// Version is the negotiated protocol version (after Handshake).
func (c *Conn) Version() Version { return c.version }

// CipherSuite is the negotiated suite (after Handshake).
func (c *Conn) CipherSuite() uint16 { return c.suite.id }

// ServerHello is the server's hello, or nil before it arrived. It is
// available after a failed Handshake too (say, with ErrCompressed).
func (c *Conn) ServerHello() *ServerHello { return c.sh }

// PeerCertificates are the DER certificates the server sent, leaf first.
func (c *Conn) PeerCertificates() [][]byte { return c.certs }

// SecureRenegotiation reports whether the server supports RFC 5746.
func (c *Conn) SecureRenegotiation() bool { return c.sh != nil && c.sh.RenegotiationInfo != nil }

// ClientVerifyData is the verify_data of the client's Finished, which a
// renegotiating hello carries in renegotiation_info (RFC 5746).
func (c *Conn) ClientVerifyData() []byte { return slices.Clone(c.clientVD) }

// Handshake runs the handshake. Cancelling ctx (or its deadline passing)
// interrupts it; the connection is then unusable.
func (c *Conn) Handshake(ctx context.Context) (err error) {
	if c.handshaked || c.sh != nil {
		return errors.New("tls client: handshake already run")
	}
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if !stop() && err != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
	}()
	c.in.Lock()
	defer c.in.Unlock()
	if err := c.handshake(); err != nil {
		return err
	}
	c.handshaked = true
	return nil
}

func (c *Conn) hello() *ClientHello {
	ch := &ClientHello{Version: c.cfg.MaxVersion, ServerName: c.cfg.ServerName, ALPN: c.cfg.NextProtos, Pad: true}
	_, _ = io.ReadFull(c.cfg.Rand, ch.Random[:])
	suites := c.cfg.Suites
	if suites == nil {
		suites = ClientSuites(c.cfg.MaxVersion)
	}
	ecdhe := false
	for _, id := range suites {
		if s, ok := lookupClientSuite(id); ok && (!s.tls12 || c.cfg.MaxVersion >= VersionTLS12) {
			ch.Suites = append(ch.Suites, id)
			ecdhe = ecdhe || s.kex == kexECDHE
		}
	}
	ch.Suites = append(ch.Suites, SuiteRenegotiationSCSV)
	if ecdhe {
		ch.Groups = clientGroups
		ch.PointFormats = true
		ch.UncompressedPointsOnly = true
	}
	if c.cfg.OfferDeflate {
		ch.Compression = []uint8{1, 0}
	}
	return ch
}

// send writes one record, protected once ChangeCipherSpec was sent.
func (c *Conn) send(typ uint8, payload []byte) error {
	c.out.Lock()
	defer c.out.Unlock()
	return c.writeRecordLocked(typ, payload)
}

func (c *Conn) writeRecordLocked(typ uint8, payload []byte) error {
	ver := c.version
	if ver == 0 {
		ver = min(c.cfg.MaxVersion, VersionTLS10)
	}
	var out []byte
	for {
		n := min(len(payload), MaxPlaintext)
		frag := payload[:n]
		if c.outCipher != nil {
			enc, err := c.outCipher.Encrypt(typ, ver, frag)
			if err != nil {
				return err
			}
			frag = enc
		}
		out = append(out, typ, byte(ver>>8), byte(ver), byte(len(frag)>>8), byte(len(frag)))
		out = append(out, frag...)
		payload = payload[n:]
		if len(payload) == 0 {
			break
		}
	}
	_, err := c.conn.Write(out)
	return err
}

// next returns the next handshake-phase message: warning alerts are
// skipped (a bounded number), a fatal alert or close_notify is returned as
// an error wrapping the Alert.
func (c *Conn) next() (Message, error) {
	for useless := 0; ; useless++ {
		m, err := c.rd.Next()
		if err != nil {
			return m, err
		}
		if m.ContentType != TypeAlert {
			return m, nil
		}
		if m.Alert.Fatal() || m.Alert.Description == AlertCloseNotify || useless >= maxUselessRecords {
			return m, fmt.Errorf("during the handshake: %w", m.Alert)
		}
	}
}

func (c *Conn) addTranscript(raw []byte) error {
	if len(c.transcript)+len(raw) > maxTranscript {
		return fmt.Errorf("handshake messages over %d bytes: %w", maxTranscript, ErrTooLarge)
	}
	c.transcript = append(c.transcript, raw...)
	return nil
}

func (c *Conn) prf(secret []byte, label string, seed []byte, n int) []byte {
	return PRF(c.version, c.suite.prf, secret, label, seed, n)
}

func (c *Conn) transcriptHash() []byte {
	if c.version >= VersionTLS12 {
		d := c.suite.prf()
		d.Write(c.transcript)
		return d.Sum(nil)
	}
	m, s := md5.Sum(c.transcript), sha1.Sum(c.transcript)
	return append(m[:], s[:]...)
}

func (c *Conn) handshake() error {
	ch := c.hello()
	c.clientRand = ch.Random
	msg := ch.Marshal()
	_ = c.addTranscript(msg)
	if err := c.send(TypeHandshake, msg); err != nil {
		return fmt.Errorf("send ClientHello: %w", err)
	}
	var (
		leaf    *x509.Certificate
		ske     *ServerKeyExchange
		certReq bool
	)
	for done := false; !done; {
		m, err := c.next()
		if err != nil {
			return err
		}
		if m.ContentType != TypeHandshake {
			return fmt.Errorf("%s record during the handshake: %w", typeName(m.ContentType), ErrUnexpected)
		}
		if c.sh == nil && m.HSType != HSServerHello {
			return fmt.Errorf("handshake message %d before the ServerHello: %w", m.HSType, ErrUnexpected)
		}
		if err := c.addTranscript(m.Raw); err != nil {
			return err
		}
		switch m.HSType {
		case HSServerHello:
			if c.sh != nil {
				return fmt.Errorf("second ServerHello: %w", ErrUnexpected)
			}
			sh, err := ParseServerHello(m.Body)
			if err != nil {
				return err
			}
			c.sh = sh
			if err := c.acceptServerHello(ch, sh); err != nil {
				return err
			}
		case HSCertificate:
			certs, err := ParseCertificates(m.Body, false)
			if err != nil {
				return err
			}
			c.certs = certs
			if len(certs) > 0 && c.suite.kex == kexRSA {
				if leaf, err = x509.ParseCertificate(certs[0]); err != nil {
					return fmt.Errorf("server certificate: %w", err)
				}
			}
		case HSServerKeyExchange:
			kind := map[int]string{kexECDHE: "ecdh", kexDHE: "dh"}[c.suite.kex]
			if kind == "" {
				return fmt.Errorf("ServerKeyExchange with RSA key exchange: %w", ErrUnexpected)
			}
			if ske, err = ParseServerKeyExchange(m.Body, kind); err != nil {
				return err
			}
		case HSCertificateRequest:
			certReq = true
		case HSServerHelloDone:
			done = true
		case HSCertificateStatus:
		default:
			return fmt.Errorf("handshake message %d in the server's first flight: %w", m.HSType, ErrUnexpected)
		}
	}
	if certReq {
		// No client certificate: an empty Certificate message. A server
		// that insists refuses with an alert.
		empty := []byte{HSCertificate, 0, 0, 3, 0, 0, 0}
		_ = c.addTranscript(empty)
		if err := c.send(TypeHandshake, empty); err != nil {
			return c.peerReason(err)
		}
	}
	pre, ckx, err := c.keyExchange(ske, leaf)
	if err != nil {
		return err
	}
	cke := append([]byte{HSClientKeyExchange, byte(len(ckx) >> 16), byte(len(ckx) >> 8), byte(len(ckx))}, ckx...)
	_ = c.addTranscript(cke)
	if err := c.send(TypeHandshake, cke); err != nil {
		return c.peerReason(err)
	}
	master := c.prf(pre, "master secret", append(c.clientRand[:], c.sh.Random...), 48)
	in, out, err := c.keys(master)
	if err != nil {
		return err
	}
	if err := c.send(TypeChangeCipherSpec, []byte{1}); err != nil {
		return c.peerReason(err)
	}
	c.out.Lock()
	c.outCipher = out
	c.out.Unlock()
	c.clientVD = c.prf(master, "client finished", c.transcriptHash(), 12)
	fin := append([]byte{HSFinished, 0, 0, 12}, c.clientVD...)
	_ = c.addTranscript(fin)
	if err := c.send(TypeHandshake, fin); err != nil {
		return c.peerReason(err)
	}
	for {
		m, err := c.next()
		if err != nil {
			return err
		}
		switch {
		case m.ContentType == TypeChangeCipherSpec && c.rd.Cipher == nil:
			if len(m.Body) != 1 || m.Body[0] != 1 {
				return fmt.Errorf("ChangeCipherSpec % x: %w", m.Body, ErrMalformed)
			}
			c.rd.Cipher = in
		case m.ContentType == TypeHandshake && m.HSType == HSNewSessionTicket && c.rd.Cipher == nil:
			if err := c.addTranscript(m.Raw); err != nil {
				return err
			}
		case m.ContentType == TypeHandshake && m.HSType == HSFinished && c.rd.Cipher != nil:
			want := c.prf(master, "server finished", c.transcriptHash(), 12)
			if !bytes.Equal(m.Body, want) {
				return fmt.Errorf("server Finished does not verify: %w", ErrMalformed)
			}
			c.transcript = nil
			return nil
		default:
			return fmt.Errorf("%s record (handshake type %d) before the server Finished: %w", typeName(m.ContentType), m.HSType, ErrUnexpected)
		}
	}
}

// peerReason explains a failed write during the handshake: a server that
// refuses sends an alert and closes, and the write may fail first. If the
// alert can still be read (briefly), it is the reason.
func (c *Conn) peerReason(writeErr error) error {
	_ = c.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if m, err := c.rd.Next(); err == nil && m.ContentType == TypeAlert {
		return fmt.Errorf("during the handshake: %w (%w)", m.Alert, writeErr)
	}
	return writeErr
}

// acceptServerHello checks the server's choices against the hello and
// what the client implements.
func (c *Conn) acceptServerHello(ch *ClientHello, sh *ServerHello) error {
	v := sh.Version()
	if sh.SupportedVersion != 0 || v > c.cfg.MaxVersion {
		return fmt.Errorf("server chose %s, above the offered %s: %w", v, c.cfg.MaxVersion, ErrMalformed)
	}
	if v < c.cfg.MinVersion {
		return fmt.Errorf("server chose %s, below %s: %w", v, c.cfg.MinVersion, ErrUnsupported)
	}
	if sh.Suite == SuiteRenegotiationSCSV || !slices.Contains(ch.Suites, sh.Suite) {
		return fmt.Errorf("server chose cipher suite 0x%04X, which was not offered: %w", sh.Suite, ErrMalformed)
	}
	s, ok := lookupClientSuite(sh.Suite)
	if !ok || (s.tls12 && v < VersionTLS12) {
		return fmt.Errorf("server chose cipher suite 0x%04X at %s: %w", sh.Suite, v, ErrUnsupported)
	}
	if !slices.Contains(append([]uint8{0}, ch.Compression...), sh.Compression) {
		return fmt.Errorf("server chose compression method %d, which was not offered: %w", sh.Compression, ErrMalformed)
	}
	if len(sh.RenegotiationInfo) != 0 {
		return fmt.Errorf("renegotiation_info not empty in an initial handshake: %w", ErrMalformed)
	}
	c.version, c.suite = v, s
	if sh.Compression != 0 {
		return ErrCompressed
	}
	return nil
}

// keyExchange computes the pre-master secret and the ClientKeyExchange body.
func (c *Conn) keyExchange(ske *ServerKeyExchange, leaf *x509.Certificate) (pre, body []byte, err error) {
	switch c.suite.kex {
	case kexECDHE:
		if ske == nil {
			return nil, nil, fmt.Errorf("ECDHE suite without a ServerKeyExchange: %w", ErrUnexpected)
		}
		curve := map[uint16]ecdh.Curve{GroupX25519: ecdh.X25519(), GroupP256: ecdh.P256(), GroupP384: ecdh.P384(), GroupP521: ecdh.P521()}[ske.Group]
		if curve == nil || ske.CurveType != 3 {
			return nil, nil, fmt.Errorf("server chose curve %s, which was not offered: %w", LookupGroup(ske.Group).Name, ErrMalformed)
		}
		peer, err := curve.NewPublicKey(ske.Public)
		if err != nil {
			return nil, nil, fmt.Errorf("server ECDH key: %w", err)
		}
		priv, err := entropy.ECDHKey(curve, c.cfg.Rand)
		if err != nil {
			return nil, nil, err
		}
		pre, err := priv.ECDH(peer)
		if err != nil {
			return nil, nil, fmt.Errorf("ECDH with the server's key: %w", err)
		}
		pub := priv.PublicKey().Bytes()
		return pre, append([]byte{byte(len(pub))}, pub...), nil
	case kexDHE:
		if ske == nil {
			return nil, nil, fmt.Errorf("DHE suite without a ServerKeyExchange: %w", ErrUnexpected)
		}
		p, g, ys := new(big.Int).SetBytes(ske.P), new(big.Int).SetBytes(ske.G), new(big.Int).SetBytes(ske.Public)
		if ske.DHBits > maxDHBits {
			return nil, nil, fmt.Errorf("DH group of %d bits (limit %d): %w", ske.DHBits, maxDHBits, ErrUnsupported)
		}
		pm1 := new(big.Int).Sub(p, big.NewInt(1))
		one := big.NewInt(1)
		if p.Cmp(big.NewInt(5)) < 0 || p.Bit(0) == 0 || g.Cmp(one) <= 0 || g.Cmp(pm1) >= 0 || ys.Cmp(one) <= 0 || ys.Cmp(pm1) >= 0 {
			return nil, nil, fmt.Errorf("degenerate DH parameters: %w", ErrMalformed)
		}
		x, err := rand.Int(c.cfg.Rand, new(big.Int).Sub(p, big.NewInt(3)))
		if err != nil {
			return nil, nil, err
		}
		x.Add(x, big.NewInt(2))
		pub := new(big.Int).Exp(g, x, p).Bytes()
		pre := new(big.Int).Exp(ys, x, p).Bytes()
		return pre, append([]byte{byte(len(pub) >> 8), byte(len(pub))}, pub...), nil
	case kexRSA:
		if leaf == nil {
			return nil, nil, fmt.Errorf("RSA key exchange without a certificate: %w", ErrUnexpected)
		}
		pk, ok := leaf.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, nil, fmt.Errorf("RSA key exchange with a %T key: %w", leaf.PublicKey, ErrUnexpected)
		}
		pre := make([]byte, 48)
		// The version the client offered, not the negotiated one (RFC 5246, 7.4.7.1).
		pre[0], pre[1] = byte(c.cfg.MaxVersion>>8), byte(c.cfg.MaxVersion)
		if _, err := io.ReadFull(c.cfg.Rand, pre[2:]); err != nil {
			return nil, nil, err
		}
		//lint:ignore SA1019 TLS RSA key exchange is PKCS #1 v1.5 by definition.
		enc, err := rsa.EncryptPKCS1v15(c.cfg.Rand, pk, pre)
		if err != nil {
			return nil, nil, fmt.Errorf("encrypt the pre-master secret: %w", err)
		}
		return pre, append([]byte{byte(len(enc) >> 8), byte(len(enc))}, enc...), nil
	}
	return nil, nil, fmt.Errorf("suite 0x%04X: %w", c.suite.id, ErrUnsupported)
}

// keys derives the record protection for both directions (RFC 5246, 6.3).
func (c *Conn) keys(master []byte) (in, out RecordCipher, err error) {
	seed := append(slices.Clone(c.sh.Random), c.clientRand[:]...)
	s := c.suite
	switch s.prot {
	case protChaCha:
		kb := c.prf(master, "key expansion", seed, 2*s.keyLen+24)
		ck, sk, civ, siv := kb[:s.keyLen], kb[s.keyLen:2*s.keyLen], kb[2*s.keyLen:2*s.keyLen+12], kb[2*s.keyLen+12:]
		if out, err = NewChaCha20Poly1305Cipher(ck, civ); err != nil {
			return nil, nil, err
		}
		in, err = NewChaCha20Poly1305Cipher(sk, siv)
		return in, out, err
	case protGCM:
		kb := c.prf(master, "key expansion", seed, 2*s.keyLen+8)
		ck, sk, civ, siv := kb[:s.keyLen], kb[s.keyLen:2*s.keyLen], kb[2*s.keyLen:2*s.keyLen+4], kb[2*s.keyLen+4:]
		if out, err = NewGCMCipher(ck, civ); err != nil {
			return nil, nil, err
		}
		in, err = NewGCMCipher(sk, siv)
		return in, out, err
	}
	ml := s.mac().Size()
	kb := c.prf(master, "key expansion", seed, 2*ml+2*s.keyLen+32)
	cm, sm := kb[:ml], kb[ml:2*ml]
	ck, sk := kb[2*ml:2*ml+s.keyLen], kb[2*ml+s.keyLen:2*ml+2*s.keyLen]
	civ, siv := kb[2*ml+2*s.keyLen:2*ml+2*s.keyLen+16], kb[2*ml+2*s.keyLen+16:]
	if out, err = newCBCCipher(c.version, ck, cm, civ, s.mac, c.cfg.Rand); err != nil {
		return nil, nil, err
	}
	in, err = newCBCCipher(c.version, sk, sm, siv, s.mac, c.cfg.Rand)
	return in, out, err
}
