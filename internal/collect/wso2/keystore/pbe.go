package keystore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"unicode/utf16"
)

// Password-based encryption and integrity of PKCS#12 files (RFC 7292,
// RFC 8018, RFC 9579): the key derivation, the ciphers Java, OpenSSL and
// Windows use, and the MAC. Private keys are never decrypted here; only
// the content holding certificates.

// maxIterations bounds the key-derivation work one file can demand: real
// stores use 2,048 to 100,000 rounds per derivation and a handful of
// derivations; a forged count, or a file of many encrypted parts, must not
// hang a scan.
const maxIterations = 1_000_000

// kdfBudget is the key-derivation work left for one file, in rounds.
type kdfBudget struct{ left int }

func newBudget() *kdfBudget { return &kdfBudget{left: 3 * maxIterations} }

func (b *kdfBudget) spend(n int) error {
	if n < 1 || n > maxIterations {
		return fmt.Errorf("%d key-derivation iterations (accepted: 1 to %d)", n, maxIterations)
	}
	if b.left < n {
		return errors.New("the file asks for more key-derivation work than any real keystore")
	}
	b.left -= n
	return nil
}

var (
	oidPBEWithSHA3KeyTripleDES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHA2KeyTripleDES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 4}
	oidPBEWithSHA128BitRC2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBEWithSHA40BitRC2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidPBES2                   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2                  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidPBMAC1                  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidHMACSHA1                = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224              = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256              = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384              = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512              = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC              = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidSHA1                    = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224                  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256                  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384                  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512                  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

type digestAlg struct {
	new  func() hash.Hash
	u, v int // output and block size in bytes
}

func digestFor(oid asn1.ObjectIdentifier) (digestAlg, bool) {
	switch {
	case oid.Equal(oidSHA1), oid.Equal(oidHMACSHA1):
		return digestAlg{sha1.New, 20, 64}, true
	case oid.Equal(oidSHA224), oid.Equal(oidHMACSHA224):
		return digestAlg{sha256.New224, 28, 64}, true
	case oid.Equal(oidSHA256), oid.Equal(oidHMACSHA256):
		return digestAlg{sha256.New, 32, 64}, true
	case oid.Equal(oidSHA384), oid.Equal(oidHMACSHA384):
		return digestAlg{sha512.New384, 48, 128}, true
	case oid.Equal(oidSHA512), oid.Equal(oidHMACSHA512):
		return digestAlg{sha512.New, 64, 128}, true
	}
	return digestAlg{}, false
}

// bmpPassword is the password as PKCS#12's own key derivation takes it:
// UTF-16 big-endian with a terminating zero character.
func bmpPassword(pw string) []byte {
	u := utf16.Encode([]rune(pw))
	out := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return append(out, 0, 0)
}

// pkcs12KDF is the key derivation of RFC 7292 appendix B.2. id is 1 for
// a key, 2 for an IV, 3 for a MAC key.
func pkcs12KDF(d digestAlg, password, salt []byte, iterations int, id byte, size int) []byte {
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, d.v*((len(b)+d.v-1)/d.v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	D := make([]byte, d.v)
	for i := range D {
		D[i] = id
	}
	I := append(fill(salt), fill(password)...)
	var out []byte
	one := big.NewInt(1)
	for len(out) < size {
		h := d.new()
		h.Write(D)
		h.Write(I)
		A := h.Sum(nil)
		for r := 1; r < iterations; r++ {
			h.Reset()
			h.Write(A)
			A = h.Sum(A[:0])
		}
		out = append(out, A...)
		if len(out) >= size {
			break
		}
		B := new(big.Int).SetBytes(fill(A)[:d.v])
		B.Add(B, one)
		for j := 0; j < len(I); j += d.v {
			Ij := new(big.Int).SetBytes(I[j : j+d.v])
			Ij.Add(Ij, B)
			b := Ij.Bytes()
			if len(b) > d.v {
				b = b[len(b)-d.v:]
			}
			clear(I[j : j+d.v])
			copy(I[j+d.v-len(b):j+d.v], b)
		}
	}
	return out[:size]
}

type pbeParams struct {
	Salt       []byte
	Iterations int
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// errBadPadding is what a wrong password most often looks like once
// decrypted.
var errBadPadding = errors.New("decryption failed (wrong password or corrupt data)")

// decrypt decrypts data encrypted under alg with password.
func decrypt(alg pkix.AlgorithmIdentifier, data []byte, password string, work *kdfBudget) ([]byte, error) {
	var block cipher.Block
	var iv []byte
	switch {
	case alg.Algorithm.Equal(oidPBEWithSHA3KeyTripleDES), alg.Algorithm.Equal(oidPBEWithSHA2KeyTripleDES),
		alg.Algorithm.Equal(oidPBEWithSHA128BitRC2), alg.Algorithm.Equal(oidPBEWithSHA40BitRC2):
		var p pbeParams
		if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("PBE parameters: %v", err)
		}
		if err := work.spend(2 * p.Iterations); err != nil { // key and IV
			return nil, err
		}
		sha := digestAlg{sha1.New, 20, 64}
		pw := bmpPassword(password)
		var err error
		switch {
		case alg.Algorithm.Equal(oidPBEWithSHA40BitRC2), alg.Algorithm.Equal(oidPBEWithSHA128BitRC2):
			n := 5
			if alg.Algorithm.Equal(oidPBEWithSHA128BitRC2) {
				n = 16
			}
			block, err = newRC2(pkcs12KDF(sha, pw, p.Salt, p.Iterations, 1, n), n*8)
		case alg.Algorithm.Equal(oidPBEWithSHA3KeyTripleDES):
			block, err = des.NewTripleDESCipher(pkcs12KDF(sha, pw, p.Salt, p.Iterations, 1, 24))
		default: // two-key triple DES: K1 K2 K1
			k := pkcs12KDF(sha, pw, p.Salt, p.Iterations, 1, 16)
			block, err = des.NewTripleDESCipher(append(k, k[:8]...))
		}
		if err != nil {
			return nil, err
		}
		iv = pkcs12KDF(sha, pw, p.Salt, p.Iterations, 2, 8)
	case alg.Algorithm.Equal(oidPBES2):
		var p pbes2Params
		if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("PBES2 parameters: %v", err)
		}
		if !p.KDF.Algorithm.Equal(oidPBKDF2) {
			return nil, fmt.Errorf("PBES2 key derivation %s is not supported", p.KDF.Algorithm)
		}
		var kp pbkdf2Params
		if rest, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("PBKDF2 parameters: %v", err)
		}
		if err := work.spend(kp.Iterations); err != nil {
			return nil, err
		}
		prf := digestAlg{sha1.New, 20, 64}
		if len(kp.PRF.Algorithm) > 0 {
			var ok bool
			if prf, ok = digestFor(kp.PRF.Algorithm); !ok {
				return nil, fmt.Errorf("PBKDF2 PRF %s is not supported", kp.PRF.Algorithm)
			}
		}
		var keyLen int
		var mk func([]byte) (cipher.Block, error)
		switch {
		case p.Scheme.Algorithm.Equal(oidAES128CBC):
			keyLen, mk = 16, aes.NewCipher
		case p.Scheme.Algorithm.Equal(oidAES192CBC):
			keyLen, mk = 24, aes.NewCipher
		case p.Scheme.Algorithm.Equal(oidAES256CBC):
			keyLen, mk = 32, aes.NewCipher
		case p.Scheme.Algorithm.Equal(oidDESEDE3CBC):
			keyLen, mk = 24, des.NewTripleDESCipher
		default:
			return nil, fmt.Errorf("PBES2 cipher %s is not supported", p.Scheme.Algorithm)
		}
		if rest, err := asn1.Unmarshal(p.Scheme.Parameters.FullBytes, &iv); err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("PBES2 IV: %v", err)
		}
		key, err := pbkdf2.Key(prf.new, password, kp.Salt, kp.Iterations, keyLen)
		if err != nil {
			return nil, err
		}
		if block, err = mk(key); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("encryption %s is not supported", alg.Algorithm)
	}
	bs := block.BlockSize()
	if len(iv) != bs {
		return nil, fmt.Errorf("IV of %d bytes for a %d-byte block", len(iv), bs)
	}
	if len(data) == 0 || len(data)%bs != 0 {
		return nil, fmt.Errorf("encrypted content of %d bytes is not a whole number of blocks", len(data))
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	n := int(out[len(out)-1])
	if n < 1 || n > bs {
		return nil, errBadPadding
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, errBadPadding
		}
	}
	return out[:len(out)-n], nil
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

