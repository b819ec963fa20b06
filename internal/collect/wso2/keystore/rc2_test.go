package keystore

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"os/exec"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"
)

// RFC 2268 section 5 test vectors.
func TestRC2Vectors(t *testing.T) {
	for _, v := range []struct {
		key        string
		bits       int
		plain, enc string
	}{
		{"0000000000000000", 63, "0000000000000000", "ebb773f993278eff"},
		{"ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"},
		{"3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"},
		{"88", 64, "0000000000000000", "61a8a244adacccf0"},
		{"88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"},
		{"88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"},
		{"88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"},
	} {
		key, _ := hex.DecodeString(v.key)
		plain, _ := hex.DecodeString(v.plain)
		want, _ := hex.DecodeString(v.enc)
		c, err := newRC2(key, v.bits)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 8)
		c.Encrypt(got, plain)
		if !bytes.Equal(got, want) {
			t.Errorf("key %s/%d: encrypt = %x, want %x", v.key, v.bits, got, want)
		}
		c.Decrypt(got, want)
		if !bytes.Equal(got, plain) {
			t.Errorf("key %s/%d: decrypt = %x, want %x", v.key, v.bits, got, plain)
		}
	}
}

// RC2-40-CBC as OpenSSL's legacy provider writes it, the cipher of the
// certificates in Java's (and OpenSSL 1.x's) PKCS#12 files.
func TestRC2AgainstOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		testenv.Missing(t, "openssl not installed")
	}
	key, iv := []byte{0x3a, 0x91, 0x07, 0xc4, 0x55}, []byte("8bytesIV")
	plain := []byte("certificates of a Java PKCS#12 keystore, padded")
	cmd := exec.Command("openssl", "enc", "-rc2-40-cbc", "-K", hex.EncodeToString(key), "-iv", hex.EncodeToString(iv), "-provider", "legacy", "-provider", "default")
	cmd.Stdin = bytes.NewReader(plain)
	out, err := cmd.Output()
	if err != nil {
		testenv.Missing(t, "openssl has no legacy provider (RC2): %v", err)
	}
	c, err := newRC2(key, 40)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(out))
	cipher.NewCBCDecrypter(c, iv).CryptBlocks(got, out)
	if n := int(got[len(got)-1]); n < 1 || n > 8 || !bytes.Equal(got[:len(got)-n], plain) {
		t.Errorf("decrypted %q", got)
	}
}
