// Package certtest makes the certificates and keystores that tests of
// certificate handling need and no library will write: a CA whose serial
// number is negative (real ones sit in the CA bundle recent WSO2 kernels
// ship in wso2carbon.jks and client-truststore.jks; Go's X.509 parser
// rejects them since Go 1.23, Java and OpenSSL accept them), and keystores
// written by the JDK's own keytool. Test code only.
package certtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	encasn1 "encoding/asn1"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// NegativeSerialCA returns the DER of a self-signed CA certificate whose
// serial number is negative (-0x1122334455667788...), signed with a fresh
// P-256 key: a well-formed certificate apart from the serial, encoded by
// hand because Go's x509.CreateCertificate refuses negative serials.
func NegativeSerialCA(t testing.TB, commonName string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	name, err := encasn1.Marshal(pkix.Name{CommonName: commonName, Organization: []string{"Negative Serial Test CA"}, Country: []string{"ES"}}.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	ecdsaSHA256 := encasn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	sigAlg := func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(ecdsaSHA256) })
	}
	// -0x1122334455667788 in two's complement, as such CAs carry it.
	serial := []byte{0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x88, 0x78}
	now := time.Now().UTC()
	var tbs cryptobyte.Builder
	tbs.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Int64(2) })
		b.AddASN1(asn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(serial) })
		sigAlg(b)
		b.AddBytes(name)
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1UTCTime(now.Add(-24 * time.Hour))
			b.AddASN1GeneralizedTime(now.Add(20 * 365 * 24 * time.Hour))
		})
		b.AddBytes(name)
		b.AddBytes(spki)
		b.AddASN1(asn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { // basicConstraints: critical, CA
					b.AddASN1ObjectIdentifier(encasn1.ObjectIdentifier{2, 5, 29, 19})
					b.AddASN1Boolean(true)
					b.AddASN1(asn1.OCTET_STRING, func(b *cryptobyte.Builder) {
						b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Boolean(true) })
					})
				})
			})
		})
	})
	tbsDER, err := tbs.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(tbsDER)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	var cert cryptobyte.Builder
	cert.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		sigAlg(b)
		b.AddASN1BitString(sig)
	})
	der, err := cert.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificate(der); err == nil {
		t.Fatal("Go's parser accepted the negative serial: the test no longer reproduces the defect")
	}
	return der
}

// Keytool runs the JDK's keytool (skipping, or failing under
// RAMPART_EVAL=1, when it is not installed) and returns its output.
func Keytool(t testing.TB, args ...string) string {
	t.Helper()
	kt, err := exec.LookPath("keytool")
	if err != nil {
		testenv.Missing(t, "keytool not installed (Debian: openjdk-17-jdk-headless)")
	}
	out, err := exec.Command(kt, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("keytool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ImportCA adds the certificate der as a trusted entry alias to the
// keystore at path (password pw), with keytool, as an operator would.
func ImportCA(t testing.TB, path, pw, alias string, der []byte) {
	t.Helper()
	f := filepath.Join(t.TempDir(), alias+".der")
	if err := os.WriteFile(f, der, 0o600); err != nil {
		t.Fatal(err)
	}
	Keytool(t, "-importcert", "-noprompt", "-trustcacerts", "-alias", alias, "-file", f, "-keystore", path, "-storepass", pw)
}
