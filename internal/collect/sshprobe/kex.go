package sshprobe

import (
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	_ "crypto/sha1" // registers crypto.SHA1 for the exchange hash
	_ "crypto/sha256"
	_ "crypto/sha512"
	"fmt"
	"io"
	"math/big"

	"github.com/rampart-sec/rampart/internal/entropy"
)

// kexMethod is the client side of one key exchange method.
type kexMethod struct {
	name string
	hash crypto.Hash
	// full is true when rampart can compute the shared secret and so go on
	// to NEWKEYS; false methods are used only to learn the host key.
	full bool
	kind string // ecdh, dh, gex
	// curve for ecdh methods.
	curve ecdh.Curve
	// prime of a fixed group (dh methods), hexadecimal; generator 2.
	prime string
}

var kexMethods = map[string]kexMethod{
	"curve25519-sha256":                    {"curve25519-sha256", crypto.SHA256, true, "ecdh", ecdh.X25519(), ""},
	"curve25519-sha256@libssh.org":         {"curve25519-sha256@libssh.org", crypto.SHA256, true, "ecdh", ecdh.X25519(), ""},
	"ecdh-sha2-nistp256":                   {"ecdh-sha2-nistp256", crypto.SHA256, true, "ecdh", ecdh.P256(), ""},
	"ecdh-sha2-nistp384":                   {"ecdh-sha2-nistp384", crypto.SHA384, true, "ecdh", ecdh.P384(), ""},
	"ecdh-sha2-nistp521":                   {"ecdh-sha2-nistp521", crypto.SHA512, true, "ecdh", ecdh.P521(), ""},
	"diffie-hellman-group-exchange-sha256": {"diffie-hellman-group-exchange-sha256", crypto.SHA256, true, "gex", nil, ""},
	"diffie-hellman-group-exchange-sha1":   {"diffie-hellman-group-exchange-sha1", crypto.SHA1, true, "gex", nil, ""},
	// Fixed groups (dhgroups.go): RFC 8268's SHA-2 methods and RFC 4253's
	// SHA-1 ones.
	"diffie-hellman-group14-sha256": {"diffie-hellman-group14-sha256", crypto.SHA256, true, "dh", nil, modp2048},
	"diffie-hellman-group16-sha512": {"diffie-hellman-group16-sha512", crypto.SHA512, true, "dh", nil, modp4096},
	"diffie-hellman-group18-sha512": {"diffie-hellman-group18-sha512", crypto.SHA512, true, "dh", nil, modp8192},
	"diffie-hellman-group14-sha1":   {"diffie-hellman-group14-sha1", crypto.SHA1, true, "dh", nil, modp2048},
	"diffie-hellman-group1-sha1":    {"diffie-hellman-group1-sha1", crypto.SHA1, true, "dh", nil, oakley2},
}

// kexPreference is the order rampart asks for key exchange methods in:
// methods it can complete first, cheap ones before expensive ones.
var kexPreference = []string{
	"curve25519-sha256", "curve25519-sha256@libssh.org",
	"ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
	"diffie-hellman-group-exchange-sha256", "diffie-hellman-group-exchange-sha1",
	"diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1", "diffie-hellman-group16-sha512",
	"diffie-hellman-group18-sha512", "diffie-hellman-group1-sha1",
}

// kexResult is what a key exchange yields.
type kexResult struct {
	hostKey []byte
	// K (mpint-encoded) and H are set only for full methods.
	k, h []byte
	// gexBits is the size of the group a group exchange was given.
	gexBits int
}

// handshakeData are the inputs to the exchange hash common to all methods.
type handshakeData struct {
	vc, vs []byte // identification strings, without CR LF
	ic, is []byte // KEXINIT payloads
}

func (hd handshakeData) prefix() []byte {
	var b []byte
	b = appendString(b, hd.vc)
	b = appendString(b, hd.vs)
	b = appendString(b, hd.ic)
	return appendString(b, hd.is)
}

// runKex performs the client side of method m after both KEXINITs.
func runKex(t *transport, m kexMethod, hd handshakeData) (*kexResult, error) {
	switch m.kind {
	case "ecdh":
		return kexECDH(t, m, hd)
	case "dh":
		return kexDHFixed(t, m, hd)
	case "gex":
		return kexGEX(t, m, hd)
	}
	return nil, fmt.Errorf("key exchange %s not implemented", m.name)
}

func kexECDH(t *transport, m kexMethod, hd handshakeData) (*kexResult, error) {
	priv, err := entropy.ECDHKey(m.curve, t.rand)
	if err != nil {
		return nil, err
	}
	qc := priv.PublicKey().Bytes()
	if err := t.writePacket(appendString([]byte{msgKexDHInit}, qc)); err != nil {
		return nil, err
	}
	p, err := t.expect(msgKexDHReply, "KEX_ECDH_REPLY")
	if err != nil {
		return nil, err
	}
	r := reader{b: p[1:]}
	ks := r.str()
	qs := r.str()
	r.str() // signature: not verified, rampart sends no secret
	if r.err != nil {
		return nil, fmt.Errorf("malformed KEX_ECDH_REPLY: %w", r.err)
	}
	res := &kexResult{hostKey: ks}
	pub, err := m.curve.NewPublicKey(qs)
	if err != nil {
		return res, protocolErr("server's ephemeral key: %w", err)
	}
	secret, err := priv.ECDH(pub)
	if err != nil {
		return res, protocolErr("shared secret: %w", err)
	}
	res.k = appendMpint(nil, new(big.Int).SetBytes(secret))
	b := hd.prefix()
	b = appendString(b, ks)
	b = appendString(b, qc)
	b = appendString(b, qs)
	b = append(b, res.k...)
	res.h = hashOf(m.hash, b)
	return res, nil
}

