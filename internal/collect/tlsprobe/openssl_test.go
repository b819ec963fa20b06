package tlsprobe

import (
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"
	"github.com/rampart-sec/rampart/internal/testenv/transcript"

	"github.com/rampart-sec/rampart/internal/collect"
)

// A server whose only suite is ECDHE-RSA-CHACHA20-POLY1305 and that allows
// client-initiated renegotiation: the renegotiation test must finish a
// ChaCha20-Poly1305 handshake to see the second ServerHello.
func TestOpenSSLChaChaRenegotiationAccepted(t *testing.T) {
	transcript.Run(t, transcript.Case{Name: "openssl-chacha-renegotiation", Check: checkOpenSSLChaCha, Live: func(t *testing.T) transcript.Target {
		return transcript.Target{Addr: testenv.OpenSSLServer(t, "openssl.test", "-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305", "-client_renegotiation")}
	}}, *update)
}

func checkOpenSSLChaCha(t *testing.T, env *collect.Env, tg transcript.Target) {
	tf := probe(t, endpointAt(t, tg.Addr, "https"), env, Options{})
	if d := diff([]string{"0xCCA8"}, suiteIDs(tf, "TLSv1.2")); d != "" {
		t.Errorf("suites (-want +got):\n%s", d)
	}
	if !tf.SecureRenegotiation || tf.ClientRenegotiation != "accepted" {
		t.Errorf("renegotiation secure=%v client=%q (%s), want secure and accepted", tf.SecureRenegotiation, tf.ClientRenegotiation, tf.ClientRenegotiationNote)
	}
}