type pbmac1Params struct {
	KDF pkix.AlgorithmIdentifier
	MAC pkix.AlgorithmIdentifier
}

// verifyMAC checks the integrity MAC over content with password. It
// returns ErrWrongPassword when the MAC does not match.
func verifyMAC(md macData, content []byte, password string, work *kdfBudget) error {
	var key []byte
	var d digestAlg
	alg := md.Mac.Algorithm
	if alg.Algorithm.Equal(oidPBMAC1) { // RFC 9579
		var p pbmac1Params
		if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || len(rest) > 0 {
			return fmt.Errorf("PBMAC1 parameters: %v", err)
		}
		var kp pbkdf2Params
		if !p.KDF.Algorithm.Equal(oidPBKDF2) {
			return fmt.Errorf("PBMAC1 key derivation %s is not supported", p.KDF.Algorithm)
		}
		if rest, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil || len(rest) > 0 {
			return fmt.Errorf("PBMAC1 PBKDF2 parameters: %v", err)
		}
		if err := work.spend(kp.Iterations); err != nil {
			return err
		}
		var ok bool
		if d, ok = digestFor(p.MAC.Algorithm); !ok {
			return fmt.Errorf("PBMAC1 MAC %s is not supported", p.MAC.Algorithm)
		}
		prf := d
		if len(kp.PRF.Algorithm) > 0 {
			if prf, ok = digestFor(kp.PRF.Algorithm); !ok {
				return fmt.Errorf("PBMAC1 PRF %s is not supported", kp.PRF.Algorithm)
			}
		}
		n := kp.KeyLength
		if n <= 0 || n > 64 {
			n = d.u
		}
		var err error
		if key, err = pbkdf2.Key(prf.new, password, kp.Salt, kp.Iterations, n); err != nil {
			return err
		}
		return compareMAC(d, key, content, md.Mac.Digest)
	}
	var ok bool
	if d, ok = digestFor(alg.Algorithm); !ok {
		return fmt.Errorf("integrity MAC %s is not supported", alg.Algorithm)
	}
	if err := work.spend(md.Iterations); err != nil {
		return err
	}
	err := compareMAC(d, pkcs12KDF(d, bmpPassword(password), md.MacSalt, md.Iterations, 3, d.u), content, md.Mac.Digest)
	if err != nil && password == "" && work.spend(md.Iterations) == nil {
		// Some writers derive the empty password's key from no bytes at all.
		err = compareMAC(d, pkcs12KDF(d, nil, md.MacSalt, md.Iterations, 3, d.u), content, md.Mac.Digest)
	}
	return err
}

func compareMAC(d digestAlg, key, content, want []byte) error {
	m := hmac.New(d.new, key)
	m.Write(content)
	if subtle.ConstantTimeCompare(m.Sum(nil), want) != 1 {
		return ErrWrongPassword
	}
	return nil
}
