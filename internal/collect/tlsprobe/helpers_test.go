package tlsprobe

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv/transcript"
)

// testPKI is a throwaway CA and a leaf for localhost, 127.0.0.1 and ::1.
type testPKI struct {
	caPEM []byte
	leaf  tls.Certificate
}

func newPKI(t testing.TB, ecKey bool) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlsprobe test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	var leafKey crypto.Signer
	if ecKey {
		leafKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		leafKey, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, leafKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		leaf:  tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey},
	}
}

// goServer serves cfg on a loopback listener (network "tcp4" or "tcp6")
// until the test ends, and returns its port.
func goServer(t testing.TB, network string, cfg *tls.Config) int {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "tcp6" {
		addr = "[::1]:0"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		testenv.Missing(t, "cannot listen on %s: %v", addr, err)
	}
	testenv.ServeListener(t, ln, 10*time.Second, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() != nil {
			return
		}
		_, _ = io.Copy(io.Discard, tc)
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// rawServer runs handle for every connection to a loopback listener and
// returns its port (see testenv.Serve).
func rawServer(t testing.TB, handle func(net.Conn)) int {
	t.Helper()
	_, port, err := net.SplitHostPort(testenv.Serve(t, 30*time.Second, handle))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// update records the transcripts again against the live servers
// (go test -update -run TestName; see internal/testenv/transcript).
var update = flag.Bool("update", false, "record the transcripts in testdata/transcripts again, against the live servers")

// evalTarget is the Live of a transcript case probing an eval target.
func evalTarget(addr string) func(t *testing.T) transcript.Target {
	return func(t *testing.T) transcript.Target {
		requireEvalTarget(t, addr)
		return transcript.Target{Addr: addr}
	}
}

// endpointAt is endpoint for a host:port address.
func endpointAt(t testing.TB, addr, scheme string) target.Target {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return endpoint(host, n, scheme)
}

func endpoint(host string, port int, scheme string) target.Target {
	return target.Target{Name: net.JoinHostPort(host, strconv.Itoa(port)), Kind: target.Endpoint, Host: host, Port: port, Scheme: scheme}
}

// probe runs the collector and fails the test on an error.
func probe(t testing.TB, tg target.Target, env *collect.Env, opts Options) *facts.TLS {
	t.Helper()
	f, err := New(opts).Collect(context.Background(), tg, env)
	if err != nil {
		t.Fatalf("collect %s: %v", tg.Name, err)
	}
	if f == nil || f.TLS == nil {
		t.Fatalf("collect %s: no tls facts", tg.Name)
	}
	return f.TLS
}

// suiteIDs returns the accepted suite ids for version v, in reported order.
func suiteIDs(tf *facts.TLS, v string) []string {
	var out []string
	for _, s := range tf.Suites {
		if s.Version == v {
			out = append(out, s.ID)
		}
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// requireEvalTarget skips unless addr is listening, or fails when
// RAMPART_EVAL=1 says the eval targets must be up.
func requireEvalTarget(t *testing.T, addr string) {
	t.Helper()
	testenv.Listening(t, addr, "start them with ../shared/eval/targets/up.sh")
}

// jsseServer compiles testdata/jsse/TLSServer.java (once per test binary)
// and starts it with the given -D properties; it skips without a JDK.
func jsseServer(t *testing.T, props ...string) int {
	t.Helper()
	port, _ := jsseServerSuites(t, props...)
	return port
}

// jsseServerSuites starts the JSSE server and returns its port and the
// suites it enables, as the JDK names them, in its order.
func jsseServerSuites(t *testing.T, props ...string) (int, []string) {
	t.Helper()
	classes := compileJSSE(t)
	dir := t.TempDir()
	ks := filepath.Join(dir, "server.p12")
	keytool := exec.Command("keytool", "-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048",
		"-dname", "CN=localhost, OU=Test, O=tlsprobe", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
		"-validity", "2", "-storetype", "PKCS12", "-keystore", ks, "-storepass", "changeit")
	if out, err := keytool.CombinedOutput(); err != nil {
		t.Fatalf("keytool: %v\n%s", err, out)
	}
	portFile := filepath.Join(dir, "port")
	args := append(slices.Clone(props), "-cp", classes, "TLSServer", portFile, ks, "changeit")
	cmd := exec.Command("java", args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start java: %v", err)
	}
	// The server prints "LISTENING port" once its port file is written;
	// its stdout ends (closed) if it exits first.
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "LISTENING ") && !ok {
				ok = true
				listening <- true
			}
		}
		if !ok {
			listening <- false
		}
	}()
	t.Cleanup(func() {
		stdin.Close() // the server exits when its stdin closes
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	select {
	case ok := <-listening:
		if !ok {
			t.Fatalf("JSSE server exited before listening: %s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("JSSE server did not listen within 30s: %s", stderr.String())
	}
	b, err := os.ReadFile(portFile)
	if err != nil {
		t.Fatalf("port file: %v", err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("port file: %v", err)
	}
	sb, err := os.ReadFile(portFile + ".suites")
	if err != nil {
		t.Fatalf("suites file: %v", err)
	}
	return port, strings.Fields(string(sb))
}

var (
	jsseOnce    sync.Once
	jsseClasses string
	jsseErr     error
)

func compileJSSE(t *testing.T) string {
	t.Helper()
	testenv.Tool(t, "javac", "a JDK for the JSSE server tests: apt-get install openjdk-17-jdk-headless")
	testenv.Tool(t, "keytool", "a JDK for the JSSE server tests: apt-get install openjdk-17-jdk-headless")
	jsseOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tlsprobe-jsse-")
		if err != nil {
			jsseErr = err
			return
		}
		out, err := exec.Command("javac", "-d", dir, filepath.Join("testdata", "jsse", "TLSServer.java")).CombinedOutput()
		if err != nil {
			jsseErr = errors.New("javac: " + err.Error() + "\n" + string(out))
			return
		}
		jsseClasses = dir
	})
	if jsseErr != nil {
		t.Fatal(jsseErr)
	}
	return jsseClasses
}

// diff describes how got differs from want ("" when equal).
func diff(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	return "want " + strings.Join(want, " ") + "\n got " + strings.Join(got, " ")
}
