package wso2

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// copyTree copies a fixture into dst (regular files and directories only).
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	testenv.CopyTree(t, src, dst)
}

func writeFile(t testing.TB, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// testPKI makes a test CA and a 3072-bit server key it signs, at run time.
type testPKI struct {
	caCert, leafCert []byte
	leafKey          []byte // PKCS#8
}

// testPKIs holds the test PKI made for each host name, so the package's
// tests generate each pair of 3072-bit keys once (a few seconds each
// under -race) rather than once per hardened copy.
var testPKIs = struct {
	sync.Mutex
	byHost map[string]testPKI
}{byHost: map[string]testPKI{}}

func newTestPKI(t testing.TB, host string) testPKI {
	t.Helper()
	testPKIs.Lock()
	defer testPKIs.Unlock()
	if k, ok := testPKIs.byHost[host]; ok {
		return k
	}
	k := makeTestPKI(t, host)
	testPKIs.byHost[host] = k
	return k
}

func makeTestPKI(t testing.TB, host string) testPKI {
	t.Helper()
	caKey, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Rampart Test CA", Organization: []string{"Example Corp"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caParsed, _ := x509.ParseCertificate(caDER)
	leafKey, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host, Organization: []string{"Example Corp"}},
		DNSNames: []string{host}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caParsed, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	return testPKI{caCert: caDER, leafCert: leafDER, leafKey: pk}
}

const testStorePass = "not-in-the-files-Y7u2"

func (k testPKI) keystore(t testing.TB) []byte {
	t.Helper()
	ks := jks.New()
	err := ks.SetPrivateKeyEntry("acme", jks.PrivateKeyEntry{
		CreationTime: time.Now(), PrivateKey: k.leafKey,
		CertificateChain: []jks.Certificate{{Type: "X509", Content: k.leafCert}, {Type: "X509", Content: k.caCert}},
	}, []byte(testStorePass))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ks.Store(&b, []byte(testStorePass)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (k testPKI) truststore(t testing.TB) []byte {
	t.Helper()
	ks := jks.New()
	if err := ks.SetTrustedCertificateEntry("acme-ca", jks.TrustedCertificateEntry{CreationTime: time.Now(), Certificate: jks.Certificate{Type: "X509", Content: k.caCert}}); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ks.Store(&b, []byte(testStorePass)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var (
	hstsParam   = regexp.MustCompile(`(<param-name>hstsEnabled</param-name>\s*<param-value>)false(</param-value>)`)
	layoutLine  = regexp.MustCompile(`(?m)^(appender\.[^.]+\.layout\.pattern\s*=\s*)`)
	hstsFilter  = "<filter><filter-name>HSTS</filter-name><filter-class>org.apache.catalina.filters.HttpHeaderSecurityFilter</filter-class><init-param><param-name>hstsEnabled</param-name><param-value>true</param-value></init-param></filter>\n</web-app>"
	scriptNames = map[string]string{ProfileIS: "bin/wso2server.sh", ProfileAPIM: "bin/api-manager.sh", ProfileMI: "bin/micro-integrator.sh"}
)

// buildHardened copies a fixture and applies the hardening overlay:
// testdata/hardened/<profile>.toml, keystores made now, secondary user
// stores (IS, API-M) from testdata/userstores/hardened, the start script
// with the hardening flags, %u in every log layout, HSTS on in every
// web.xml, a neutral PassThrough Server header, a recorded update level,
// a bundled JDK 17.
func buildHardened(t testing.TB, fixture string) string {
	t.Helper()
	src := fixtureDir(t, fixture)
	f, _ := scan(t, src, target.Declared{})
	profile := f.Product.Profile
	dst := t.TempDir()
	copyTree(t, src, dst)
	conf := "repository/conf"
	if profile == ProfileMI {
		conf = "conf"
	}
	overlay := map[string]string{ProfileIS: "is.toml", ProfileAPIM: "apim.toml", ProfileMI: "mi.toml"}[profile]
	toml, err := os.ReadFile(filepath.Join("testdata", "hardened", overlay))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dst, conf, "deployment.toml"), toml)
	host := map[string]string{ProfileIS: "is.example.com", ProfileAPIM: "api.example.com", ProfileMI: "mi.example.com"}[profile]
	pki := newTestPKI(t, host)
	writeFile(t, filepath.Join(dst, "repository/resources/security/acme.jks"), pki.keystore(t))
	writeFile(t, filepath.Join(dst, "repository/resources/security/acme-truststore.jks"), pki.truststore(t))
	script, err := os.ReadFile(filepath.Join("testdata", "hardened", "start.sh"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dst, scriptNames[profile]), script)
	writeFile(t, filepath.Join(dst, "updates/config.json"), []byte(`{"update-level": 12}`))
	// A bundled JDK 17 (as the product's Docker images ship one): its
	// defaults decide listeners without a protocol setting.
	writeFile(t, filepath.Join(dst, "jdk/release"), []byte("IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_VERSION=\"17.0.9\"\n"))
	if profile != ProfileMI {
		copyTree(t, filepath.Join("testdata", "userstores", "hardened"), filepath.Join(dst, secondaryStoresDir))
	}
	// log4j2: the fixture's own file with a UUID in every layout.
	logf := filepath.Join(dst, conf, "log4j2.properties")
	if b, err := os.ReadFile(logf); err == nil {
		writeFile(t, logf, layoutLine.ReplaceAll(b, []byte("${1}[%u] ")))
	} else {
		b, err := os.ReadFile(filepath.Join("testdata", "hardened", "log4j2.properties"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, logf, b)
	}
	// HSTS on in every web.xml and web.xml template; a filter where none is.
	_ = filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, "web.xml") || strings.HasSuffix(p, "web.xml.j2")) {
			return nil
		}
		b, _ := os.ReadFile(p)
		nb := hstsParam.ReplaceAll(b, []byte("${1}true${2}"))
		if !bytes.Contains(nb, []byte("HttpHeaderSecurityFilter")) && strings.Contains(p, "/webapps/") {
			nb = bytes.Replace(nb, []byte("</web-app>"), []byte(hstsFilter), 1)
		}
		return os.WriteFile(p, nb, 0o644)
	})
	if profile != ProfileIS {
		pt := filepath.Join(dst, conf, "passthru-http.properties")
		b, _ := os.ReadFile(pt)
		writeFile(t, pt, append(b, []byte("\nhttp.origin-server=WebServer\n")...))
	}
	return dst
}

