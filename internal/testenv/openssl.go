package testenv

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// OpenSSLServer runs `openssl s_server -www` on a free loopback port with a
// fresh self-signed RSA-2048 certificate for name and the extra arguments
// (suites, protocols, -client_renegotiation ...), stops it when the test
// ends, and returns its address. A real OpenSSL speaks what Go's
// crypto/tls does not (DHE, client renegotiation), so tests of the TLS code
// run against it rather than against a stand-in.
func OpenSSLServer(t testing.TB, name string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		Missing(t, "openssl not installed")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{name}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	// Port 0: s_server binds a port the kernel gives it and prints
	// "ACCEPT 127.0.0.1:PORT" once it listens (without -quiet), so there
	// is neither a port another process could take in between nor a wait
	// for it to start.
	cmd := exec.Command(bin, append([]string{"s_server", "-accept", "127.0.0.1:0", "-cert", certPath, "-key", keyPath, "-www"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	accept := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ACCEPT "); ok && !sent {
				accept <- strings.TrimSpace(a)
				sent = true
			}
		}
		if !sent {
			close(accept)
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-drained; _ = cmd.Wait() })
	select {
	case addr, ok := <-accept:
		if ok {
			return addr
		}
		<-drained
		_ = cmd.Wait()
		t.Fatalf("openssl s_server %v exited before listening: %s", args, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("openssl s_server %v did not listen within 30s", args)
	}
	return ""
}
