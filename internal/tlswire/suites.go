package tlswire

import (
	"fmt"
	"slices"
	"strings"
)

// Suite is one cipher suite with its classification. The classification
// follows the suite's IANA name, so a rule can judge classes (no forward
// secrecy, CBC, EXPORT) without tables of its own.
type Suite struct {
	// ID is the two-byte code (TLS) or the three-byte cipher kind (SSLv2).
	ID   uint32
	Name string
	// SSLv2 marks the historic SSLv2 cipher kinds; TLS13 the TLS 1.3 suites.
	SSLv2 bool
	TLS13 bool
	// Historic marks suites outside the IANA registry that old servers still
	// speak (draft EXPORT1024, GOST 2001, Netscape FIPS, Fortezza, draft
	// ChaCha20).
	Historic bool
	Kex      string // RSA, DH, DHE, ECDH, ECDHE, PSK, SRP, KRB5, ECCPWD, GOST, FORTEZZA, NULL, ANY
	Auth     string // RSA, DSS, ECDSA, anon, PSK, SRP, KRB5, ECCPWD, GOST, NULL, ANY
	Cipher   string // AES_128_GCM, CHACHA20_POLY1305, 3DES_EDE_CBC, RC4_128, NULL, ...
	Mode     string // AEAD, CBC, STREAM, NULL
	MAC      string // SHA, SHA256, SHA384, MD5, AEAD, GOST, ...
	Bits     int    // effective symmetric key strength
	Export   bool
	// ForwardSecrecy: the key exchange is ephemeral (and authenticated).
	ForwardSecrecy bool
}

// HexID formats the code as the facts spell it: 0xC02F, or 0x0700C0 for an
// SSLv2 kind.
func (s Suite) HexID() string { return FormatSuiteID(s.ID, s.SSLv2) }

// FormatSuiteID formats a suite code as 0xC02F (TLS) or 0x0700C0 (SSLv2).
func FormatSuiteID(id uint32, sslv2 bool) string {
	if sslv2 {
		return fmt.Sprintf("0x%06X", id)
	}
	return fmt.Sprintf("0x%04X", id)
}

// ServerKeyExchange says what a ServerKeyExchange message carries for this
// suite's key exchange: "dh" (finite-field parameters), "ecdh" (a named
// curve and point), or "" (none we parse: RSA, static DH, PSK, ...).
func (s Suite) ServerKeyExchange() string {
	switch {
	case s.SSLv2 || s.TLS13:
		return ""
	case s.Kex == "DHE" || (s.Kex == "DH" && s.Auth == "anon"):
		return "dh"
	case s.Kex == "ECDHE" || (s.Kex == "ECDH" && s.Auth == "anon"):
		return "ecdh"
	}
	return ""
}

type suiteEntry struct {
	id       uint16
	name     string
	historic bool
}

// Registry is the set of known suites, indexed by code. It is immutable once
// built and safe to share.
type Registry struct {
	all  []Suite
	byID map[uint16]int
	v2   []Suite
}

// NewRegistry classifies every suite of the built-in table.
func NewRegistry() *Registry {
	r := &Registry{byID: make(map[uint16]int, len(suiteTable))}
	for _, e := range suiteTable {
		s := classify(e.name)
		s.ID, s.Name, s.Historic = uint32(e.id), e.name, e.historic
		r.byID[e.id] = len(r.all)
		r.all = append(r.all, s)
	}
	r.v2 = slices.Clone(sslv2Kinds)
	return r
}

// Lookup returns the suite with code id, or a placeholder named
// "UNKNOWN_0xXXXX" when the registry has none.
func (r *Registry) Lookup(id uint16) (Suite, bool) {
	if i, ok := r.byID[id]; ok {
		return r.all[i], true
	}
	return Suite{ID: uint32(id), Name: "UNKNOWN_" + FormatSuiteID(uint32(id), false)}, false
}

// LookupSSLv2 returns the SSLv2 cipher kind with code id.
func (r *Registry) LookupSSLv2(id uint32) (Suite, bool) {
	for _, s := range r.v2 {
		if s.ID == id {
			return s, true
		}
	}
	return Suite{ID: id, SSLv2: true, Name: "UNKNOWN_" + FormatSuiteID(id, true)}, false
}

