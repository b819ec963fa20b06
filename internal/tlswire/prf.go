package tlswire

import (
	"crypto/hmac"
	"crypto/md5"  //nolint:gosec // the TLS 1.0/1.1 PRF is defined over MD5 and SHA-1.
	"crypto/sha1" //nolint:gosec // idem.
	"hash"
)

// pHash is P_hash from RFC 5246, section 5.
func pHash(out, secret, seed []byte, h func() hash.Hash) {
	mac := hmac.New(h, secret)
	mac.Write(seed)
	a := mac.Sum(nil)
	for j := 0; j < len(out); {
		mac.Reset()
		mac.Write(a)
		mac.Write(seed)
		b := mac.Sum(nil)
		j += copy(out[j:], b)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
	}
}

// PRF computes the TLS pseudo-random function: for TLS 1.2 P_hash with h,
// for TLS 1.0 and 1.1 the MD5/SHA-1 split (h is then ignored).
func PRF(v Version, h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	out := make([]byte, n)
	if v >= VersionTLS12 {
		pHash(out, secret, ls, h)
		return out
	}
	half := (len(secret) + 1) / 2
	s1, s2 := secret[:half], secret[len(secret)-half:]
	pHash(out, s1, ls, md5.New)
	tmp := make([]byte, n)
	pHash(tmp, s2, ls, sha1.New)
	for i := range out {
		out[i] ^= tmp[i]
	}
	return out
}
