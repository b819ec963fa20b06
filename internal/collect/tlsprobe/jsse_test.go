package tlsprobe

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/testenv/transcript"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// JSSE (Java's TLS stack, under WSO2's Tomcat and PassThrough transports)
// answers unusual hellos its own way; these run the prober against it.

// JDK 17 with its defaults: TLS 1.2 and 1.3, server order, 2048-bit DHE,
// client renegotiation allowed. The suites must be exactly those the JDK
// says it enables, in its order: that list changes with JDK updates (17.0.15
// enabled 20 TLS 1.2 suites, static RSA included, as sslscan 2.0.7 also
// lists; 17.0.21 disables TLS_RSA_*), so it is read from the server itself.
func TestJSSEDefaults(t *testing.T) {
	transcript.Run(t, transcript.Case{Name: "jsse-defaults", Check: checkJSSEDefaults, Live: func(t *testing.T) transcript.Target {
		port, enabled := jsseServerSuites(t)
		return transcript.Target{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Meta: map[string]string{"suites": strings.Join(enabled, " ")}}
	}}, *update)
}

func checkJSSEDefaults(t *testing.T, env *collect.Env, tg transcript.Target) {
	enabled := strings.Fields(tg.Meta["suites"])
	tf := probeAtBound(t, endpointAt(t, tg.Addr, "https"), env, Options{})
	if d := diff([]string{"TLSv1.2", "TLSv1.3"}, tf.Versions); d != "" {
		t.Errorf("versions (JDK 17 disables 1.0 and 1.1): %s", d)
	}
	want12, want13 := jsseSuiteIDs(t, enabled)
	if len(want12) < 8 || len(want13) != 3 {
		t.Fatalf("the JDK enables %d TLS 1.2 and %d TLS 1.3 suites: %v", len(want12), len(want13), enabled)
	}
	if d := diff(want12, suiteIDs(tf, "TLSv1.2")); d != "" {
		t.Errorf("TLS 1.2 suites in JSSE's order: %s", d)
	}
	if d := diff(want13, suiteIDs(tf, "TLSv1.3")); d != "" {
		t.Errorf("TLS 1.3 suites in JSSE's order: %s", d)
	}
	if tf.CipherOrder["TLSv1.2"] != "server" || tf.CipherOrder["TLSv1.3"] != "server" {
		t.Errorf("cipher order %v, want server for both", tf.CipherOrder)
	}
	if tf.DHBits != 2048 {
		t.Errorf("dh_bits %d, want JSSE's default 2048", tf.DHBits)
	}
	for _, g := range []string{"X25519", "secp256r1", "secp384r1", "ffdhe2048"} {
		if !slices.Contains(tf.Groups, g) {
			t.Errorf("groups %v lack %s", tf.Groups, g)
		}
	}
	if !tf.SecureRenegotiation || tf.ClientRenegotiation != "accepted" {
		t.Errorf("renegotiation secure=%v client=%q (%s), want secure and accepted (jdk.tls.rejectClientInitiatedRenegotiation is false by default)",
			tf.SecureRenegotiation, tf.ClientRenegotiation, tf.ClientRenegotiationNote)
	}
	if tf.Compression {
		t.Error("JSSE has no TLS compression")
	}
	if len(tf.Chain) != 1 || tf.Chain[0].KeyBits != 2048 || !tf.Chain[0].SelfSigned || !tf.NameMatches {
		t.Errorf("chain %+v name_matches=%v, want a self-signed RSA-2048 keytool certificate for 127.0.0.1", tf.Chain, tf.NameMatches)
	}
}

