package tlswire

import "fmt"

// Group is a named group (supported_groups / key_share code).
type Group struct {
	ID   uint16
	Name string
	// Kind is "ec" (elliptic curve, usable in TLS 1.2 ECDHE), "ff" (RFC 7919
	// finite-field) or "hybrid" (post-quantum hybrids, TLS 1.3 only).
	Kind string
	// Bits is the size of the group: the curve's order or the prime.
	Bits int
}

// groupTable is the IANA "TLS Supported Groups" registry.
var groupTable = []Group{
	{1, "sect163k1", "ec", 163}, {2, "sect163r1", "ec", 163}, {3, "sect163r2", "ec", 163},
	{4, "sect193r1", "ec", 193}, {5, "sect193r2", "ec", 193}, {6, "sect233k1", "ec", 233},
	{7, "sect233r1", "ec", 233}, {8, "sect239k1", "ec", 239}, {9, "sect283k1", "ec", 283},
	{10, "sect283r1", "ec", 283}, {11, "sect409k1", "ec", 409}, {12, "sect409r1", "ec", 409},
	{13, "sect571k1", "ec", 571}, {14, "sect571r1", "ec", 571}, {15, "secp160k1", "ec", 160},
	{16, "secp160r1", "ec", 160}, {17, "secp160r2", "ec", 160}, {18, "secp192k1", "ec", 192},
	{19, "secp192r1", "ec", 192}, {20, "secp224k1", "ec", 224}, {21, "secp224r1", "ec", 224},
	{22, "secp256k1", "ec", 256}, {23, "secp256r1", "ec", 256}, {24, "secp384r1", "ec", 384},
	{25, "secp521r1", "ec", 521}, {26, "brainpoolP256r1", "ec", 256}, {27, "brainpoolP384r1", "ec", 384},
	{28, "brainpoolP512r1", "ec", 512}, {29, "X25519", "ec", 253}, {30, "X448", "ec", 448},
	{31, "brainpoolP256r1tls13", "ec", 256}, {32, "brainpoolP384r1tls13", "ec", 384},
	{33, "brainpoolP512r1tls13", "ec", 512}, {34, "GC256A", "ec", 256}, {35, "GC256B", "ec", 256},
	{36, "GC256C", "ec", 256}, {37, "GC256D", "ec", 256}, {38, "GC512A", "ec", 512},
	{39, "GC512B", "ec", 512}, {40, "GC512C", "ec", 512}, {41, "curveSM2", "ec", 256},
	{256, "ffdhe2048", "ff", 2048}, {257, "ffdhe3072", "ff", 3072}, {258, "ffdhe4096", "ff", 4096},
	{259, "ffdhe6144", "ff", 6144}, {260, "ffdhe8192", "ff", 8192},
	{512, "MLKEM512", "hybrid", 512}, {513, "MLKEM768", "hybrid", 768}, {514, "MLKEM1024", "hybrid", 1024},
	{4587, "SecP256r1MLKEM768", "hybrid", 256}, {4588, "X25519MLKEM768", "hybrid", 253},
	{4589, "SecP384r1MLKEM1024", "hybrid", 384}, {25497, "X25519Kyber768Draft00", "hybrid", 253},
}

// Groups returns every known named group.
func Groups() []Group { return append([]Group(nil), groupTable...) }

// LookupGroup returns the group with code id (Name "0xXXXX" when unknown).
func LookupGroup(id uint16) Group {
	for _, g := range groupTable {
		if g.ID == id {
			return g
		}
	}
	return Group{ID: id, Name: fmt.Sprintf("0x%04X", id)}
}

// Named group codes used by the client hellos.
const (
	GroupP256   uint16 = 23
	GroupP384   uint16 = 24
	GroupP521   uint16 = 25
	GroupX25519 uint16 = 29
)

// Signature schemes offered in signature_algorithms: everything a server
// might need to pick any certificate it has, strongest first.
var offeredSigAlgs = []uint16{
	0x0403, 0x0503, 0x0603, // ecdsa_secp256r1_sha256 ... secp521r1_sha512
	0x0807, 0x0808, // ed25519, ed448
	0x0804, 0x0805, 0x0806, // rsa_pss_rsae_sha256..512
	0x0809, 0x080a, 0x080b, // rsa_pss_pss_sha256..512
	0x0401, 0x0501, 0x0601, // rsa_pkcs1_sha256..512
	0x081a, 0x081b, 0x081c, // ecdsa brainpool tls13
	0x0303, 0x0301, 0x0302, // sha224 ecdsa, rsa, dsa
	0x0203, 0x0201, 0x0202, // sha1 ecdsa, rsa, dsa
	0x0402, 0x0502, 0x0602, // dsa sha256..512
	0x0101, 0x0102, 0x0103, // md5
}
