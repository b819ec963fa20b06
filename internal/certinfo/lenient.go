package certinfo

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	encasn1 "encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// lenientCert is what can be read from a certificate Go's X.509 parser
// rejects: real CA certificates with a negative serial number (one ships in
// the CA bundle of recent WSO2 kernels), odd string types in names, and
// similar departures from RFC 5280 that Java and OpenSSL accept. Only what
// the certificate facts need is read, and no signature is verified.
type lenientCert struct {
	serial                  *big.Int
	rawIssuer, rawSubject   []byte
	issuer, subject         pkix.Name
	issuerStr, subjectStr   string
	notBefore, notAfter     time.Time
	keyType                 string
	keyBits                 int
	sigAlg                  string
	isCA                    bool
	dnsNames, ipAddresses   []string
	subjectKeyID, authKeyID []byte
}

var (
	oidBasicConstraints = encasn1.ObjectIdentifier{2, 5, 29, 19}
	oidSubjectAltName   = encasn1.ObjectIdentifier{2, 5, 29, 17}
	oidSubjectKeyID     = encasn1.ObjectIdentifier{2, 5, 29, 14}
	oidAuthorityKeyID   = encasn1.ObjectIdentifier{2, 5, 29, 35}
)

// sigAlgNameOf names a signature algorithm by its OID, as Go names it.
func sigAlgNameOf(k string) (string, bool) {
	switch k {
	case "1.2.840.113549.1.1.2":
		return "MD2-RSA", true
	case "1.2.840.113549.1.1.4":
		return "MD5-RSA", true
	case "1.2.840.113549.1.1.5":
		return "SHA1-RSA", true
	case "1.3.14.3.2.29":
		return "SHA1-RSA", true
	case "1.2.840.113549.1.1.11":
		return "SHA256-RSA", true
	case "1.2.840.113549.1.1.12":
		return "SHA384-RSA", true
	case "1.2.840.113549.1.1.13":
		return "SHA512-RSA", true
	case "1.2.840.113549.1.1.14":
		return "SHA224-RSA", true
	case "1.2.840.113549.1.1.10":
		return "RSASSA-PSS", true
	case "1.2.840.10040.4.3":
		return "DSA-SHA1", true
	case "2.16.840.1.101.3.4.3.2":
		return "DSA-SHA256", true
	case "1.2.840.10045.4.1":
		return "ECDSA-SHA1", true
	case "1.2.840.10045.4.3.2":
		return "ECDSA-SHA256", true
	case "1.2.840.10045.4.3.3":
		return "ECDSA-SHA384", true
	case "1.2.840.10045.4.3.4":
		return "ECDSA-SHA512", true
	case "1.3.101.112":
		return "Ed25519", true
	case "1.3.101.113":
		return "Ed448", true
	}
	return "", false
}

// Public key algorithms and named curves by OID.
var (
	oidRSA     = "1.2.840.113549.1.1.1"
	oidRSAPSS  = "1.2.840.113549.1.1.10"
	oidDSA     = "1.2.840.10040.4.1"
	oidEC      = "1.2.840.10045.2.1"
	oidEd25519 = "1.3.101.112"
	oidEd448   = "1.3.101.113"
)