// TestHardenedFixtures: on a hardened copy of every fixture, every file
// rule passes, does not apply, or needs an attestation; none fails or
// errs.
func TestHardenedFixtures(t *testing.T) {
	testenv.Short(t, "generates 3072-bit keys")
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			dir := buildHardened(t, name)
			// MI takes no reverse-proxy settings in its files, so it is not
			// declared to be behind one.
			decl := target.Declared{BehindProxy: !strings.HasPrefix(name, "mi-"), MinUpdateLevel: 10}
			// Judged now: the test's certificates are dated from the real clock.
			// As found running on an 8 GiB host (RT-003 compares the heap).
			f, fs := scanRunning(t, dir, decl, time.Now(), 8192)
			for _, fd := range fs {
				switch fd.Status {
				case finding.Pass, finding.NotApplicable, finding.Manual:
				case finding.Error:
					// The docker sample is a deployment.toml alone: no web.xml
					// to tell HSTS from, however hardened the toml.
					if !(name == "is-7.3.0-docker-compose" && fd.RuleID == "HTTP-002") {
						t.Errorf("%s %s: %s", fd.RuleID, fd.Status, fd.Message)
					}
				default:
					t.Errorf("%s %s: %s", fd.RuleID, fd.Status, fd.Message)
				}
			}
			checkGolden(t, "hardened-"+name, render(fs))
			if f.Product.JVM.DebugAgent {
				t.Error("the --debug branch's jdwp options were taken as always on")
			}
			if f.Product.JVM.HeapMaxMB != 2048 {
				t.Errorf("heap max = %d, want 2048", f.Product.JVM.HeapMaxMB)
			}
		})
	}
}
