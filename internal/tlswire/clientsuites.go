package tlswire

import (
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 records of the TLS 1.0-era suites.
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"slices"
)

// Key exchanges and record protections the client implements.
const (
	kexECDHE = iota + 1
	kexDHE
	kexRSA
)

const (
	protGCM = iota + 1
	protChaCha
	protCBC
)

// clientSuite is a suite the client can complete: its key exchange, record
// protection and the hash of its TLS 1.2 PRF.
type clientSuite struct {
	id     uint16
	kex    int
	prot   int
	keyLen int
	mac    func() hash.Hash // CBC only
	prf    func() hash.Hash // TLS 1.2 PRF and Finished hash
	tls12  bool             // needs TLS 1.2 (AEAD, SHA-2 MACs)
}

// clientSuites are the suites the client implements, in the order it
// offers them: forward secrecy and AEAD first, static RSA last.
var clientSuites = []clientSuite{
	{0xC02B, kexECDHE, protGCM, 16, nil, sha256.New, true},
	{0xC02F, kexECDHE, protGCM, 16, nil, sha256.New, true},
	{0xC02C, kexECDHE, protGCM, 32, nil, sha512.New384, true},
	{0xC030, kexECDHE, protGCM, 32, nil, sha512.New384, true},
	{0xCCA9, kexECDHE, protChaCha, 32, nil, sha256.New, true},
	{0xCCA8, kexECDHE, protChaCha, 32, nil, sha256.New, true},
	{0x009E, kexDHE, protGCM, 16, nil, sha256.New, true},
	{0x009F, kexDHE, protGCM, 32, nil, sha512.New384, true},
	{0xCCAA, kexDHE, protChaCha, 32, nil, sha256.New, true},
	{0xC023, kexECDHE, protCBC, 16, sha256.New, sha256.New, true},
	{0xC027, kexECDHE, protCBC, 16, sha256.New, sha256.New, true},
	{0xC024, kexECDHE, protCBC, 32, sha512.New384, sha512.New384, true},
	{0xC028, kexECDHE, protCBC, 32, sha512.New384, sha512.New384, true},
	{0x0067, kexDHE, protCBC, 16, sha256.New, sha256.New, true},
	{0x006B, kexDHE, protCBC, 32, sha256.New, sha256.New, true},
	{0xC009, kexECDHE, protCBC, 16, sha1.New, sha256.New, false},
	{0xC013, kexECDHE, protCBC, 16, sha1.New, sha256.New, false},
	{0xC00A, kexECDHE, protCBC, 32, sha1.New, sha256.New, false},
	{0xC014, kexECDHE, protCBC, 32, sha1.New, sha256.New, false},
	{0x0033, kexDHE, protCBC, 16, sha1.New, sha256.New, false},
	{0x0039, kexDHE, protCBC, 32, sha1.New, sha256.New, false},
	{0x009C, kexRSA, protGCM, 16, nil, sha256.New, true},
	{0x009D, kexRSA, protGCM, 32, nil, sha512.New384, true},
	{0x003C, kexRSA, protCBC, 16, sha256.New, sha256.New, true},
	{0x003D, kexRSA, protCBC, 32, sha256.New, sha256.New, true},
	{0x002F, kexRSA, protCBC, 16, sha1.New, sha256.New, false},
	{0x0035, kexRSA, protCBC, 32, sha1.New, sha256.New, false},
}

// ClientSuites lists the cipher suites the client (Client) can complete at
// version v, in the order it offers them.
func ClientSuites(v Version) []uint16 {
	var out []uint16
	for _, s := range clientSuites {
		if !s.tls12 || v >= VersionTLS12 {
			out = append(out, s.id)
		}
	}
	return out
}

func lookupClientSuite(id uint16) (clientSuite, bool) {
	i := slices.IndexFunc(clientSuites, func(s clientSuite) bool { return s.id == id })
	if i < 0 {
		return clientSuite{}, false
	}
	return clientSuites[i], true
}

// clientGroups are the curves the client can do ECDHE with.
var clientGroups = []uint16{GroupX25519, GroupP256, GroupP384, GroupP521}
