package tlsprobe

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/rampart-sec/rampart/internal/testenv"

	"github.com/rampart-sec/rampart/internal/collect"
)

func hexIDs(ids ...uint16) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("0x%04X", id)
	}
	return out
}

func TestGoServerTLS12Suites(t *testing.T) {
	pki := newPKI(t, false)
	suites := []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	}
	port := goServer(t, "tcp4", &tls.Config{
		Certificates: []tls.Certificate{pki.leaf}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
		CipherSuites: suites, CurvePreferences: []tls.CurveID{tls.CurveP256, tls.X25519},
	})
	tf := probe(t, endpoint("127.0.0.1", port, "https"), &collect.Env{}, Options{})
	if d := diff([]string{"TLSv1.2"}, tf.Versions); d != "" {
		t.Errorf("versions: %s", d)
	}
	if d := diff(sorted(hexIDs(suites...)), sorted(suiteIDs(tf, "TLSv1.2"))); d != "" {
		t.Errorf("suites: %s", d)
	}
	// Go picks by its own order when no ChaCha20 is involved.
	if !tf.ServerPreference || tf.CipherOrder["TLSv1.2"] != "server" {
		t.Errorf("cipher order %v, want server", tf.CipherOrder)
	}
	// ... and its order puts ECDHE AES-GCM first and static RSA CBC last.
	got := suiteIDs(tf, "TLSv1.2")
	if got[0] != "0xC02F" || got[len(got)-1] != "0x002F" {
		t.Errorf("server order %v: want 0xC02F first and 0x002F last", got)
	}
	if d := diff(sorted([]string{"secp256r1", "X25519"}), sorted(tf.Groups)); d != "" {
		t.Errorf("groups: %s", d)
	}
	if !tf.SecureRenegotiation {
		t.Error("Go supports RFC 5746; secure_renegotiation false")
	}
	// Go never renegotiates as a server. Getting its answer proves the
	// minimal client finished the handshake (Go checked our Finished, we
	// checked Go's and decrypted its alert).
	if tf.ClientRenegotiation != "rejected" {
		t.Errorf("client renegotiation %q (%s), want rejected", tf.ClientRenegotiation, tf.ClientRenegotiationNote)
	}
	if tf.Compression || tf.FallbackSCSV || tf.DHBits != 0 {
		t.Errorf("compression=%v fallback=%v dh=%d, want false false 0", tf.Compression, tf.FallbackSCSV, tf.DHBits)
	}
	if len(tf.Chain) != 2 || tf.Chain[0].KeyBits != 2048 || tf.Chain[1].KeyType != "EC" {
		t.Errorf("chain %+v, want RSA-2048 leaf and EC CA", tf.Chain)
	}
	if tf.Trusted {
		t.Error("chain trusted without the test CA")
	}
	// Trusted with the CA as the user's bundle; the name matches the IP SAN.
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pki.caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	tf = probe(t, endpoint("127.0.0.1", port, "https"), &collect.Env{CABundle: bundle}, Options{})
	if !tf.Trusted || !tf.NameMatches {
		t.Errorf("with CA bundle: trusted=%v (%s) name_matches=%v, want both", tf.Trusted, tf.TrustError, tf.NameMatches)
	}
}

// The minimal renegotiation client must finish handshakes with CBC suites
// at TLS 1.0, 1.1 and 1.2 and with GCM and ChaCha20-Poly1305 at 1.2, for
// each key exchange.
func TestRenegotiationClientHandshakes(t *testing.T) {
	pki := newPKI(t, false)
	ecpki := newPKI(t, true)
	cases := []struct {
		name    string
		version uint16
		suite   uint16
		pki     *testPKI
	}{
		{"TLS1.2 ECDHE-RSA AES-GCM", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, pki},
		{"TLS1.2 ECDHE-ECDSA AES-GCM", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ecpki},
		// Servers that offer only ChaCha20-Poly1305 (RFC 7905) are tested too.
		{"TLS1.2 ECDHE-RSA CHACHA20-POLY1305", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, pki},
		{"TLS1.2 ECDHE-ECDSA CHACHA20-POLY1305", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, ecpki},
		{"TLS1.2 RSA AES-GCM", tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, pki},
		{"TLS1.2 ECDHE-RSA AES-CBC-SHA256", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, pki},
		{"TLS1.2 RSA AES-CBC-SHA", tls.VersionTLS12, tls.TLS_RSA_WITH_AES_256_CBC_SHA, pki},
		{"TLS1.1 ECDHE-RSA AES-CBC-SHA", tls.VersionTLS11, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, pki},
		{"TLS1.0 ECDHE-ECDSA AES-CBC-SHA", tls.VersionTLS10, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, ecpki},
		{"TLS1.0 RSA AES-CBC-SHA", tls.VersionTLS10, tls.TLS_RSA_WITH_AES_128_CBC_SHA, pki},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port := goServer(t, "tcp4", &tls.Config{
				Certificates: []tls.Certificate{tc.pki.leaf}, MinVersion: tc.version, MaxVersion: tc.version,
				CipherSuites: []uint16{tc.suite},
			})
			tf := probe(t, endpoint("127.0.0.1", port, "https"), &collect.Env{}, Options{})
			if d := diff(hexIDs(tc.suite), suiteIDs(tf, tls.VersionName(tc.version)[:3]+"v"+tls.VersionName(tc.version)[4:])); d != "" {
				t.Errorf("suites: %s (facts %v)", d, tf.Suites)
			}
			// Go answers a renegotiating hello with an encrypted
			// unexpected_message alert: reading it needs the right keys.
			if tf.ClientRenegotiation != "rejected" || tf.ClientRenegotiationNote != "the server answered with alert unexpected_message" {
				t.Errorf("client renegotiation %q (%s): want rejected by Go's encrypted alert, which needs a finished handshake", tf.ClientRenegotiation, tf.ClientRenegotiationNote)
			}
		})
	}
}

