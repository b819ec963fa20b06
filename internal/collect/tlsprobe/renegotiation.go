package tlsprobe

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/md5" //nolint:gosec // TLS 1.0/1.1 handshake hash.
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // TLS 1.0/1.1 handshake hash and HMAC-SHA1 records.
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"slices"

	"github.com/rampart-sec/rampart/internal/tlswire"
)

// Client renegotiation outcomes (facts.TLS.ClientRenegotiation).
const (
	renegAccepted = "accepted"
	renegRejected = "rejected"
	renegUnknown  = "unknown"
)

// renegSuite is a suite the prober's own minimal client can complete.
type renegSuite struct {
	id     uint16
	kex    string // ecdhe, dhe, rsa
	gcm    bool
	keyLen int
	mac    func() hash.Hash // CBC only
	prf    crypto.Hash      // TLS 1.2 PRF and Finished hash
	tls12  bool             // needs TLS 1.2 (GCM, SHA-2 MACs)
}

var renegSuites = []renegSuite{
	{0xC02F, "ecdhe", true, 16, nil, crypto.SHA256, true},
	{0xC030, "ecdhe", true, 32, nil, crypto.SHA384, true},
	{0xC02B, "ecdhe", true, 16, nil, crypto.SHA256, true},
	{0xC02C, "ecdhe", true, 32, nil, crypto.SHA384, true},
	{0x009E, "dhe", true, 16, nil, crypto.SHA256, true},
	{0x009F, "dhe", true, 32, nil, crypto.SHA384, true},
	{0x009C, "rsa", true, 16, nil, crypto.SHA256, true},
	{0x009D, "rsa", true, 32, nil, crypto.SHA384, true},
	{0xC027, "ecdhe", false, 16, sha256.New, crypto.SHA256, true},
	{0xC023, "ecdhe", false, 16, sha256.New, crypto.SHA256, true},
	{0x0067, "dhe", false, 16, sha256.New, crypto.SHA256, true},
	{0x006B, "dhe", false, 32, sha256.New, crypto.SHA256, true},
	{0x003C, "rsa", false, 16, sha256.New, crypto.SHA256, true},
	{0x003D, "rsa", false, 32, sha256.New, crypto.SHA256, true},
	{0xC013, "ecdhe", false, 16, sha1.New, crypto.SHA256, false},
	{0xC014, "ecdhe", false, 32, sha1.New, crypto.SHA256, false},
	{0xC009, "ecdhe", false, 16, sha1.New, crypto.SHA256, false},
	{0xC00A, "ecdhe", false, 32, sha1.New, crypto.SHA256, false},
	{0x0033, "dhe", false, 16, sha1.New, crypto.SHA256, false},
	{0x0039, "dhe", false, 32, sha1.New, crypto.SHA256, false},
	{0x002F, "rsa", false, 16, sha1.New, crypto.SHA256, false},
	{0x0035, "rsa", false, 32, sha1.New, crypto.SHA256, false},
}

// renegSuitesFor lists the suites the client can complete at v, those the
// server is known to accept first.
func renegSuitesFor(v tlswire.Version, accepted []uint16) []uint16 {
	var pref, rest []uint16
	for _, s := range renegSuites {
		if s.tls12 && v < tlswire.VersionTLS12 {
			continue
		}
		if slices.Contains(accepted, s.id) {
			pref = append(pref, s.id)
		} else {
			rest = append(rest, s.id)
		}
	}
	if len(accepted) > 0 {
		return pref
	}
	return rest
}

// errCannotComplete: no suite the minimal client can finish is accepted.
var errCannotComplete = errors.New("no cipher suite the prober's TLS client can complete")

// renegOutcome is the renegotiation test's answer, plus what its handshake
// showed about compression (its hello offers DEFLATE, which saves the
// server a signed handshake for a separate compression probe).
type renegOutcome struct {
	state, note string
	// compressionKnown: the server answered the hello, so compression says
	// whether it chose DEFLATE.
	compressionKnown, compression bool
}

// errCompressed: the server chose DEFLATE, which the minimal client does
// not implement.
var errCompressed = errors.New("the server chose DEFLATE compression")

