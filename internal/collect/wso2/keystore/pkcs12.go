package keystore

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"unicode/utf16"
)

// A PKCS#12 file is read here bag by bag (RFC 7292): the integrity MAC is
// checked with the password, encrypted content is decrypted (pbe.go), and
// every certificate bag is kept as DER with its attributes, so aliases
// (friendly names) are those Java shows and no certificate is parsed here.

var (
	oidData             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKey      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidSafeContentsBag  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 6}
	oidX509Cert         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidJavaTrustedUsage = asn1.ObjectIdentifier{2, 16, 840, 1, 113894, 746875, 1, 1}
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

type encryptedData struct {
	Version int
	Info    encryptedContentInfo
}

type encryptedContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Algorithm   pkix.AlgorithmIdentifier
	Content     []byte `asn1:"tag:0,optional"`
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

// bag is one safe bag as far as entries go: a private key (never
// decrypted) or a certificate, with its attributes.
type bag struct {
	key     bool
	cert    []byte
	alias   string
	keyID   string
	trusted bool // Java's trusted-certificate attribute
}

// maxBagNesting bounds safe-contents bags inside safe-contents bags.
const maxBagNesting = 4

// readPKCS12 reads a PKCS#12 file. With known, password is checked
// against the integrity MAC and used to decrypt encrypted content;
// without, only the unencrypted content is read.
func readPKCS12(data []byte, password string, known bool) (*Store, error) {
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
	var authSafe []byte
	if rest, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &authSafe); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("PKCS#12 auth safe: %v", err)
	}
	st := &Store{Format: FormatPKCS12}
	work := newBudget()
	hasMAC := len(pfx.MacData.FullBytes) > 0
	switch {
	case !known:
		st.Notes = append(st.Notes, "read without the password: the store's integrity was not verified")
	case hasMAC:
		var md macData
		if rest, err := asn1.Unmarshal(pfx.MacData.FullBytes, &md); err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("PKCS#12 MAC: %v", err)
		}
		if err := verifyMAC(md, authSafe, password, work); err != nil {
			return nil, err
		}
		st.PasswordChecked = true
	default:
		st.Notes = append(st.Notes, "the file has no integrity MAC, so the password cannot be verified (Java opens it with any password)")
	}
	var infos []contentInfo
	if rest, err := asn1.Unmarshal(authSafe, &infos); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("PKCS#12 auth safe: %v", err)
	}
	var bags []bag
	for i, ci := range infos {
		var contents []byte
		switch {
		case ci.ContentType.Equal(oidData):
			if rest, err := asn1.Unmarshal(ci.Content.Bytes, &contents); err != nil || len(rest) > 0 {
				return nil, fmt.Errorf("PKCS#12 content %d: %v", i+1, err)
			}
		case ci.ContentType.Equal(oidEncryptedData):
			if !known {
				return nil, errors.New("the PKCS#12 certificates are encrypted with the store password, which is not in the files")
			}
			var ed encryptedData
			if rest, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil || len(rest) > 0 {
				return nil, fmt.Errorf("PKCS#12 encrypted content %d: %v", i+1, err)
			}
			contents, err = decrypt(ed.Info.Algorithm, ed.Info.Content, password, work)
			if errors.Is(err, errBadPadding) && !hasMAC {
				return nil, ErrWrongPassword
			}
			if err != nil {
				return nil, fmt.Errorf("PKCS#12 encrypted content %d: %w", i+1, err)
			}
		default:
			st.Notes = append(st.Notes, fmt.Sprintf("content %d of type %s skipped", i+1, ci.ContentType))
			continue
		}
		bs, err := readBags(contents, 0)
		if err != nil {
			return nil, fmt.Errorf("PKCS#12 content %d: %w", i+1, err)
		}
		bags = append(bags, bs...)
	}
	entries(st, bags)
	return st, nil
}

func readBags(contents []byte, depth int) ([]bag, error) {
	if depth > maxBagNesting {
		return nil, fmt.Errorf("safe contents nested more than %d deep", maxBagNesting)
	}
	var raw []safeBag
	if rest, err := asn1.Unmarshal(contents, &raw); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("safe contents: %v", err)
	}
	var out []bag
	for _, sb := range raw {
		b := bag{alias: friendlyName(sb.Attributes), keyID: localKeyID(sb.Attributes)}
		switch {
		case sb.ID.Equal(oidCertBag):
			var cb certBag
			if rest, err := asn1.Unmarshal(sb.Value.Bytes, &cb); err != nil || len(rest) > 0 {
				return nil, fmt.Errorf("certificate bag %q: %v", b.alias, err)
			}
			if !cb.ID.Equal(oidX509Cert) {
				continue // SDSI certificates: none in Java stores
			}
			b.cert = cb.Data
			for _, a := range sb.Attributes {
				if a.ID.Equal(oidJavaTrustedUsage) {
					b.trusted = true
				}
			}
		case sb.ID.Equal(oidShroudedKey), sb.ID.Equal(oidKeyBag):
			b.key = true
		case sb.ID.Equal(oidSafeContentsBag):
			inner, err := readBags(sb.Value.Bytes, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			continue
		default: // secret keys (Java's SecretKeyEntry), CRLs
			continue
		}
		out = append(out, b)
	}
	return out, nil
}

// entries turns bags into keystore entries the way Java's PKCS12KeyStore
// does: a key bag is a private-key entry whose certificate is the bag with
// the same local key ID; a certificate marked trusted, or tied to no key
// and in no key's chain, is a trusted entry. Aliases are the friendly
// names; a bag without one is numbered.
func entries(st *Store, bags []bag) {
	var pool [][]byte
	keyIDs := map[string]bool{}
	var keys []bag
	for _, b := range bags {
		if b.key {
			keys = append(keys, b)
			if b.keyID != "" {
				keyIDs[b.keyID] = true
			}
			continue
		}
		pool = append(pool, b.cert)
	}
	inChain := map[string]bool{}
	unnamed := 0
	name := func(alias string) string {
		if alias != "" {
			return alias
		}
		unnamed++
		return fmt.Sprintf("#%d", unnamed)
	}
	for _, k := range keys {
		e := Entry{Alias: name(k.alias), Kind: KindPrivateKey}
		var leaf []byte
		for _, b := range bags {
			if b.cert != nil && k.keyID != "" && b.keyID == k.keyID {
				leaf = b.cert
				break
			}
		}
		if leaf == nil && k.alias != "" { // no local key ID: the same friendly name
			for _, b := range bags {
				if b.cert != nil && b.alias == k.alias && !b.trusted {
					leaf = b.cert
					break
				}
			}
		}
		if leaf == nil {
			e.Error = "the certificate of this private key could not be identified (no certificate carries its local key ID)"
			st.Entries = append(st.Entries, e)
			continue
		}
		e.Chain = chainFrom(leaf, pool)
		for _, c := range e.Chain {
			inChain[string(c)] = true
		}
		st.Entries = append(st.Entries, e)
	}
	for _, b := range bags {
		if b.key || (!b.trusted && (keyIDs[b.keyID] && b.keyID != "" || inChain[string(b.cert)])) {
			continue
		}
		st.Entries = append(st.Entries, Entry{Alias: name(b.alias), Kind: KindTrustedCert, Chain: [][]byte{b.cert}})
	}
	if unnamed > 0 {
		st.Notes = append(st.Notes, fmt.Sprintf("%d entr(ies) carry no friendly name; they are numbered #1..#%d", unnamed, unnamed))
	}
	sort.SliceStable(st.Entries, func(i, j int) bool { return st.Entries[i].Alias < st.Entries[j].Alias })
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
