package sshprobe

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/rampart-sec/rampart/internal/facts"
)

// keyType is the public key blob type a host key algorithm signs with:
// rsa-sha2-256, rsa-sha2-512 and ssh-rsa all use one RSA key.
func keyType(alg string) string {
	switch alg {
	case "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa":
		return "ssh-rsa"
	case "rsa-sha2-256-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com":
		return "ssh-rsa-cert-v01@openssh.com"
	}
	return alg
}

// parseHostKey reads a public key blob (RFC 4253 6.6, RFC 5656, RFC 8709,
// OpenSSH PROTOCOL.certkeys) and returns its type and size in bits.
func parseHostKey(blob []byte) (typ string, bits int, err error) {
	r := reader{b: blob}
	typ = string(r.str())
	if r.err != nil {
		return "", 0, fmt.Errorf("host key blob: %w", r.err)
	}
	base := typ
	if strings.HasSuffix(typ, "-cert-v01@openssh.com") {
		base = strings.TrimSuffix(typ, "-cert-v01@openssh.com")
		r.str() // nonce
	}
	switch base {
	case "ssh-rsa":
		r.mpint() // e
		n := r.mpint()
		if r.err == nil {
			bits = n.BitLen()
		}
	case "ssh-dss":
		p := r.mpint()
		r.mpint()
		r.mpint()
		r.mpint()
		if r.err == nil {
			bits = p.BitLen()
		}
	case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
		"sk-ecdsa-sha2-nistp256@openssh.com":
		curve := string(r.str())
		r.str() // Q
		switch curve {
		case "nistp256":
			bits = 256
		case "nistp384":
			bits = 384
		case "nistp521":
			bits = 521
		default:
			return typ, 0, fmt.Errorf("host key blob: unknown curve %q", printable(curve))
		}
	case "ssh-ed25519", "sk-ssh-ed25519@openssh.com":
		k := r.str()
		if r.err == nil && len(k) != 32 {
			return typ, 0, fmt.Errorf("host key blob: ed25519 key of %d bytes", len(k))
		}
		bits = 256
	case "ssh-ed448":
		r.str()
		bits = 448
	default:
		return printable(typ), 0, nil
	}
	if r.err != nil {
		return typ, 0, fmt.Errorf("host key blob %s: %w", typ, r.err)
	}
	return typ, bits, nil
}

// fingerprint is the OpenSSH SHA256 fingerprint of a key blob.
func fingerprint(blob []byte) string {
	sum := sha256.Sum256(blob)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// hostKeyFacts turns one fetched blob into the facts for alg.
func hostKeyFacts(alg string, blob []byte) (facts.HostKey, error) {
	_, bits, err := parseHostKey(blob)
	if err != nil {
		return facts.HostKey{Algorithm: alg}, err
	}
	return facts.HostKey{Algorithm: alg, Bits: bits, SHA256: fingerprint(blob)}, nil
}
