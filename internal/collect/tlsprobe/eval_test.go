package tlsprobe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/testenv"
	"github.com/rampart-sec/rampart/internal/testenv/transcript"
)

// The expected values below are /work/shared/eval/baseline/EXPECTED.md: what
// testssl.sh, sslscan, nmap and the openssl probes agree on, and, where they
// disagree, what the probe and the target's configuration settle.

var weakTLS12 = []string{
	"0x0033", "0x0067", "0xC09E", "0xC0A2", "0x009E", "0x0039", "0x006B", "0xC09F", "0xC0A3", "0x009F",
	"0xC052", "0xC053", "0x0045", "0x00BE", "0x0088", "0x00C4", "0xCCAA", "0xC013", "0xC027", "0xC014",
	"0xC028", "0xC076", "0xC077", "0x002F", "0x003C", "0xC09C", "0xC0A0", "0x009C", "0x0035", "0x003D",
	"0xC09D", "0xC0A1", "0x009D", "0xC050", "0xC051", "0x0041", "0x00BA", "0x0084", "0x00C0", "0xC02F",
	"0xC030", "0xC060", "0xC061", "0xCCA8",
}

var weakTLS10 = []string{"0x0033", "0x0039", "0x0045", "0x0088", "0xC013", "0xC014", "0x002F", "0x0035", "0x0041", "0x0084"}

func TestEvalWeak(t *testing.T) {
	transcript.Run(t, transcript.Case{Name: "eval-weak", Live: evalTarget("127.0.0.1:8443"), Check: checkEvalWeak}, *update)
}

func checkEvalWeak(t *testing.T, env *collect.Env, tg transcript.Target) {
	tf := probeAtBound(t, endpointAt(t, tg.Addr, "https"), env, Options{})
	if d := diff([]string{"TLSv1.0", "TLSv1.1", "TLSv1.2"}, tf.Versions); d != "" {
		t.Errorf("versions (-want +got):\n%s", d)
	}
	if len(weakTLS12) != 44 {
		t.Fatalf("test table: %d TLS 1.2 suites, EXPECTED.md lists 44", len(weakTLS12))
	}
	for v, want := range map[string][]string{"TLSv1.2": weakTLS12, "TLSv1.1": weakTLS10, "TLSv1.0": weakTLS10} {
		if d := diff(sorted(want), sorted(suiteIDs(tf, v))); d != "" {
			t.Errorf("%s suites (-want +got):\n%s", v, d)
		}
	}
	// 16 static-RSA suites without forward secrecy, 17 DHE suites, 5 clean.
	var noFS, dhe, cbc int
	for _, s := range tf.Suites {
		if s.Version != "TLSv1.2" {
			continue
		}
		if !s.ForwardSecrecy {
			noFS++
		}
		if s.Kex == "DHE" {
			dhe++
		}
		if s.Mode == "CBC" {
			cbc++
		}
	}
	if noFS != 16 || dhe != 17 || cbc != 22 {
		t.Errorf("TLS 1.2 classes: %d without FS (want 16), %d DHE (want 17), %d CBC (want 22)", noFS, dhe, cbc)
	}
	if tf.ServerPreference || tf.CipherOrder["TLSv1.2"] != "client" {
		t.Errorf("cipher order: server_preference=%v %v, want client (ssl_prefer_server_ciphers off)", tf.ServerPreference, tf.CipherOrder)
	}
	if tf.DHBits != 1024 {
		t.Errorf("dh_bits = %d, want 1024", tf.DHBits)
	}
	if d := diff(sorted([]string{"secp256r1", "secp384r1", "secp521r1", "X25519", "X448"}), sorted(tf.Groups)); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
	if !tf.SecureRenegotiation || tf.ClientRenegotiation != "rejected" {
		t.Errorf("renegotiation: secure=%v client=%q (%s), want secure, rejected", tf.SecureRenegotiation, tf.ClientRenegotiation, tf.ClientRenegotiationNote)
	}
	if tf.Compression || !tf.FallbackSCSV {
		t.Errorf("compression=%v fallback_scsv=%v, want false, true", tf.Compression, tf.FallbackSCSV)
	}
	if len(tf.Chain) != 1 {
		t.Fatalf("chain of %d certificates, want 1", len(tf.Chain))
	}
	leaf := tf.Chain[0]
	if leaf.KeyType != "RSA" || leaf.KeyBits != 1024 || leaf.SignatureAlgorithm != "SHA1-RSA" || !leaf.SelfSigned ||
		len(leaf.DNSNames) != 0 || !strings.Contains(leaf.Subject, "CN=weak.eval.local") {
		t.Errorf("leaf = %+v, want RSA-1024, SHA1-RSA, self-signed, CN=weak.eval.local, no SAN", leaf)
	}
	if days := leaf.NotAfter.Sub(leaf.NotBefore).Hours() / 24; days < 3649 || days > 3651 {
		t.Errorf("validity %.0f days, want 3650", days)
	}
	if tf.Trusted || tf.NameMatches || tf.NameChecked != "127.0.0.1" {
		t.Errorf("trusted=%v name_matches=%v name_checked=%q, want untrusted, no match for 127.0.0.1", tf.Trusted, tf.NameMatches, tf.NameChecked)
	}
	// TLS-006: the weak nginx follows the client's order
	// (ssl_prefer_server_ciphers off), so a client preferring CBC gets CBC.
	got := judgeTLS(t, endpointAt(t, tg.Addr, "https"), tf)
	wantStatus(t, got, "TLS-006", finding.Fail, "a client that lists its CBC suites first gets", "at TLSv1.2: the server follows the client's order")
}