func TestGoServerAllVersions(t *testing.T) {
	pki := newPKI(t, true)
	port := goServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MinVersion: tls.VersionTLS10})
	tf := probe(t, endpoint("localhost", port, "https"), &collect.Env{}, Options{})
	if d := diff([]string{"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"}, tf.Versions); d != "" {
		t.Errorf("versions: %s", d)
	}
	if d := diff([]string{"0x1301", "0x1302", "0x1303"}, sorted(suiteIDs(tf, "TLSv1.3"))); d != "" {
		t.Errorf("TLS 1.3 suites: %s", d)
	}
	if !tf.FallbackSCSV {
		t.Error("Go implements TLS_FALLBACK_SCSV; fallback_scsv false")
	}
	if tf.SNI != "localhost" || tf.NameChecked != "localhost" || !tf.NameMatches {
		t.Errorf("sni=%q name_checked=%q name_matches=%v, want localhost and a match", tf.SNI, tf.NameChecked, tf.NameMatches)
	}
	for _, g := range []string{"X25519", "secp256r1", "secp384r1", "secp521r1"} {
		if !slices.Contains(tf.Groups, g) {
			t.Errorf("groups %v lack %s", tf.Groups, g)
		}
	}
	if len(tf.Chain) == 0 || tf.Chain[0].KeyType != "EC" || tf.Chain[0].KeyBits != 256 {
		t.Errorf("chain %+v, want an EC P-256 leaf", tf.Chain)
	}
}

func TestGoServerTLS13Only(t *testing.T) {
	pki := newPKI(t, false)
	port := goServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MinVersion: tls.VersionTLS13})
	tf := probe(t, endpoint("127.0.0.1", port, ""), &collect.Env{}, Options{})
	if d := diff([]string{"TLSv1.3"}, tf.Versions); d != "" {
		t.Errorf("versions: %s", d)
	}
	// The chain comes from a TLS 1.3 handshake (its Certificate is encrypted).
	if len(tf.Chain) != 2 || tf.Chain[0].KeyBits != 2048 {
		t.Errorf("chain %+v, want the served RSA-2048 leaf and CA", tf.Chain)
	}
	if tf.ClientRenegotiation != "rejected" || tf.SecureRenegotiation {
		t.Errorf("renegotiation client=%q (%s) secure=%v, want rejected (TLS 1.3 has none)", tf.ClientRenegotiation, tf.ClientRenegotiationNote, tf.SecureRenegotiation)
	}
	if !slices.Contains(tf.Groups, "X25519MLKEM768") && !slices.Contains(tf.Groups, "X25519") {
		t.Errorf("groups %v, want Go's defaults", tf.Groups)
	}
}

func TestGoServerIPv6(t *testing.T) {
	pki := newPKI(t, false)
	port := goServer(t, "tcp6", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MaxVersion: tls.VersionTLS12})
	tf := probe(t, endpoint("::1", port, "https"), &collect.Env{}, Options{})
	if d := diff([]string{"TLSv1.2"}, tf.Versions); d != "" {
		t.Errorf("versions: %s", d)
	}
	if tf.SNI != "" || !tf.NameMatches {
		t.Errorf("sni=%q (want none for an IP literal) name_matches=%v (want the ::1 SAN)", tf.SNI, tf.NameMatches)
	}
}

func TestPerHostLimit(t *testing.T) {
	pki := newPKI(t, false)
	port := goServer(t, "tcp4", &tls.Config{Certificates: []tls.Certificate{pki.leaf}, MinVersion: tls.VersionTLS10})
	for _, limit := range []int{1, 3} {
		d := &testenv.CountingDialer{}
		tf := probe(t, endpoint("127.0.0.1", port, "https"), &collect.Env{Dialer: d, PerHost: limit}, Options{})
		if len(tf.Versions) != 4 {
			t.Errorf("limit %d: versions %v", limit, tf.Versions)
		}
		peak, total := d.Stats()
		if peak > limit || peak == 0 {
			t.Errorf("limit %d: %d connections open at once", limit, peak)
		}
		t.Logf("limit %d: %d connections, peak %d", limit, total, peak)
	}
}

// A target addressed by IP with a declared hostname (inventory) sends that
// name as SNI and checks the certificate against it.
func TestDeclaredHostnameSNI(t *testing.T) {
	pki := newPKI(t, false)
	var mu sync.Mutex
	seen := map[string]bool{}
	port := goServer(t, "tcp4", &tls.Config{
		Certificates: []tls.Certificate{pki.leaf}, MaxVersion: tls.VersionTLS12,
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			// SSLv3 hellos carry no extensions, hence no SNI.
			if len(h.SupportedVersions) > 0 && slices.Max(h.SupportedVersions) >= tls.VersionTLS10 {
				mu.Lock()
				seen[h.ServerName] = true
				mu.Unlock()
			}
			return nil, nil
		},
	})
	tg := endpoint("127.0.0.1", port, "https")
	tg.Decl.Hostname = "localhost"
	tf := probe(t, tg, &collect.Env{}, Options{})
	if tf.SNI != "localhost" || tf.NameChecked != "localhost" || !tf.NameMatches {
		t.Errorf("sni=%q name_checked=%q name_matches=%v, want localhost", tf.SNI, tf.NameChecked, tf.NameMatches)
	}
	mu.Lock()
	defer mu.Unlock()
	if !seen["localhost"] || seen[""] {
		t.Errorf("TLS hellos carried SNI %v, want only localhost", seen)
	}
}
