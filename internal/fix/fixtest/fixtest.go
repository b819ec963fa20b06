// Package fixtest helps the tests of `rampart fix`: fixed test keys (so no
// test waits for an RSA 3072 prime search), and the JDK tools that prove
// rampart's output is what a Java product reads (javac/java to decrypt
// Secure Vault values with javax.crypto.Cipher, keytool to list stores).
package fixtest

import (
	"crypto"
	"crypto/x509"
	"embed"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"
)

//go:embed testkeys/*.pem Decrypt.java
var files embed.FS

// Keys hands out the test keys in turn: rsa3072-1, -2, -3, then again.
type Keys struct {
	mu   sync.Mutex
	next map[string]int
}

// Key implements keygen.Source.
func (k *Keys) Key(alg string) (crypto.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.next == nil {
		k.next = map[string]int{}
	}
	prefix := map[string]string{"rsa": "rsa3072", "ec": "ecp256"}[alg]
	if prefix == "" {
		return nil, fmt.Errorf("no test keys for %q", alg)
	}
	n := k.next[alg]%3 + 1
	k.next[alg]++
	b, err := files.ReadFile(fmt.Sprintf("testkeys/%s-%d.pem", prefix, n))
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	return key.(crypto.Signer), nil
}

// JDK returns the path of a JDK tool, or skips (fails under RAMPART_EVAL)
// when it is not installed.
func JDK(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		testenv.Missing(t, "%s not installed (Debian: openjdk-17-jdk-headless)", tool)
	}
	return p
}

// Java is the compiled Decrypt program.
type Java struct {
	java, dir string
}

// CompileDecrypt compiles the Decrypt program with javac (once per test).
func CompileDecrypt(t testing.TB) *Java {
	t.Helper()
	javac, java := JDK(t, "javac"), JDK(t, "java")
	dir := t.TempDir()
	src, _ := files.ReadFile("Decrypt.java")
	if err := os.WriteFile(filepath.Join(dir, "Decrypt.java"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(javac, "-d", dir, filepath.Join(dir, "Decrypt.java")).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	return &Java{java: java, dir: dir}
}

// Decrypt decrypts cipher texts with the JDK's javax.crypto.Cipher and
// the private key of alias in a keystore, returning the plain texts.
func (j *Java) Decrypt(t testing.TB, store, storeType, password, alias, transformation string, cipherTexts ...string) []string {
	t.Helper()
	args := append([]string{"-cp", j.dir, "Decrypt", store, storeType, password, alias, transformation}, cipherTexts...)
	out, err := exec.Command(j.java, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("java Decrypt: %v\n%s", err, out)
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

// Keytool runs keytool and returns its output.
func Keytool(t testing.TB, args ...string) string {
	t.Helper()
	kt := JDK(t, "keytool")
	out, err := exec.Command(kt, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("keytool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
