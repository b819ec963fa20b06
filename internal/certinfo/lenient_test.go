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

// systemRoots are the CA certificates of this machine's ca-certificates
// package: a few hundred real certificates of every key type and age.
func systemRoots(t *testing.T) [][]byte {
	t.Helper()
	files, _ := filepath.Glob("/usr/share/ca-certificates/*/*.crt")
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for {
			var blk *pem.Block
			if blk, b = pem.Decode(b); blk == nil {
				break
			}
			out = append(out, blk.Bytes)
		}
	}
	if len(out) < 50 {
		t.Skip("no system CA certificates to compare with")
	}
	return out
}

// The lenient reader, used only when Go's parser refuses a certificate,
// reads every real certificate Go's parser accepts to the same facts.
func TestLenientMatchesGoParser(t *testing.T) {
	for _, der := range systemRoots(t) {
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

func FuzzFromDER(f *testing.F) {
	for i, der := range systemRootsForFuzz() {
		if i%40 == 0 {
			f.Add(der)
		}
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		got := FromDER(der)
		if got.SHA256 == "" {
			t.Fatal("no fingerprint")
		}
	})
}

func systemRootsForFuzz() [][]byte {
	files, _ := filepath.Glob("/usr/share/ca-certificates/*/*.crt")
	var out [][]byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if blk, _ := pem.Decode(b); blk != nil {
			out = append(out, blk.Bytes)
		}
	}
	return out
}