func TestEvalStrong(t *testing.T) {
	transcript.Run(t, transcript.Case{Name: "eval-strong", Check: checkEvalStrong, Live: func(t *testing.T) transcript.Target {
		tg := evalTarget("127.0.0.1:9443")(t)
		// The eval CA, for the probe with it as the user's bundle; kept in
		// the recording, as the replay has no ../shared.
		ca, err := os.ReadFile(filepath.Join(testenv.Shared(t), "eval", "targets", "pki", "ca.crt"))
		if err != nil {
			t.Fatal(err)
		}
		tg.Meta = map[string]string{"ca.crt": string(ca)}
		return tg
	}}, *update)
}

func checkEvalStrong(t *testing.T, env *collect.Env, tg transcript.Target) {
	tf := probeAtBound(t, endpointAt(t, tg.Addr, "https"), env, Options{})
	if d := diff([]string{"TLSv1.2", "TLSv1.3"}, tf.Versions); d != "" {
		t.Errorf("versions (-want +got):\n%s", d)
	}
	// Server order, AES128-GCM first (ssl_prefer_server_ciphers on).
	if d := diff([]string{"0xC02F", "0xC030", "0xCCA8"}, suiteIDs(tf, "TLSv1.2")); d != "" {
		t.Errorf("TLS 1.2 suites in server order (-want +got):\n%s", d)
	}
	if d := diff([]string{"0x1301", "0x1302", "0x1303"}, sorted(suiteIDs(tf, "TLSv1.3"))); d != "" {
		t.Errorf("TLS 1.3 suites (-want +got):\n%s", d)
	}
	for _, s := range tf.Suites {
		if !s.ForwardSecrecy || s.Mode != "AEAD" {
			t.Errorf("suite %s %s: fs=%v mode=%s, want forward secrecy and AEAD", s.ID, s.Name, s.ForwardSecrecy, s.Mode)
		}
	}
	if !tf.ServerPreference || tf.CipherOrder["TLSv1.2"] != "server" {
		t.Errorf("cipher order %v, want server", tf.CipherOrder)
	}
	if tf.DHBits != 0 {
		t.Errorf("dh_bits = %d, want 0 (no DHE)", tf.DHBits)
	}
	if d := diff(sorted([]string{"X25519", "secp256r1", "secp384r1"}), sorted(tf.Groups)); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
	// sslscan says "not supported" here; testssl and the openssl probe agree
	// it is supported on TLS 1.2 (sslscan asks over TLS 1.3).
	if !tf.SecureRenegotiation || tf.ClientRenegotiation != "rejected" {
		t.Errorf("renegotiation: secure=%v client=%q (%s), want secure, rejected", tf.SecureRenegotiation, tf.ClientRenegotiation, tf.ClientRenegotiationNote)
	}
	if len(tf.Chain) != 1 {
		t.Fatalf("chain of %d certificates, want 1 (the CA is not sent)", len(tf.Chain))
	}
	leaf := tf.Chain[0]
	if leaf.KeyType != "RSA" || leaf.KeyBits != 2048 || leaf.SignatureAlgorithm != "SHA256-RSA" || leaf.SelfSigned {
		t.Errorf("leaf = %+v, want RSA-2048, SHA256-RSA, issued by the eval CA", leaf)
	}
	if d := diff([]string{"127.0.0.1", "::1"}, leaf.IPAddresses); d != "" || diff([]string{"localhost"}, leaf.DNSNames) != "" {
		t.Errorf("SANs dns=%v ip=%v, want localhost, 127.0.0.1, ::1", leaf.DNSNames, leaf.IPAddresses)
	}
	if tf.Trusted || !tf.NameMatches {
		t.Errorf("trusted=%v name_matches=%v, want untrusted (private CA) and a name match", tf.Trusted, tf.NameMatches)
	}
	// With the eval CA as the user's bundle the chain verifies.
	bundle := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(bundle, []byte(tg.Meta["ca.crt"]), 0o600); err != nil {
		t.Fatal(err)
	}
	withCA := *env
	withCA.CABundle = bundle
	tf = probe(t, endpointAt(t, tg.Addr, "https"), &withCA, Options{})
	if !tf.Trusted {
		t.Errorf("with the eval CA bundle: trusted=false (%s)", tf.TrustError)
	}
}

