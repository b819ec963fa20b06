package keystore

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"unicode/utf16"

	gopkcs12 "software.sslmate.com/src/go-pkcs12"
)

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKey   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509Cert      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
)

type pfxPDU struct {
	Version  int
	AuthSafe contentInfo
	MacData  asn1.RawValue `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
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

// plainBag is what can be read from a PKCS#12 file without its password:
// bags that sit in unencrypted (data) content.
type plainBag struct {
	alias string
	keyID string
	cert  *x509.Certificate // nil for key bags
	key   bool
}

type outer struct {
	hasMAC    bool
	bags      []plainBag
	encrypted int // content infos encrypted with the password
}

// readOuter walks a PFX down to its safe bags, keeping the ones in plain
// data content and counting the encrypted ones.
func readOuter(data []byte) (*outer, error) {
	var pfx pfxPDU
	rest, err := asn1.Unmarshal(data, &pfx)
	if err != nil {
		return nil, fmt.Errorf("not PKCS#12: %w", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("not PKCS#12: trailing data")
	}
	if pfx.Version != 3 {
		return nil, fmt.Errorf("PKCS#12 version %d (want 3)", pfx.Version)
	}
	if !pfx.AuthSafe.ContentType.Equal(oidData) {
		return nil, errors.New("PKCS#12 with public-key integrity is not supported")
	}
	o := &outer{hasMAC: len(pfx.MacData.FullBytes) > 0}
	var authSafeBytes []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &authSafeBytes); err != nil {
		return nil, fmt.Errorf("PKCS#12 auth safe: %w", err)
	}
	var infos []contentInfo
	if _, err := asn1.Unmarshal(authSafeBytes, &infos); err != nil {
		return nil, fmt.Errorf("PKCS#12 auth safe: %w", err)
	}
	for _, ci := range infos {
		switch {
		case ci.ContentType.Equal(oidEncryptedData):
			o.encrypted++
		case ci.ContentType.Equal(oidData):
			var raw []byte
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &raw); err != nil {
				return nil, fmt.Errorf("PKCS#12 safe contents: %w", err)
			}
			var bags []safeBag
			if _, err := asn1.Unmarshal(raw, &bags); err != nil {
				return nil, fmt.Errorf("PKCS#12 safe contents: %w", err)
			}
			for _, b := range bags {
				pb := plainBag{alias: friendlyName(b.Attributes), keyID: localKeyID(b.Attributes)}
				switch {
				case b.ID.Equal(oidCertBag):
					var cb certBag
					if _, err := asn1.Unmarshal(b.Value.Bytes, &cb); err != nil {
						return nil, fmt.Errorf("PKCS#12 certificate bag: %w", err)
					}
					if !cb.ID.Equal(oidX509Cert) {
						continue
					}
					c, err := x509.ParseCertificate(cb.Data)
					if err != nil {
						return nil, fmt.Errorf("PKCS#12 certificate %q: %w", pb.alias, err)
					}
					pb.cert = c
				case b.ID.Equal(oidShroudedKey), b.ID.Equal(oidKeyBag):
					pb.key = true
				default:
					continue
				}
				o.bags = append(o.bags, pb)
			}
		}
	}
	return o, nil
}

func (o *outer) hasKeyBag() bool {
	for _, b := range o.bags {
		if b.key {
			return true
		}
	}
	return false
}

// certForKey finds the certificate of a private key by comparing public
// keys; the private key itself is not kept.
func certForKey(key any, certs []*x509.Certificate) *x509.Certificate {
	pk, ok := key.(interface{ Public() crypto.PublicKey })
	if !ok {
		return nil
	}
	pub, ok := pk.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return nil
	}
	for _, c := range certs {
		if pub.Equal(c.PublicKey) {
			return c
		}
	}
	return nil
}

func friendlyName(attrs []attribute) string {
	for _, a := range attrs {
		if !a.ID.Equal(oidFriendlyName) {
			continue
		}
		var bmp asn1.RawValue
		if _, err := asn1.Unmarshal(a.Values.Bytes, &bmp); err != nil || len(bmp.Bytes)%2 != 0 {
			return ""
		}
		u := make([]uint16, len(bmp.Bytes)/2)
		for i := range u {
			u[i] = uint16(bmp.Bytes[2*i])<<8 | uint16(bmp.Bytes[2*i+1])
		}
		return string(utf16.Decode(u))
	}
	return ""
}

func localKeyID(attrs []attribute) string {
	for _, a := range attrs {
		if !a.ID.Equal(oidLocalKeyID) {
			continue
		}
		var id []byte
		if _, err := asn1.Unmarshal(a.Values.Bytes, &id); err == nil {
			return hex.EncodeToString(id)
		}
	}
	return ""
}

// openPKCS12 opens a PKCS#12 store. go-pkcs12 checks the password against
// the integrity MAC and decrypts encrypted content; aliases and entries in
// unencrypted content are read here, since go-pkcs12 does not return them.
func openPKCS12(data []byte, password string) (*Store, error) {
	o, err := readOuter(data)
	if err != nil {
		return nil, err
	}
	st := &Store{Format: FormatPKCS12}
	if !o.hasMAC {
		st.Notes = append(st.Notes, "the file has no integrity MAC, so the password cannot be verified (Java opens it with any password)")
	}
	var decrypted []*x509.Certificate
	var leaf *x509.Certificate
	if o.encrypted > 0 || o.hasMAC {
		pw := password
		if !o.hasMAC {
			pw = ""
		}
		// Each decode checks the MAC and decrypts everything (thousands of
		// key-derivation rounds), so try the likely one first: a store
		// whose plain content holds no key bag is a truststore.
		var errChain, errTrust error
		chain := func() bool {
			key, l, ca, err := gopkcs12.DecodeChain(data, pw)
			if errChain = err; err != nil {
				return false
			}
			decrypted = append([]*x509.Certificate{l}, ca...)
			// go-pkcs12 takes the first certificate as the leaf; the real
			// one is the certificate whose public key is the key's.
			leaf = certForKey(key, decrypted)
			return true
		}
		trust := func() bool {
			certs, err := gopkcs12.DecodeTrustStore(data, pw)
			if errTrust = err; err != nil {
				return false
			}
			decrypted = certs
			return true
		}
		first, second := chain, trust
		if !o.hasKeyBag() {
			first, second = trust, chain
		}
		switch {
		case first():
		case errors.Is(errChain, gopkcs12.ErrIncorrectPassword), errors.Is(errTrust, gopkcs12.ErrIncorrectPassword):
			return nil, ErrWrongPassword
		case second():
		case errors.Is(errChain, gopkcs12.ErrIncorrectPassword), errors.Is(errTrust, gopkcs12.ErrIncorrectPassword):
			return nil, ErrWrongPassword
		case o.encrypted > 0:
			return nil, fmt.Errorf("PKCS#12 content could not be decrypted: %v; %v", errChain, errTrust)
		}
	}
	// Every certificate, for building chains.
	var all []*x509.Certificate
	inPlain := map[string]bool{}
	keyIDs := map[string]bool{}
	var keyBags []plainBag
	for _, b := range o.bags {
		if b.key {
			keyBags = append(keyBags, b)
			if b.keyID != "" {
				keyIDs[b.keyID] = true
			}
			continue
		}
		all = append(all, b.cert)
		inPlain[string(b.cert.Raw)] = true
	}
	for _, c := range decrypted {
		if !inPlain[string(c.Raw)] {
			all = append(all, c)
		}
	}
	// Private-key entries: a key bag's local key ID names its certificate;
	// failing that, the certificate go-pkcs12 matched to the key.
	leafUsed := map[string]bool{}
	for i, kb := range keyBags {
		var kleaf *x509.Certificate
		for _, b := range o.bags {
			if b.cert != nil && kb.keyID != "" && b.keyID == kb.keyID {
				kleaf = b.cert
				break
			}
		}
		if kleaf == nil && len(keyBags) == 1 {
			kleaf = leaf
		}
		if kleaf == nil {
			st.Notes = append(st.Notes, fmt.Sprintf("private key %d: its certificate could not be found", i+1))
			continue
		}
		leafUsed[string(kleaf.Raw)] = true
		st.Entries = append(st.Entries, Entry{Alias: kb.alias, Kind: KindPrivateKey, Chain: chainFrom(kleaf, all)})
	}
	// Trusted entries: plain certificate bags not tied to a key, with
	// their aliases, then decrypted ones, numbered.
	for _, b := range o.bags {
		if b.cert == nil || (b.keyID != "" && keyIDs[b.keyID]) {
			continue
		}
		st.Entries = append(st.Entries, Entry{Alias: b.alias, Kind: KindTrustedCert, Chain: []*x509.Certificate{b.cert}})
	}
	unnamed := 0
	for _, c := range decrypted {
		if inPlain[string(c.Raw)] {
			continue
		}
		if leafUsed[string(c.Raw)] {
			delete(leafUsed, string(c.Raw)) // the key's own certificate bag
			continue
		}
		unnamed++
		st.Entries = append(st.Entries, Entry{Alias: fmt.Sprintf("#%d", unnamed), Kind: KindTrustedCert, Chain: []*x509.Certificate{c}})
	}
	if unnamed > 0 {
		st.Notes = append(st.Notes, fmt.Sprintf("%d certificate(s) sit in encrypted bags whose aliases cannot be read; they are numbered #1..#%d", unnamed, unnamed))
	}
	return st, nil
}
