package keygen

import (
	"crypto/rand"
	"testing"
)

// FuzzReadTrustStore: any bytes, with any password, give a store or an
// error, never a panic or a hang.
func FuzzReadTrustStore(f *testing.F) {
	p12, err := EncodePKCS12(rand.Reader, nil, []TrustedCert{{Alias: "a", DER: []byte{0x30, 0x03, 0x02, 0x01, 0x01}}}, "pw")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(p12, "pw")
	f.Add([]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 0}, "changeit")
	f.Fuzz(func(t *testing.T, b []byte, pw string) {
		if ts, err := ReadTrustStore(b, pw); err == nil && ts == nil {
			t.Fatal("nil store without an error")
		}
	})
}
