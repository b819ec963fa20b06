package keystore

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"
)

// forgedPFX builds a PKCS#12 file whose MAC asks for macIter rounds and
// whose n encrypted parts (each an empty bag list, encrypted with RC2-40
// under password "pw") each ask for encIter rounds.
func forgedPFX(t *testing.T, macIter, encIter, n int) []byte {
	t.Helper()
	params, err := asn1.Marshal(pbeParams{Salt: []byte("saltsalt"), Iterations: encIter})
	if err != nil {
		t.Fatal(err)
	}
	sha := digestAlg{sha1.New, 20, 64}
	var content []byte
	if encIter <= 1000 {
		content = make([]byte, 16)
	} else {
		pw := bmpPassword("pw")
		block, _ := newRC2(pkcs12KDF(sha, pw, []byte("saltsalt"), encIter, 1, 5), 40)
		plain := []byte{0x30, 0x00, 6, 6, 6, 6, 6, 6} // SEQUENCE {} and its padding
		content = make([]byte, 8)
		cipher.NewCBCEncrypter(block, pkcs12KDF(sha, pw, []byte("saltsalt"), encIter, 2, 8)).CryptBlocks(content, plain)
	}
	var infos []contentInfo
	for range n {
		ed, err := asn1.Marshal(encryptedData{Info: encryptedContentInfo{ContentType: oidData,
			Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidPBEWithSHA40BitRC2, Parameters: asn1.RawValue{FullBytes: params}},
			Content:   content}})
		if err != nil {
			t.Fatal(err)
		}
		infos = append(infos, contentInfo{ContentType: oidEncryptedData, Content: asn1.RawValue{Class: 2, Tag: 0, IsCompound: true, Bytes: ed}})
	}
	safe, err := asn1.Marshal(infos)
	if err != nil {
		t.Fatal(err)
	}
	octets, _ := asn1.Marshal(safe)
	pfx := pfxPDU{Version: 3, AuthSafe: contentInfo{ContentType: oidData, Content: asn1.RawValue{Class: 2, Tag: 0, IsCompound: true, Bytes: octets}}}
	if macIter > 0 {
		digest := make([]byte, 20)
		if macIter <= 10_000 {
			m := hmac.New(sha1.New, pkcs12KDF(sha, bmpPassword("pw"), []byte("macsalt!"), macIter, 3, 20))
			m.Write(safe)
			digest = m.Sum(nil)
		}
		md, err := asn1.Marshal(macData{Mac: digestInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA1, Parameters: asn1.NullRawValue}, Digest: digest},
			MacSalt: []byte("macsalt!"), Iterations: macIter})
		if err != nil {
			t.Fatal(err)
		}
		pfx.MacData = asn1.RawValue{FullBytes: md}
	}
	b, err := asn1.Marshal(pfx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A file cannot make the reader spend more than a bounded amount of
// key-derivation work: one huge count, or many parts each near the limit.
func TestKDFWorkIsBounded(t *testing.T) {
	for _, c := range []struct {
		name                string
		macIter, encIter, n int
		want                string
	}{
		{"huge MAC count", 2_000_000_000, 1, 1, "iterations"},
		{"many encrypted parts", 2048, 400_000, 50, "more key-derivation work"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(forgedPFX(t, c.macIter, c.encIter, c.n), "pw")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one saying %q", err, c.want)
			}
		})
	}
}

// The forged file is a valid store when its work is reasonable: the
// budget, not a malformed file, is what refuses the large one.
func TestForgedPFXIsValid(t *testing.T) {
	st, err := Open(forgedPFX(t, 2048, 2048, 3), "pw")
	if err != nil || len(st.Entries) != 0 {
		t.Fatalf("%v %+v", err, st)
	}
}
