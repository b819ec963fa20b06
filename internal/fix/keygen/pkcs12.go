package keygen

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"unicode/utf16"
)

// The PKCS#12 files written here are what keytool writes with
// -J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE: certificates sit in
// plain (data) content, the private key in a PBES2 shrouded key bag
// (PBKDF2-HMAC-SHA256, AES-256-CBC), and an HMAC-SHA256 integrity MAC
// covers the whole. Certificates are public; keeping them out of the
// password's encryption lets the store's entries be listed (by rampart's
// own scan too) when its password sits in Secure Vault. JDK 8u301+, 11.0.12+
// and 17 read it (keytool -list), as does OpenSSL 3.

var (
	oidData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidCertBag        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidShroudedKeyBag = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidX509Cert       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	// oidJavaTrusted marks a certificate bag as a trusted entry for Java
	// (ORACLE_TrustedKeyUsage); without it Java ignores a lone certificate.
	oidJavaTrusted       = asn1.ObjectIdentifier{2, 16, 840, 1, 113894, 746875, 1, 1}
	oidAnyExtendedKeyUse = asn1.ObjectIdentifier{2, 5, 29, 37, 0}
	oidPBES2             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA256        = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidSHA256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

// Iterations of the key derivations (keytool's defaults).
const (
	pbkdf2Iterations = 10000
	macIterations    = 10000
)

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type pfx struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData `asn1:"optional"`
}

type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue `asn1:"tag:0,explicit"`
	Attributes []attribute   `asn1:"set,optional"`
}

type attribute struct {
	ID     asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

type certBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbes2Params struct {
	KDF pkix.AlgorithmIdentifier
	Enc pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier
}

// KeyEntry is a private key with its certificate chain (leaf first).
type KeyEntry struct {
	Alias string
	Key   any // *rsa.PrivateKey or *ecdsa.PrivateKey
	Chain [][]byte
}

// TrustedCert is a trusted certificate entry.
type TrustedCert struct {
	Alias string
	DER   []byte
}

// EncodePKCS12 writes a PKCS#12 store holding key entries and trusted
// certificates, protected by password.
func EncodePKCS12(rand io.Reader, keys []KeyEntry, trusted []TrustedCert, password string) ([]byte, error) {
	var bags []safeBag
	for _, k := range keys {
		if len(k.Chain) == 0 {
			return nil, fmt.Errorf("key entry %q has no certificate", k.Alias)
		}
		sum := sha1.Sum(k.Chain[0])
		localID := sum[:]
		pk8, err := x509.MarshalPKCS8PrivateKey(k.Key)
		if err != nil {
			return nil, fmt.Errorf("key entry %q: %w", k.Alias, err)
		}
		enc, err := encryptPBES2(rand, pk8, password)
		if err != nil {
			return nil, err
		}
		attrs, err := bagAttributes(k.Alias, localID, false)
		if err != nil {
			return nil, err
		}
		bags = append(bags, safeBag{ID: oidShroudedKeyBag, Value: explicit(enc), Attributes: attrs})
		for i, c := range k.Chain {
			var a []attribute
			if i == 0 {
				if a, err = bagAttributes(k.Alias, localID, false); err != nil {
					return nil, err
				}
			}
			cb, err := certBagValue(c)
			if err != nil {
				return nil, err
			}
			bags = append(bags, safeBag{ID: oidCertBag, Value: explicit(cb), Attributes: a})
		}
	}
	for _, t := range trusted {
		a, err := bagAttributes(t.Alias, nil, true)
		if err != nil {
			return nil, err
		}
		cb, err := certBagValue(t.DER)
		if err != nil {
			return nil, err
		}
		bags = append(bags, safeBag{ID: oidCertBag, Value: explicit(cb), Attributes: a})
	}
	safeContents, err := asn1.Marshal(bags)
	if err != nil {
		return nil, err
	}
	dataCI, err := dataContentInfo(safeContents)
	if err != nil {
		return nil, err
	}
	authSafe, err := asn1.Marshal([]contentInfo{dataCI})
	if err != nil {
		return nil, err
	}
	outer, err := dataContentInfo(authSafe)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return nil, err
	}
	mac, err := pkcs12MAC(authSafe, salt, password, macIterations)
	if err != nil {
		return nil, err
	}
	p := pfx{
		Version:  3,
		AuthSafe: outer,
		MacData: macData{
			Mac:        digestInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}, Digest: mac},
			MacSalt:    salt,
			Iterations: macIterations,
		},
	}
	return asn1.Marshal(p)
}

func explicit(der []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der}
}