// parseLenient reads der as an X.509 certificate without the checks Go's
// parser makes beyond the structure itself.
func parseLenient(der []byte) (*lenientCert, error) {
	in := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !in.ReadASN1(&cert, asn1.SEQUENCE) {
		return nil, errors.New("not a DER SEQUENCE")
	}
	if !cert.ReadASN1(&tbs, asn1.SEQUENCE) {
		return nil, errors.New("no TBSCertificate")
	}
	c := &lenientCert{}
	if !tbs.SkipOptionalASN1(asn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, errors.New("malformed version")
	}
	var serial cryptobyte.String
	if !tbs.ReadASN1(&serial, asn1.INTEGER) {
		return nil, errors.New("malformed serial number")
	}
	c.serial = signedInt(serial)
	if !tbs.SkipASN1(asn1.SEQUENCE) { // signature algorithm, repeated outside
		return nil, errors.New("malformed signature algorithm")
	}
	var issuer, validity, subject, spki cryptobyte.String
	if !tbs.ReadASN1Element(&issuer, asn1.SEQUENCE) {
		return nil, errors.New("malformed issuer")
	}
	if !tbs.ReadASN1(&validity, asn1.SEQUENCE) {
		return nil, errors.New("malformed validity")
	}
	if !tbs.ReadASN1Element(&subject, asn1.SEQUENCE) {
		return nil, errors.New("malformed subject")
	}
	if !tbs.ReadASN1Element(&spki, asn1.SEQUENCE) {
		return nil, errors.New("malformed public key")
	}
	c.rawIssuer, c.rawSubject = issuer, subject
	c.issuer, c.issuerStr = readName(issuer)
	c.subject, c.subjectStr = readName(subject)
	var err error
	if c.notBefore, err = readTime(&validity); err != nil {
		return nil, fmt.Errorf("not before: %w", err)
	}
	if c.notAfter, err = readTime(&validity); err != nil {
		return nil, fmt.Errorf("not after: %w", err)
	}
	c.keyType, c.keyBits = lenientKey(spki)
	// issuerUniqueID [1], subjectUniqueID [2], extensions [3].
	tbs.SkipOptionalASN1(asn1.Tag(1).ContextSpecific())
	tbs.SkipOptionalASN1(asn1.Tag(2).ContextSpecific())
	var exts cryptobyte.String
	var hasExts bool
	if tbs.ReadOptionalASN1(&exts, &hasExts, asn1.Tag(3).Constructed().ContextSpecific()) && hasExts {
		var list cryptobyte.String
		if exts.ReadASN1(&list, asn1.SEQUENCE) {
			c.readExtensions(list)
		}
	}
	var sigAlg cryptobyte.String
	var oid encasn1.ObjectIdentifier
	if cert.ReadASN1(&sigAlg, asn1.SEQUENCE) && sigAlg.ReadASN1ObjectIdentifier(&oid) {
		c.sigAlg = sigAlgName(oid.String())
	}
	return c, nil
}

func sigAlgName(oid string) string {
	if n, ok := sigAlgNameOf(oid); ok {
		return n
	}
	return oid
}

// signedInt reads a two's-complement INTEGER body, negative ones included.
func signedInt(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return n
}

func readName(raw []byte) (pkix.Name, string) {
	var rdn pkix.RDNSequence
	if rest, err := encasn1.Unmarshal(raw, &rdn); err != nil || len(rest) > 0 {
		return pkix.Name{}, "(unreadable name)"
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdn)
	return n, n.String() // as Go prints a parsed name, so both readers agree
}