// clientRenegotiation completes a handshake at v with the prober's minimal
// client and then sends a renegotiating ClientHello inside the encrypted
// channel: a ServerHello means accepted, a no_renegotiation alert, another
// alert or a closed connection means rejected.
func (p *prober) clientRenegotiation(ctx context.Context, v tlswire.Version, accepted []uint16) (renegOutcome, error) {
	out, err := p.renegotiationAttempt(ctx, v, accepted, true)
	if err == nil && out.compression {
		// Learned that much; now test renegotiation without compression.
		again, err := p.renegotiationAttempt(ctx, v, accepted, false)
		again.compressionKnown, again.compression = true, true
		return again, err
	}
	return out, err
}

func (p *prober) renegotiationAttempt(ctx context.Context, v tlswire.Version, accepted []uint16, offerDeflate bool) (renegOutcome, error) {
	suites := renegSuitesFor(v, accepted)
	if len(suites) == 0 {
		return renegOutcome{state: renegUnknown, note: errCannotComplete.Error()}, nil
	}
	c, release, err := p.dial(ctx)
	if err != nil {
		return renegOutcome{}, err
	}
	defer release()
	defer c.Close()
	p.stats.conns.Add(1)
	h := &handshake12{p: p, c: c, v: v, rd: tlswire.NewReader(c.r), offerDeflate: offerDeflate}
	err = h.run(ctx, suites)
	out := renegOutcome{compressionKnown: h.sawServerHello, compression: h.compression != 0}
	switch {
	case errors.Is(err, errCompressed):
		return out, nil
	case errors.Is(err, errCannotComplete) || errors.Is(err, errRefused):
		out.state, out.note = renegUnknown, fmt.Sprintf("could not complete a %s handshake: %v", v, err)
		return out, nil
	case err != nil:
		return out, fmt.Errorf("%s handshake for the renegotiation test: %w", v, err)
	}
	out.state, out.note, err = h.renegotiate(ctx)
	return out, err
}

var errRefused = errors.New("server refused the handshake")

// handshake12 is a minimal TLS 1.0-1.2 client: enough to finish one
// handshake and speak in the encrypted channel. It does not verify the
// server's signature or certificate: it only needs to reach the point where
// a renegotiation can be asked for.
type handshake12 struct {
	p           *prober
	c           *conn
	v           tlswire.Version
	rd          *tlswire.Reader
	out         tlswire.RecordCipher
	suite       renegSuite
	transcript  []byte
	clientRand  [32]byte
	serverRand  []byte
	clientVD    []byte
	secureReneg bool
	// offerDeflate adds DEFLATE to the hello's compression methods;
	// compression is what the server chose.
	offerDeflate   bool
	sawServerHello bool
	compression    uint8
}

func (h *handshake12) send(typ uint8, payload []byte) error {
	if h.out != nil {
		enc, err := h.out.Encrypt(typ, h.v, payload)
		if err != nil {
			return err
		}
		payload = enc
	}
	rv := h.v
	_, err := h.c.Write(tlswire.AppendRecords(nil, typ, rv, payload))
	return err
}

func (h *handshake12) hash() hash.Hash {
	if h.v >= tlswire.VersionTLS12 {
		return h.suite.prf.New()
	}
	return nil
}

func (h *handshake12) prfHash() func() hash.Hash {
	if h.suite.prf == crypto.SHA384 {
		return sha512.New384
	}
	return sha256.New
}

func (h *handshake12) transcriptHash() []byte {
	if h.v >= tlswire.VersionTLS12 {
		d := h.hash()
		d.Write(h.transcript)
		return d.Sum(nil)
	}
	m, s := md5.Sum(h.transcript), sha1.Sum(h.transcript)
	return append(m[:], s[:]...)
}

func (h *handshake12) next(ctx context.Context) (tlswire.Message, error) {
	m, err := h.rd.Next()
	if err != nil {
		closed, e := classifyReadErr(ctx, err)
		if closed {
			return m, fmt.Errorf("connection closed: %w", errRefused)
		}
		return m, e
	}
	if m.ContentType == tlswire.TypeAlert {
		if !m.Alert.Fatal() && m.Alert.Description != tlswire.AlertCloseNotify {
			return h.next(ctx)
		}
		return m, fmt.Errorf("%w: %w", errRefused, m.Alert)
	}
	return m, nil
}

