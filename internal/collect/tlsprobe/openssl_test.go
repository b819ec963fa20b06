package tlsprobe

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
)

// openSSLServer runs `openssl s_server -www` with the given extra
// arguments on a free loopback port and returns the port; it skips the
// test when openssl is not installed.
func openSSLServer(t *testing.T, args ...string) int {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	pki := newPKI(t, false)
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(pki.leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.leaf.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.Command(bin, append([]string{"s_server", "-accept", addr, "-cert", certPath, "-key", keyPath, "-quiet", "-www"}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for range 100 {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			return port
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("openssl s_server did not listen on %s", addr)
	return 0
}

// A server whose only suite is ECDHE-RSA-CHACHA20-POLY1305 and that allows
// client-initiated renegotiation: the renegotiation test must finish a
// ChaCha20-Poly1305 handshake to see the second ServerHello.
func TestOpenSSLChaChaRenegotiationAccepted(t *testing.T) {
	port := openSSLServer(t, "-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305", "-client_renegotiation")
	tf := probe(t, endpoint("127.0.0.1", port, "https"), &collect.Env{}, Options{})
	if d := diff([]string{"0xCCA8"}, suiteIDs(tf, "TLSv1.2")); d != "" {
		t.Errorf("suites (-want +got):\n%s", d)
	}
	if !tf.SecureRenegotiation || tf.ClientRenegotiation != "accepted" {
		t.Errorf("renegotiation secure=%v client=%q (%s), want secure and accepted", tf.SecureRenegotiation, tf.ClientRenegotiation, tf.ClientRenegotiationNote)
	}
}
