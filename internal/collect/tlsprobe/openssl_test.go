package tlsprobe

import (
	"net"
	"strconv"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"

	"github.com/rampart-sec/rampart/internal/collect"
)

// openSSLServer runs `openssl s_server -www` and returns its port (see
// testenv.OpenSSLServer).
func openSSLServer(t *testing.T, args ...string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(testenv.OpenSSLServer(t, "openssl.test", args...))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
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