// TLS returns every TLS 1.0-1.2 (and SSLv3) suite, in registry order.
func (r *Registry) TLS() []Suite {
	out := make([]Suite, 0, len(r.all))
	for _, s := range r.all {
		if !s.TLS13 && s.ID != 0 {
			out = append(out, s)
		}
	}
	return out
}

// TLS13 returns the TLS 1.3 suites.
func (r *Registry) TLS13() []Suite {
	var out []Suite
	for _, s := range r.all {
		if s.TLS13 {
			out = append(out, s)
		}
	}
	return out
}

// SSLv2 returns the historic SSLv2 cipher kinds.
func (r *Registry) SSLv2() []Suite { return slices.Clone(r.v2) }

// sslv2Kinds are the SSLv2 cipher kinds (three-byte codes).
var sslv2Kinds = []Suite{
	{ID: 0x010080, Name: "SSL_CK_RC4_128_WITH_MD5", SSLv2: true, Kex: "RSA", Auth: "RSA", Cipher: "RC4_128", Mode: "STREAM", MAC: "MD5", Bits: 128},
	{ID: 0x020080, Name: "SSL_CK_RC4_128_EXPORT40_WITH_MD5", SSLv2: true, Kex: "RSA", Auth: "RSA", Cipher: "RC4_40", Mode: "STREAM", MAC: "MD5", Bits: 40, Export: true},
	{ID: 0x030080, Name: "SSL_CK_RC2_128_CBC_WITH_MD5", SSLv2: true, Kex: "RSA", Auth: "RSA", Cipher: "RC2_128_CBC", Mode: "CBC", MAC: "MD5", Bits: 128},
	{ID: 0x040080, Name: "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5", SSLv2: true, Kex: "RSA", Auth: "RSA", Cipher: "RC2_40_CBC", Mode: "CBC", MAC: "MD5", Bits: 40, Export: true},
	{ID: 0x050080, Name: "SSL_CK_IDEA_128_CBC_WITH_MD5", SSLv2: true, Kex: "RSA", Auth: "RSA", Cipher: "IDEA_CBC", Mode: "CBC", MAC: "MD5", Bits: 128},
	{ID: 0x060040, Name: "SSL_CK_DES_64_CBC_WITH_MD5", SSLv2: true, Kex: "RSA", Auth: "RSA", Cipher: "DES_CBC", Mode: "CBC", MAC: "MD5", Bits: 56},
	{ID: 0x0700C0, Name: "SSL_CK_DES_192_EDE3_CBC_WITH_MD5", SSLv2: true, Kex: "RSA", Auth: "RSA", Cipher: "3DES_EDE_CBC", Mode: "CBC", MAC: "MD5", Bits: 112},
	{ID: 0x080080, Name: "SSL_CK_RC4_64_WITH_MD5", SSLv2: true, Kex: "RSA", Auth: "RSA", Cipher: "RC4_64", Mode: "STREAM", MAC: "MD5", Bits: 64},
}

// kexAuth maps the part of a suite name before _WITH_ to key exchange and
// authentication.
var kexAuth = map[string][2]string{
	"NULL":            {"NULL", "NULL"},
	"RSA":             {"RSA", "RSA"},
	"RSA_FIPS":        {"RSA", "RSA"},
	"DH_DSS":          {"DH", "DSS"},
	"DH_RSA":          {"DH", "RSA"},
	"DHE_DSS":         {"DHE", "DSS"},
	"DHE_RSA":         {"DHE", "RSA"},
	"DH_anon":         {"DH", "anon"},
	"KRB5":            {"KRB5", "KRB5"},
	"PSK":             {"PSK", "PSK"},
	"DHE_PSK":         {"DHE", "PSK"},
	"PSK_DHE":         {"DHE", "PSK"},
	"RSA_PSK":         {"RSA", "PSK"},
	"ECDHE_PSK":       {"ECDHE", "PSK"},
	"ECDH_ECDSA":      {"ECDH", "ECDSA"},
	"ECDHE_ECDSA":     {"ECDHE", "ECDSA"},
	"ECDH_RSA":        {"ECDH", "RSA"},
	"ECDHE_RSA":       {"ECDHE", "RSA"},
	"ECDH_anon":       {"ECDH", "anon"},
	"SRP_SHA":         {"SRP", "SRP"},
	"SRP_SHA_RSA":     {"SRP", "RSA"},
	"SRP_SHA_DSS":     {"SRP", "DSS"},
	"ECCPWD":          {"ECCPWD", "ECCPWD"},
	"GOSTR341112_256": {"GOST", "GOST"},
	"GOSTR341094":     {"GOST", "GOST"},
	"GOSTR341001":     {"GOST", "GOST"},
	"FORTEZZA_KEA":    {"FORTEZZA", "FORTEZZA"},
}