func (h *handshake12) run(ctx context.Context, suites []uint16) error {
	ch := h.p.hello(h.v, suites)
	ch.SessionTicket, ch.ExtendedMasterSecret = false, false
	if h.offerDeflate {
		ch.Compression = []uint8{1, 0}
	}
	ch.Groups = []uint16{tlswire.GroupX25519, tlswire.GroupP256, tlswire.GroupP384, tlswire.GroupP521}
	h.clientRand = ch.Random
	msg := ch.Marshal()
	h.transcript = append(h.transcript, msg...)
	if _, err := h.c.Write(tlswire.AppendRecords(nil, tlswire.TypeHandshake, recordVersion(h.v), msg)); err != nil {
		return err
	}
	var (
		sh      *tlswire.ServerHello
		leaf    *x509.Certificate
		ske     *tlswire.ServerKeyExchange
		certReq bool
	)
	for done := false; !done; {
		m, err := h.next(ctx)
		if err != nil {
			return err
		}
		if m.ContentType != tlswire.TypeHandshake {
			return fmt.Errorf("record type %d during the handshake: %w", m.ContentType, tlswire.ErrUnexpected)
		}
		h.transcript = append(h.transcript, m.Raw...)
		switch m.HSType {
		case tlswire.HSServerHello:
			sh, err = tlswire.ParseServerHello(m.Body)
			if err != nil {
				return err
			}
			if err := checkServerHello(ch, sh); err != nil {
				return err
			}
			if sh.Version() != h.v {
				return fmt.Errorf("server answered with %s: %w", sh.Version(), errRefused)
			}
			for _, s := range renegSuites {
				if s.id == sh.Suite {
					h.suite = s
				}
			}
			h.serverRand = sh.Random
			h.secureReneg = sh.RenegotiationInfo != nil
			h.sawServerHello, h.compression = true, sh.Compression
			if sh.Compression != 0 {
				return errCompressed
			}
		case tlswire.HSCertificate:
			certs, err := tlswire.ParseCertificates(m.Body, false)
			if err != nil {
				return err
			}
			if len(certs) > 0 {
				if leaf, err = x509.ParseCertificate(certs[0]); err != nil {
					return fmt.Errorf("server certificate: %w", err)
				}
			}
		case tlswire.HSServerKeyExchange:
			kind := map[string]string{"ecdhe": "ecdh", "dhe": "dh"}[h.suite.kex]
			if ske, err = tlswire.ParseServerKeyExchange(m.Body, kind); err != nil {
				return err
			}
		case tlswire.HSCertificateRequest:
			certReq = true
		case tlswire.HSServerHelloDone:
			done = true
		}
		if sh == nil {
			return fmt.Errorf("handshake message %d before the ServerHello: %w", m.HSType, tlswire.ErrUnexpected)
		}
	}
	if certReq {
		empty := []byte{tlswire.HSCertificate, 0, 0, 3, 0, 0, 0}
		h.transcript = append(h.transcript, empty...)
		if err := h.send(tlswire.TypeHandshake, empty); err != nil {
			return err
		}
	}
	pre, ckx, err := h.keyExchange(ske, leaf)
	if err != nil {
		return err
	}
	cke := append([]byte{tlswire.HSClientKeyExchange, byte(len(ckx) >> 16), byte(len(ckx) >> 8), byte(len(ckx))}, ckx...)
	h.transcript = append(h.transcript, cke...)
	if err := h.send(tlswire.TypeHandshake, cke); err != nil {
		return err
	}
	seed := append(h.clientRand[:], h.serverRand...)
	master := tlswire.PRF(h.v, h.prfHash(), pre, "master secret", seed, 48)
	in, out, err := h.keys(master)
	if err != nil {
		return err
	}
	if err := h.send(tlswire.TypeChangeCipherSpec, []byte{1}); err != nil {
		return err
	}
	h.out = out
	h.clientVD = tlswire.PRF(h.v, h.prfHash(), master, "client finished", h.transcriptHash(), 12)
	fin := append([]byte{tlswire.HSFinished, 0, 0, 12}, h.clientVD...)
	h.transcript = append(h.transcript, fin...)
	if err := h.send(tlswire.TypeHandshake, fin); err != nil {
		return err
	}
	for {
		m, err := h.next(ctx)
		if err != nil {
			return err
		}
		switch {
		case m.ContentType == tlswire.TypeChangeCipherSpec:
			h.rd.Cipher = in
		case m.ContentType == tlswire.TypeHandshake && m.HSType == tlswire.HSNewSessionTicket:
			h.transcript = append(h.transcript, m.Raw...)
		case m.ContentType == tlswire.TypeHandshake && m.HSType == tlswire.HSFinished && h.rd.Cipher != nil:
			want := tlswire.PRF(h.v, h.prfHash(), master, "server finished", h.transcriptHash(), 12)
			if !bytes.Equal(m.Body, want) {
				return fmt.Errorf("server Finished does not verify: %w", tlswire.ErrMalformed)
			}
			return nil
		default:
			return fmt.Errorf("record type %d (handshake %d) before the server Finished: %w", m.ContentType, m.HSType, tlswire.ErrUnexpected)
		}
	}
}