func readTime(s *cryptobyte.String) (time.Time, error) {
	var body cryptobyte.String
	var tag asn1.Tag
	if !s.ReadAnyASN1(&body, &tag) {
		return time.Time{}, errors.New("malformed time")
	}
	v := string(body)
	switch tag {
	case asn1.UTCTime:
		for _, layout := range []string{"060102150405Z0700", "0601021504Z0700"} {
			if t, err := time.Parse(layout, v); err == nil {
				if t.Year() >= 2050 {
					t = t.AddDate(-100, 0, 0)
				}
				return t.UTC(), nil
			}
		}
	case asn1.GeneralizedTime:
		for _, layout := range []string{"20060102150405Z0700", "20060102150405.999999999Z0700"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC(), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("unreadable time %q", v)
}

// lenientKey names the key of a SubjectPublicKeyInfo and its size, by Go's
// parser when it accepts the key, else from its algorithm and encoding.
func lenientKey(spki []byte) (string, int) {
	if pub, err := x509.ParsePKIXPublicKey(spki); err == nil {
		return KeyInfo(pub)
	}
	s := cryptobyte.String(spki)
	var inner, alg cryptobyte.String
	var oid encasn1.ObjectIdentifier
	var bits encasn1.BitString
	if !s.ReadASN1(&inner, asn1.SEQUENCE) || !inner.ReadASN1(&alg, asn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) || !inner.ReadASN1BitString(&bits) {
		return "unknown", 0
	}
	switch oid.String() {
	case oidRSA, oidRSAPSS:
		key := cryptobyte.String(bits.Bytes)
		var seq, mod cryptobyte.String
		if key.ReadASN1(&seq, asn1.SEQUENCE) && seq.ReadASN1(&mod, asn1.INTEGER) {
			return "RSA", new(big.Int).SetBytes(mod).BitLen()
		}
		return "RSA", 0
	case oidEC:
		var curve encasn1.ObjectIdentifier
		if alg.ReadASN1ObjectIdentifier(&curve) {
			bits, _ := curveBitsOf(curve.String())
			return "EC", bits
		}
		return "EC", 0
	case oidDSA:
		var params, p cryptobyte.String
		if alg.ReadASN1(&params, asn1.SEQUENCE) && params.ReadASN1(&p, asn1.INTEGER) {
			return "DSA", new(big.Int).SetBytes(p).BitLen()
		}
		return "DSA", 0
	case oidEd25519:
		return "Ed25519", 256
	case oidEd448:
		return "Ed448", 456
	}
	return "unknown", 0
}

func (c *lenientCert) readExtensions(list cryptobyte.String) {
	for !list.Empty() {
		var ext, value cryptobyte.String
		var oid encasn1.ObjectIdentifier
		if !list.ReadASN1(&ext, asn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) {
			return
		}
		var critical bool
		if ext.PeekASN1Tag(asn1.BOOLEAN) && !ext.ReadASN1Boolean(&critical) {
			return
		}
		if !ext.ReadASN1(&value, asn1.OCTET_STRING) {
			return
		}
		switch {
		case oid.Equal(oidBasicConstraints):
			var seq cryptobyte.String
			if value.ReadASN1(&seq, asn1.SEQUENCE) && seq.PeekASN1Tag(asn1.BOOLEAN) {
				var ca bool
				if seq.ReadASN1Boolean(&ca) {
					c.isCA = ca
				}
			}
		case oid.Equal(oidSubjectAltName):
			var names cryptobyte.String
			if !value.ReadASN1(&names, asn1.SEQUENCE) {
				continue
			}
			for !names.Empty() {
				var body cryptobyte.String
				var tag asn1.Tag
				if !names.ReadAnyASN1(&body, &tag) {
					break
				}
				switch tag {
				case asn1.Tag(2).ContextSpecific():
					c.dnsNames = append(c.dnsNames, string(body))
				case asn1.Tag(7).ContextSpecific():
					if len(body) == 4 || len(body) == 16 {
						c.ipAddresses = append(c.ipAddresses, net.IP(body).String())
					}
				}
			}
		case oid.Equal(oidSubjectKeyID):
			var id cryptobyte.String
			if value.ReadASN1(&id, asn1.OCTET_STRING) {
				c.subjectKeyID = id
			}
		case oid.Equal(oidAuthorityKeyID):
			var seq, id cryptobyte.String
			var has bool
			if value.ReadASN1(&seq, asn1.SEQUENCE) && seq.ReadOptionalASN1(&id, &has, asn1.Tag(0).ContextSpecific()) && has {
				c.authKeyID = id
			}
		}
	}
}

func (c *lenientCert) selfSigned() bool {
	if !bytes.Equal(c.rawIssuer, c.rawSubject) {
		return false
	}
	if len(c.authKeyID) > 0 && len(c.subjectKeyID) > 0 {
		return bytes.Equal(c.authKeyID, c.subjectKeyID)
	}
	return true
}

// RawNames returns the DER of a certificate's issuer and subject names,
// read leniently (for chaining certificates Go's parser may reject).
func RawNames(der []byte) (issuer, subject []byte, err error) {
	c, err := parseLenient(der)
	if err != nil {
		return nil, nil, err
	}
	return c.rawIssuer, c.rawSubject, nil
}

// curveBitsOf is the size of the named elliptic curve with OID k.
func curveBitsOf(k string) (int, bool) {
	switch k {
	case "1.2.840.10045.3.1.7": // P-256
		return 256, true
	case "1.3.132.0.34": // P-384
		return 384, true
	case "1.3.132.0.35": // P-521
		return 521, true
	case "1.3.132.0.33": // P-224
		return 224, true
	case "1.3.132.0.10": // secp256k1
		return 256, true
	case "1.2.840.10045.3.1.1": // P-192
		return 192, true
	}
	return 0, false
}