func dataContentInfo(content []byte) (contentInfo, error) {
	octets, err := asn1.Marshal(content)
	if err != nil {
		return contentInfo{}, err
	}
	return contentInfo{ContentType: oidData, Content: explicit(octets)}, nil
}

func certBagValue(der []byte) ([]byte, error) {
	return asn1.Marshal(certBag{ID: oidX509Cert, Data: der})
}

func bagAttributes(alias string, localID []byte, trusted bool) ([]attribute, error) {
	var out []attribute
	if alias != "" {
		name, err := bmpString(alias)
		if err != nil {
			return nil, err
		}
		v, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagBMPString, Bytes: name})
		if err != nil {
			return nil, err
		}
		out = append(out, attribute{ID: oidFriendlyName, Values: asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: v}})
	}
	if localID != nil {
		v, err := asn1.Marshal(localID)
		if err != nil {
			return nil, err
		}
		out = append(out, attribute{ID: oidLocalKeyID, Values: asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: v}})
	}
	if trusted {
		v, err := asn1.Marshal(oidAnyExtendedKeyUse)
		if err != nil {
			return nil, err
		}
		out = append(out, attribute{ID: oidJavaTrusted, Values: asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: v}})
	}
	return out, nil
}

// bmpString is s in UCS-2 big endian without a terminator.
func bmpString(s string) ([]byte, error) {
	var out []byte
	for _, r := range s {
		if r > 0xFFFF {
			return nil, fmt.Errorf("%q: characters beyond the basic multilingual plane cannot be written in a BMPString", s)
		}
		out = append(out, byte(r>>8), byte(r))
	}
	return out, nil
}

func encryptPBES2(rand io.Reader, plain []byte, password string) ([]byte, error) {
	salt := make([]byte, 16)
	iv := make([]byte, aes.BlockSize)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rand, iv); err != nil {
		return nil, err
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, pbkdf2Iterations, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(append([]byte{}, plain...), make([]byte, pad)...)
	for i := len(plain); i < len(padded); i++ {
		padded[i] = byte(pad)
	}
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, err
	}
	kdf, err := asn1.Marshal(pbkdf2Params{Salt: salt, Iterations: pbkdf2Iterations, KeyLength: 32,
		PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACSHA256, Parameters: asn1.NullRawValue}})
	if err != nil {
		return nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KDF: pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdf}},
		Enc: pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
		Data:      ct,
	})
}

// pkcs12MAC is HMAC-SHA256 over data with the key PKCS#12's KDF derives
// from the password (RFC 7292 appendix B, ID 3).
func pkcs12MAC(data, salt []byte, password string, iterations int) ([]byte, error) {
	pw, err := bmpPassword(password)
	if err != nil {
		return nil, err
	}
	key := pkcs12KDF(sha256.New, 32, 64, salt, pw, iterations, 3, 32)
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil), nil
}

// bmpPassword is the password as a zero-terminated BMPString.
func bmpPassword(password string) ([]byte, error) {
	if password == "" {
		return nil, errors.New("an empty keystore password")
	}
	var out []byte
	for _, r := range utf16.Encode([]rune(password)) {
		out = append(out, byte(r>>8), byte(r))
	}
	return append(out, 0, 0), nil
}

// pkcs12KDF derives size bytes (RFC 7292 B.2): u is the hash size, v its
// block size, id the purpose (1 key, 2 IV, 3 MAC).
func pkcs12KDF(newHash func() hash.Hash, u, v int, salt, password []byte, r int, id byte, size int) []byte {
	D := make([]byte, v)
	for i := range D {
		D[i] = id
	}
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		n := v * ((len(b) + v - 1) / v)
		out := make([]byte, n)
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	I := append(fill(salt), fill(password)...)
	c := (size + u - 1) / u
	A := make([]byte, 0, c*u)
	one := big.NewInt(1)
	h := newHash()
	for i := 0; i < c; i++ {
		h.Reset()
		h.Write(D)
		h.Write(I)
		Ai := h.Sum(nil)
		for j := 1; j < r; j++ {
			h.Reset()
			h.Write(Ai)
			Ai = h.Sum(Ai[:0])
		}
		A = append(A, Ai...)
		if i == c-1 {
			break
		}
		B := fill(Ai)[:v]
		Bn := new(big.Int).SetBytes(B)
		Bn.Add(Bn, one)
		for j := 0; j < len(I)/v; j++ {
			Ij := new(big.Int).SetBytes(I[j*v : (j+1)*v])
			Ij.Add(Ij, Bn)
			b := Ij.Bytes()
			if len(b) > v {
				b = b[len(b)-v:]
			}
			block := I[j*v : (j+1)*v]
			for k := range block {
				block[k] = 0
			}
			copy(block[v-len(b):], b)
		}
	}
	return A[:size]
}
