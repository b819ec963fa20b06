package certinfo

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/certinfo/certtest"
)

// mozillaRoots are real certificates of every key type and age: one in
// three of the Mozilla roots of Debian's ca-certificates 20230311+deb12u1,
// checked in (testdata/mozilla-roots.pem) so that neither the test nor the
// fuzz seeds depend on the machine's certificate store.
func mozillaRoots(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "mozilla-roots.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		out = append(out, blk.Bytes)
	}
	if len(out) < 40 {
		t.Fatalf("%d certificates in testdata/mozilla-roots.pem", len(out))
	}
	return out
}

// The lenient reader, used only when Go's parser refuses a certificate,
// reads every real certificate Go's parser accepts to the same facts.
func TestLenientMatchesGoParser(t *testing.T) {
	for _, der := range mozillaRoots(t) {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			continue
		}
		want := Facts(c)
		got := lenientFacts(der, "")
		got.ParseError = ""
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %+v\n want %+v", want.Subject, got, want)
		}
	}
}

// A CA whose serial number is negative: Go's parser refuses it, the
// certificate is still described, and says why it was read leniently.
func TestNegativeSerialCA(t *testing.T) {
	der := certtest.NegativeSerialCA(t, "Negative Serial Root")
	f := FromDER(der)
	if !strings.Contains(f.ParseError, "negative serial") {
		t.Errorf("parse error = %q", f.ParseError)
	}
	want := map[string]any{
		"subject": "CN=Negative Serial Root,O=Negative Serial Test CA,C=ES", "serial": "-1122334455667788",
		"key": "EC", "bits": 256, "sig": "ECDSA-SHA256", "ca": true, "self": true, "unreadable": false, "default": false,
	}
	got := map[string]any{
		"subject": f.Subject, "serial": f.Serial, "key": f.KeyType, "bits": f.KeyBits, "sig": f.SignatureAlgorithm,
		"ca": f.IsCA, "self": f.SelfSigned, "unreadable": f.Unreadable, "default": f.WSO2Default,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if f.NotAfter.Before(f.NotBefore) || f.NotBefore.IsZero() {
		t.Errorf("validity %v .. %v", f.NotBefore, f.NotAfter)
	}
}

// Bytes that are no certificate keep their fingerprint and say so.
func TestUnreadableDER(t *testing.T) {
	f := FromDER([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	if !f.Unreadable || f.SHA256 == "" || f.ParseError == "" || f.WSO2Default {
		t.Errorf("%+v", f)
	}
}

// FuzzFromDER: any bytes give facts with a fingerprint, never a panic; a
// certificate Go's parser accepts is read by the lenient reader to the
// same facts (the reader is used only when Go's parser refuses one, so
// there it must agree wherever both read).
func FuzzFromDER(f *testing.F) {
	for i, der := range mozillaRoots(f) {
		if i%8 == 0 {
			f.Add(der)
		}
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		got := FromDER(der)
		if got.SHA256 == "" {
			t.Fatal("no fingerprint")
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			if got.ParseError == "" {
				t.Fatal("Go's parser refused it and the facts do not say so")
			}
			return
		}
		lenient := lenientFacts(der, "")
		lenient.ParseError = ""
		if want := Facts(c); !reflect.DeepEqual(lenient, want) {
			t.Fatalf("lenient reader disagrees with Go's parser:\n got  %+v\n want %+v", lenient, want)
		}
	})
}