var macNames = map[string]bool{"SHA": true, "SHA256": true, "SHA384": true, "SHA512": true, "MD5": true, "SM3": true}

// classify derives a suite's classification from its IANA name.
func classify(name string) Suite {
	n := strings.TrimPrefix(strings.TrimPrefix(name, "TLS_"), "SSL_")
	n = strings.TrimSuffix(strings.TrimSuffix(n, "_OLD"), "_2")
	var s Suite
	left, right, with := strings.Cut(n, "_WITH_")
	if !with {
		// TLS 1.3 style (TLS_AES_128_GCM_SHA256) or integrity-only (TLS_SHA256_SHA256).
		s.TLS13 = true
		s.Kex, s.Auth = "ANY", "ANY"
		right = n
	} else {
		if strings.Contains(left, "EXPORT") {
			s.Export = true
			left = strings.ReplaceAll(strings.ReplaceAll(left, "_EXPORT1024", ""), "_EXPORT", "")
		}
		ka, ok := kexAuth[left]
		if !ok {
			ka = [2]string{left, left}
		}
		s.Kex, s.Auth = ka[0], ka[1]
	}
	toks := strings.Split(right, "_")
	hash := ""
	if len(toks) > 1 && macNames[toks[len(toks)-1]] {
		hash = toks[len(toks)-1]
		toks = toks[:len(toks)-1]
	}
	s.Cipher = strings.Join(toks, "_")
	switch c := s.Cipher; {
	case c == "NULL" || strings.HasPrefix(c, "NULL_") || c == "SHA256" || c == "SHA384":
		s.Mode = "NULL"
		if c == "SHA256" || c == "SHA384" { // TLS_SHA256_SHA256: integrity only
			hash, s.Cipher = c, "NULL"
		}
	case containsAny(c, "GCM", "CCM", "POLY1305", "MGM", "AEGIS"):
		s.Mode = "AEAD"
	case strings.Contains(c, "CBC"):
		s.Mode = "CBC"
	default: // RC4, CTR, CNT
		s.Mode = "STREAM"
	}
	switch {
	case s.Mode == "AEAD":
		s.MAC = "AEAD"
	case hash != "":
		s.MAC = hash
	case containsAny(s.Cipher, "OMAC", "IMIT", "GOSTR3411"):
		s.MAC = "GOST"
	default:
		s.MAC = "NULL"
	}
	if s.TLS13 && s.Mode == "NULL" {
		s.MAC = hash
	}
	s.Bits = cipherBits(s.Cipher)
	if strings.Contains(s.Cipher, "_MGM_") {
		s.TLS13 = true // RFC 9367 GOST suites are TLS 1.3 suites despite the _WITH_
	}
	s.ForwardSecrecy = s.TLS13 || (s.Kex == "DHE" || s.Kex == "ECDHE" || s.Kex == "ANY" || s.Kex == "ECCPWD") && s.Auth != "anon"
	return s
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// cipherBits is the effective strength of a bulk cipher named as in the
// IANA registry.
func cipherBits(c string) int {
	switch {
	case c == "NULL" || strings.HasPrefix(c, "NULL"):
		return 0
	case strings.Contains(c, "_40") || strings.HasPrefix(c, "DES40"):
		return 40
	case strings.Contains(c, "_56"):
		return 56
	case strings.HasPrefix(c, "3DES"):
		return 112
	case strings.HasPrefix(c, "DES"):
		return 56
	case strings.HasPrefix(c, "FORTEZZA"):
		return 80
	case containsAny(c, "_256", "CHACHA20", "KUZNYECHIK", "MAGMA", "28147"):
		return 256
	case strings.Contains(c, "_128") || containsAny(c, "IDEA", "SEED", "SM4", "RC4_128"):
		return 128
	}
	return 0
}
