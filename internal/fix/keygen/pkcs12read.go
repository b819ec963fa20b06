package keygen

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"
)

var oidSHA1 = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}

// plainPKCS12 reads the trusted certificates of a PKCS#12 store whose
// content is not encrypted (every bag in data content), with their
// aliases, after checking the integrity MAC with the password when the
// store has one. ok is false when some content is encrypted.
func plainPKCS12(data []byte, password string) (certs []TrustedCert, ok bool, err error) {
	var p pfx
	rest, err := asn1.Unmarshal(data, &p)
	if err != nil || len(rest) > 0 {
		return nil, false, fmt.Errorf("not PKCS#12: %v", err)
	}
	if !p.AuthSafe.ContentType.Equal(oidData) {
		return nil, false, errors.New("PKCS#12 with public-key integrity is not supported")
	}
	var authSafe []byte
	if _, err := asn1.Unmarshal(p.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, false, fmt.Errorf("PKCS#12 auth safe: %w", err)
	}
	if len(p.MacData.Mac.Digest) > 0 {
		if err := checkMAC(p.MacData, authSafe, password); err != nil {
			return nil, false, err
		}
	}
	var infos []contentInfo
	if _, err := asn1.Unmarshal(authSafe, &infos); err != nil {
		return nil, false, fmt.Errorf("PKCS#12 auth safe: %w", err)
	}
	for _, ci := range infos {
		if !ci.ContentType.Equal(oidData) {
			return nil, false, nil
		}
	}
	used := map[string]bool{}
	for _, ci := range infos {
		var raw []byte
		if _, err := asn1.Unmarshal(ci.Content.Bytes, &raw); err != nil {
			return nil, false, fmt.Errorf("PKCS#12 safe contents: %w", err)
		}
		var bags []safeBag
		if _, err := asn1.Unmarshal(raw, &bags); err != nil {
			return nil, false, fmt.Errorf("PKCS#12 safe contents: %w", err)
		}
		for _, b := range bags {
			if b.ID.Equal(oidShroudedKeyBag) {
				return nil, false, errors.New("the store holds a private key: a truststore with key entries is not rewritten automatically")
			}
			if !b.ID.Equal(oidCertBag) {
				continue
			}
			var cb certBag
			if _, err := asn1.Unmarshal(b.Value.Bytes, &cb); err != nil {
				return nil, false, fmt.Errorf("PKCS#12 certificate bag: %w", err)
			}
			if !cb.ID.Equal(oidX509Cert) {
				continue
			}
			alias := friendly(b.Attributes)
			if alias == "" {
				alias = "cert"
			}
			certs = append(certs, TrustedCert{Alias: uniqueAlias(alias, used), DER: cb.Data})
		}
	}
	return certs, true, nil
}

func checkMAC(m macData, authSafe []byte, password string) error {
	var h func() hash.Hash
	var u int
	switch {
	case m.Mac.Algorithm.Algorithm.Equal(oidSHA1):
		h, u = sha1.New, 20
	case m.Mac.Algorithm.Algorithm.Equal(oidSHA256):
		h, u = sha256.New, 32
	default:
		return fmt.Errorf("PKCS#12 MAC algorithm %v is not supported", m.Mac.Algorithm.Algorithm)
	}
	pw, err := bmpPassword(password)
	if err != nil {
		return err
	}
	iter := m.Iterations
	if iter < 1 {
		iter = 1
	}
	if iter > 1_000_000 {
		return fmt.Errorf("PKCS#12 MAC iteration count %d is implausible", iter)
	}
	key := pkcs12KDF(h, u, 64, m.MacSalt, pw, iter, 3, u)
	mac := hmac.New(h, key)
	mac.Write(authSafe)
	if !hmac.Equal(mac.Sum(nil), m.Mac.Digest) {
		return ErrWrongPassword
	}
	return nil
}

func friendly(attrs []attribute) string {
	for _, a := range attrs {
		if !a.ID.Equal(oidFriendlyName) {
			continue
		}
		var v asn1.RawValue
		if _, err := asn1.Unmarshal(a.Values.Bytes, &v); err != nil || len(v.Bytes)%2 != 0 {
			return ""
		}
		u := make([]uint16, len(v.Bytes)/2)
		for i := range u {
			u[i] = uint16(v.Bytes[2*i])<<8 | uint16(v.Bytes[2*i+1])
		}
		return string(utf16.Decode(u))
	}
	return ""
}