// kexDHFixed is RFC 4253 section 8 in a fixed group: send e = g^x mod p,
// read the host key, f and the signature, and compute K = f^x mod p and
// the exchange hash over K_S, e, f and K.
func kexDHFixed(t *transport, m kexMethod, hd handshakeData) (*kexResult, error) {
	p, g := dhParams(m.prime)
	x, err := dhPrivate(t.rand)
	if err != nil {
		return nil, err
	}
	e := new(big.Int).Exp(g, x, p)
	if err := t.writePacket(appendMpint([]byte{msgKexDHInit}, e)); err != nil {
		return nil, err
	}
	reply, err := t.expect(msgKexDHReply, "KEXDH_REPLY")
	if err != nil {
		return nil, err
	}
	r := reader{b: reply[1:]}
	ks := r.str()
	f := r.mpint()
	r.str() // signature: not verified, rampart sends no secret
	if r.err != nil {
		return nil, fmt.Errorf("malformed KEXDH_REPLY: %w", r.err)
	}
	res := &kexResult{hostKey: ks}
	one := big.NewInt(1)
	if f.Cmp(one) <= 0 || f.Cmp(new(big.Int).Sub(p, one)) >= 0 {
		return res, protocolErr("server's DH value out of range")
	}
	res.k = appendMpint(nil, new(big.Int).Exp(f, x, p))
	b := hd.prefix()
	b = appendString(b, ks)
	b = appendMpint(b, e)
	b = appendMpint(b, f)
	b = append(b, res.k...)
	res.h = hashOf(m.hash, b)
	return res, nil
}

// dhPrivate returns a random exponent of dhExponentBits bits (its top bit
// set), far below every fixed group's order.
func dhPrivate(r io.Reader) (*big.Int, error) {
	x, err := rand.Int(r, new(big.Int).Lsh(big.NewInt(1), dhExponentBits-1))
	if err != nil {
		return nil, err
	}
	return x.SetBit(x, dhExponentBits-1, 1), nil
}

// Group exchange sizes rampart asks for (RFC 4419): at least 2048 bits.
const (
	gexMin  = 2048
	gexPref = 3072
	gexMax  = 8192
)

func kexGEX(t *transport, m kexMethod, hd handshakeData) (*kexResult, error) {
	req := []byte{msgKexGexRequest}
	req = appendU32(req, gexMin)
	req = appendU32(req, gexPref)
	req = appendU32(req, gexMax)
	if err := t.writePacket(req); err != nil {
		return nil, err
	}
	p, err := t.expect(msgKexDHReply, "KEX_DH_GEX_GROUP")
	if err != nil {
		return nil, err
	}
	r := reader{b: p[1:]}
	prime := r.mpint()
	g := r.mpint()
	if r.err != nil {
		return nil, fmt.Errorf("malformed KEX_DH_GEX_GROUP: %w", r.err)
	}
	if prime.BitLen() < 1024 || prime.BitLen() > 8192 || g.Cmp(big.NewInt(1)) <= 0 || g.Cmp(prime) >= 0 {
		return nil, protocolErr("unusable group from the server (%d-bit prime)", prime.BitLen())
	}
	res := &kexResult{gexBits: prime.BitLen()}
	x, err := rand.Int(t.rand, new(big.Int).Sub(prime, big.NewInt(3)))
	if err != nil {
		return nil, err
	}
	x.Add(x, big.NewInt(2))
	e := new(big.Int).Exp(g, x, prime)
	if err := t.writePacket(appendMpint([]byte{msgKexGexInit}, e)); err != nil {
		return nil, err
	}
	p, err = t.expect(msgKexGexReply, "KEX_DH_GEX_REPLY")
	if err != nil {
		return res, err
	}
	r = reader{b: p[1:]}
	ks := r.str()
	f := r.mpint()
	r.str()
	if r.err != nil {
		return res, fmt.Errorf("malformed KEX_DH_GEX_REPLY: %w", r.err)
	}
	res.hostKey = ks
	one := big.NewInt(1)
	if f.Cmp(one) <= 0 || f.Cmp(new(big.Int).Sub(prime, one)) >= 0 {
		return res, protocolErr("server's DH value out of range")
	}
	k := new(big.Int).Exp(f, x, prime)
	res.k = appendMpint(nil, k)
	b := hd.prefix()
	b = appendString(b, ks)
	b = appendU32(b, gexMin)
	b = appendU32(b, gexPref)
	b = appendU32(b, gexMax)
	b = appendMpint(b, prime)
	b = appendMpint(b, g)
	b = appendMpint(b, e)
	b = appendMpint(b, f)
	b = append(b, res.k...)
	res.h = hashOf(m.hash, b)
	return res, nil
}

func hashOf(h crypto.Hash, b []byte) []byte {
	w := h.New()
	w.Write(b)
	return w.Sum(nil)
}

// deriveKey is RFC 4253 section 7.2: HASH(K || H || X || session_id),
// extended with HASH(K || H || K1 ...) until n bytes.
func deriveKey(h crypto.Hash, k, hh []byte, x byte, sessionID []byte, n int) []byte {
	w := h.New()
	w.Write(k)
	w.Write(hh)
	w.Write([]byte{x})
	w.Write(sessionID)
	out := w.Sum(nil)
	for len(out) < n {
		w.Reset()
		w.Write(k)
		w.Write(hh)
		w.Write(out)
		out = w.Sum(out)
	}
	return out[:n]
}