func TestEvalDHE(t *testing.T) {
	transcript.Run(t, transcript.Case{Name: "eval-dhe", Live: evalTarget("127.0.0.1:8444"), Check: checkEvalDHE}, *update)
}

func checkEvalDHE(t *testing.T, env *collect.Env, tg transcript.Target) {
	tf := probeAtBound(t, endpointAt(t, tg.Addr, "https"), env, Options{})
	if d := diff([]string{"TLSv1.2"}, tf.Versions); d != "" {
		t.Errorf("versions (-want +got):\n%s", d)
	}
	want := []string{"0x0033", "0x0067", "0x009E", "0x0039", "0x006B", "0x009F"}
	if d := diff(sorted(want), sorted(suiteIDs(tf, "TLSv1.2"))); d != "" {
		t.Errorf("suites (-want +got):\n%s", d)
	}
	if tf.DHBits != 1024 {
		t.Errorf("dh_bits = %d, want 1024", tf.DHBits)
	}
	if tf.CipherOrder["TLSv1.2"] != "client" {
		t.Errorf("cipher order %v, want client", tf.CipherOrder)
	}
	// Stock testssl says "not vulnerable" and sslscan "not supported": both
	// wrong (their OpenSSL refuses DH-1024); s_server runs with
	// -client_renegotiation and the openssl probe's second handshake completes.
	if !tf.SecureRenegotiation {
		t.Error("secure renegotiation not seen; the server supports RFC 5746")
	}
	if tf.ClientRenegotiation != "accepted" {
		t.Errorf("client renegotiation %q (%s), want accepted", tf.ClientRenegotiation, tf.ClientRenegotiationNote)
	}
	// One protocol only: no fallback is possible (sslscan's "supported" is moot).
	if tf.FallbackSCSV {
		t.Error("fallback_scsv true with a single protocol version")
	}
	if len(tf.Chain) != 1 || tf.Chain[0].KeyBits != 2048 || !tf.Chain[0].SelfSigned || tf.Chain[0].SignatureAlgorithm != "SHA256-RSA" {
		t.Errorf("chain %+v, want one self-signed RSA-2048 SHA256-RSA certificate", tf.Chain)
	}
}