// The settings a WSO2 hardening guide asks for, and the legacy ones it
// forbids, as JVM flags: jdk.tls.ephemeralDHKeySize and
// jdk.tls.rejectClientInitiatedRenegotiation (TLS-008, TLS-009).
func TestJSSELegacyConfig(t *testing.T) {
	transcript.Run(t, transcript.Case{Name: "jsse-legacy", Check: checkJSSELegacy, Live: func(t *testing.T) transcript.Target {
		secProps := filepath.Join(t.TempDir(), "java.security")
		// Lift JDK 17's ban on TLS 1.0/1.1 and 3DES, as an old deployment would.
		if err := os.WriteFile(secProps, []byte("jdk.tls.disabledAlgorithms=SSLv3, RC4, NULL, anon\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		port := jsseServer(t,
			"-Djava.security.properties="+secProps,
			"-Djdk.tls.ephemeralDHKeySize=1024",
			"-Djdk.tls.rejectClientInitiatedRenegotiation=true",
			"-Dprotocols=TLSv1,TLSv1.1,TLSv1.2",
			"-Dsuites=TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,TLS_DHE_RSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,SSL_RSA_WITH_3DES_EDE_CBC_SHA",
			"-Dorder=client")
		return transcript.Target{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	}}, *update)
}

func checkJSSELegacy(t *testing.T, env *collect.Env, tg transcript.Target) {
	// Not at the bound of handshakeBound: JSSE following the client's
	// order still picks its legacy suites (3DES) last, so the order test
	// of TLS 1.0 and 1.1 finds no suite and a refusal is needed after it.
	tf := probe(t, endpointAt(t, tg.Addr, "https"), env, Options{})
	if d := diff([]string{"TLSv1.0", "TLSv1.1", "TLSv1.2"}, tf.Versions); d != "" {
		t.Errorf("versions: %s", d)
	}
	if d := diff(sorted([]string{"0x009E", "0x0033", "0xC013", "0x000A"}), sorted(suiteIDs(tf, "TLSv1.2"))); d != "" {
		t.Errorf("TLS 1.2 suites: %s", d)
	}
	if d := diff(sorted([]string{"0x0033", "0xC013", "0x000A"}), sorted(suiteIDs(tf, "TLSv1.0"))); d != "" {
		t.Errorf("TLS 1.0 suites: %s", d)
	}
	if tf.CipherOrder["TLSv1.2"] != "client" {
		t.Errorf("cipher order %v, want client (setUseCipherSuitesOrder(false))", tf.CipherOrder)
	}
	if tf.DHBits != 1024 {
		t.Errorf("dh_bits %d, want 1024 (jdk.tls.ephemeralDHKeySize=1024)", tf.DHBits)
	}
	if tf.ClientRenegotiation != "rejected" {
		t.Errorf("client renegotiation %q (%s), want rejected (jdk.tls.rejectClientInitiatedRenegotiation=true)", tf.ClientRenegotiation, tf.ClientRenegotiationNote)
	}
	for _, s := range tf.Suites {
		if s.ID == "0x000A" && (s.Cipher != "3DES_EDE_CBC" || s.Bits != 112 || s.ForwardSecrecy) {
			t.Errorf("3DES suite classified as %+v", s)
		}
	}
}

// jsseSuiteIDs maps the JDK's suite names (IANA names, or the SSL_ names
// JSSE keeps for old suites) to hex IDs, TLS 1.2 and TLS 1.3 apart, in order,
// keeping those the test server's RSA key can serve (enabled ECDSA and DSS
// suites are never chosen with an RSA certificate).
func jsseSuiteIDs(t *testing.T, names []string) (tls12, tls13 []string) {
	t.Helper()
	reg := tlswire.NewRegistry()
	byName := map[string]tlswire.Suite{}
	for _, s := range append(reg.TLS(), reg.TLS13()...) {
		byName[s.Name] = s
	}
	for _, n := range names {
		if n == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" {
			continue // a signal, not a suite
		}
		s, ok := byName[n]
		if !ok {
			s, ok = byName["TLS_"+strings.TrimPrefix(n, "SSL_")]
		}
		if !ok {
			t.Fatalf("the JDK enables %s, which the registry does not know", n)
		}
		if !s.TLS13 && s.Auth != "RSA" {
			continue
		}
		id := fmt.Sprintf("0x%04X", s.ID)
		if s.TLS13 {
			tls13 = append(tls13, id)
		} else {
			tls12 = append(tls12, id)
		}
	}
	return tls12, tls13
}