// keyExchange computes the pre-master secret and the ClientKeyExchange body.
func (h *handshake12) keyExchange(ske *tlswire.ServerKeyExchange, leaf *x509.Certificate) (pre, body []byte, err error) {
	switch h.suite.kex {
	case "ecdhe":
		if ske == nil || ske.Kind != "ecdh" {
			return nil, nil, fmt.Errorf("ECDHE suite without ECDH parameters: %w", tlswire.ErrUnexpected)
		}
		curve := map[uint16]ecdh.Curve{tlswire.GroupX25519: ecdh.X25519(), tlswire.GroupP256: ecdh.P256(), tlswire.GroupP384: ecdh.P384(), tlswire.GroupP521: ecdh.P521()}[ske.Group]
		if curve == nil {
			return nil, nil, fmt.Errorf("curve %s: %w", tlswire.LookupGroup(ske.Group).Name, errCannotComplete)
		}
		peer, err := curve.NewPublicKey(ske.Public)
		if err != nil {
			return nil, nil, fmt.Errorf("server ECDH key: %w", err)
		}
		priv, err := curve.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		pre, err := priv.ECDH(peer)
		if err != nil {
			return nil, nil, err
		}
		pub := priv.PublicKey().Bytes()
		return pre, append([]byte{byte(len(pub))}, pub...), nil
	case "dhe":
		if ske == nil || ske.Kind != "dh" {
			return nil, nil, fmt.Errorf("DHE suite without DH parameters: %w", tlswire.ErrUnexpected)
		}
		pr, g, ys := new(big.Int).SetBytes(ske.P), new(big.Int).SetBytes(ske.G), new(big.Int).SetBytes(ske.Public)
		if pr.Cmp(big.NewInt(3)) < 0 {
			return nil, nil, fmt.Errorf("DH prime too small: %w", tlswire.ErrMalformed)
		}
		x, err := rand.Int(rand.Reader, new(big.Int).Sub(pr, big.NewInt(2)))
		if err != nil {
			return nil, nil, err
		}
		x.Add(x, big.NewInt(1))
		pub := new(big.Int).Exp(g, x, pr).Bytes()
		pre := new(big.Int).Exp(ys, x, pr).Bytes()
		return pre, append([]byte{byte(len(pub) >> 8), byte(len(pub))}, pub...), nil
	case "rsa":
		if leaf == nil {
			return nil, nil, fmt.Errorf("RSA key exchange without a certificate: %w", tlswire.ErrUnexpected)
		}
		pk, ok := leaf.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, nil, fmt.Errorf("RSA key exchange with a %T key: %w", leaf.PublicKey, tlswire.ErrUnexpected)
		}
		pre := make([]byte, 48)
		pre[0], pre[1] = byte(h.v>>8), byte(h.v)
		if _, err := rand.Read(pre[2:]); err != nil {
			return nil, nil, err
		}
		enc, err := rsa.EncryptPKCS1v15(rand.Reader, pk, pre) //nolint:staticcheck // TLS RSA key exchange is PKCS #1 v1.5 by definition.
		if err != nil {
			return nil, nil, err
		}
		return pre, append([]byte{byte(len(enc) >> 8), byte(len(enc))}, enc...), nil
	}
	return nil, nil, fmt.Errorf("suite 0x%04X: %w", h.suite.id, errCannotComplete)
}

