package collect

import "crypto/tls"

// InspectingTLS is a crypto/tls client configuration for looking at a
// server, not for trusting it: every protocol version from TLS 1.0 and
// every suite Go has, insecure ones included, so an old server completes
// the handshake too, and no certificate checks (the tls collector judges
// certificates). serverName is sent as SNI. The key exchange groups are
// the classical ones, X25519 first: a probe that only looks at a server
// (its HTTP answers, its service) need not pay for an ML-KEM key share on
// every connection, nor the server for the hybrid it would pick when
// offered (together about a tenth of a fleet scan's CPU). A server that
// takes the post-quantum hybrid only fails this handshake; the tls
// collector, which does not use this configuration, still reports it.
func InspectingTLS(serverName string) *tls.Config {
	var suites []uint16
	for _, s := range tls.CipherSuites() {
		suites = append(suites, s.ID)
	}
	for _, s := range tls.InsecureCipherSuites() {
		suites = append(suites, s.ID)
	}
	return &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // probes look at servers; trust is judged from the chain separately.
		MinVersion:         tls.VersionTLS10,
		CipherSuites:       suites,
		ServerName:         serverName,
		CurvePreferences:   []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521},
	}
}