// keys derives the record protection for both directions.
func (h *handshake12) keys(master []byte) (in, out tlswire.RecordCipher, err error) {
	seed := append(append([]byte(nil), h.serverRand...), h.clientRand[:]...)
	s := h.suite
	if s.gcm {
		kb := tlswire.PRF(h.v, h.prfHash(), master, "key expansion", seed, 2*s.keyLen+8)
		ck, sk, civ, siv := kb[:s.keyLen], kb[s.keyLen:2*s.keyLen], kb[2*s.keyLen:2*s.keyLen+4], kb[2*s.keyLen+4:]
		if out, err = tlswire.NewGCMCipher(ck, civ); err != nil {
			return nil, nil, err
		}
		in, err = tlswire.NewGCMCipher(sk, siv)
		return in, out, err
	}
	ml := s.mac().Size()
	kb := tlswire.PRF(h.v, h.prfHash(), master, "key expansion", seed, 2*ml+2*s.keyLen+32)
	cm, sm := kb[:ml], kb[ml:2*ml]
	ck, sk := kb[2*ml:2*ml+s.keyLen], kb[2*ml+s.keyLen:2*ml+2*s.keyLen]
	civ, siv := kb[2*ml+2*s.keyLen:2*ml+2*s.keyLen+16], kb[2*ml+2*s.keyLen+16:]
	if out, err = tlswire.NewCBCCipher(h.v, ck, cm, civ, s.mac); err != nil {
		return nil, nil, err
	}
	in, err = tlswire.NewCBCCipher(h.v, sk, sm, siv, s.mac)
	return in, out, err
}

// renegotiate sends a ClientHello in the encrypted channel and reads what
// the server does with it.
func (h *handshake12) renegotiate(ctx context.Context) (state, note string, err error) {
	ch := h.p.hello(h.v, renegSuitesFor(h.v, nil))
	ch.Suites = slices.DeleteFunc(ch.Suites, func(s uint16) bool { return s == tlswire.SuiteRenegotiationSCSV })
	if h.secureReneg {
		ch.RenegotiationInfo = h.clientVD
	}
	if err := h.send(tlswire.TypeHandshake, ch.Marshal()); err != nil {
		if closed, _ := classifyReadErr(ctx, err); closed {
			return renegRejected, "the server closed the connection", nil
		}
		return "", "", err
	}
	for {
		m, err := h.rd.Next()
		if err != nil {
			closed, e := classifyReadErr(ctx, err)
			switch {
			case closed:
				return renegRejected, "the server closed the connection", nil
			case errors.Is(e, errNoAnswer):
				return renegUnknown, "no answer to the renegotiation ClientHello within the handshake timeout", nil
			case e != nil && errors.Is(e, ctx.Err()):
				return "", "", e
			}
			return renegRejected, fmt.Sprintf("the server broke the connection: %v", err), nil
		}
		switch {
		case m.ContentType == tlswire.TypeAlert && m.Alert.Description == tlswire.AlertNoRenegotiation:
			return renegRejected, "the server answered with a no_renegotiation alert", nil
		case m.ContentType == tlswire.TypeAlert:
			return renegRejected, "the server answered with alert " + m.Alert.String(), nil
		case m.ContentType == tlswire.TypeHandshake && m.HSType == tlswire.HSServerHello:
			return renegAccepted, "the server answered the renegotiating ClientHello with a ServerHello", nil
		case m.ContentType == tlswire.TypeHandshake && m.HSType == tlswire.HSHelloRequest,
			m.ContentType == tlswire.TypeApplicationData,
			m.ContentType == tlswire.TypeHandshake && m.HSType == tlswire.HSNewSessionTicket:
			continue
		default:
			return renegRejected, fmt.Sprintf("the server answered with record type %d (handshake %d)", m.ContentType, m.HSType), nil
		}
	}
}
