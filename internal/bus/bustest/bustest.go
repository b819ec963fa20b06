// Package bustest starts real NATS servers for tests: the embedded one,
// and Debian's nats-server binary on an ephemeral loopback port (or an
// address inside a test's network namespace). It skips, or under
// RAMPART_EVAL=1 fails, when the binary is missing.
package bustest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/netnstest"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// Certs makes a CA and a server certificate for the given IP addresses
// (127.0.0.1 always) and writes them to dir: ca.pem, server.pem,
// server-key.pem. It returns the server's TLS configuration and the CA's
// path.
func Certs(t testing.TB, dir string, ips ...string) (*tls.Config, string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bustest CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "nats"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile := write("ca.pem", "CERTIFICATE", caDER)
	write("server.pem", "CERTIFICATE", der)
	write("server-key.pem", "EC PRIVATE KEY", keyDER)
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, caFile
}

// Proc is a nats-server process.
type Proc struct {
	t      testing.TB
	dir    string
	conf   string
	ns     *netnstest.NS
	cmd    *exec.Cmd
	exited chan struct{}
	URL    string
	Port   int
	scheme string
	host   string
	base   string
}

func (p *Proc) write(auth string) {
	if err := os.WriteFile(p.conf, []byte(p.base+auth), 0o600); err != nil {
		p.t.Fatal(err)
	}
}

// SetAuth replaces the authorization block and has the running server
// reload its configuration (SIGHUP): connections of users no longer
// listed are closed.
func (p *Proc) SetAuth(auth string) {
	p.write(auth)
	if p.cmd != nil {
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			p.t.Fatalf("reload nats-server: %v", err)
		}
	}
}

// DebianConfig is what a test's nats-server runs with.
type DebianConfig struct {
	// Host to listen on (127.0.0.1 by default); inside NS when set.
	Host string
	NS   *netnstest.NS
	// Auth is an authorization { } block (bus.ConfigBlock).
	Auth string
	// TLSDir holds server.pem and server-key.pem (bustest.Certs).
	TLSDir string
	// MaxPayload in bytes (default the server's 1 MiB).
	MaxPayload int
}

// Debian starts Debian's nats-server with JetStream in dir on an
// ephemeral port (the port it reports is kept for restarts).
func Debian(t testing.TB, dir string, cfg DebianConfig) *Proc {
	t.Helper()
	testenv.Tool(t, "nats-server", "apt-get install nats-server")
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	p := &Proc{t: t, dir: dir, ns: cfg.NS, host: cfg.Host, scheme: "nats"}
	var b strings.Builder
	fmt.Fprintf(&b, "host: %q\nport: -1\nserver_name: bustest\njetstream {\n  store_dir: %q\n  max_file_store: 8G\n  max_memory_store: 64M\n}\n", cfg.Host, filepath.Join(dir, "js"))
	if cfg.MaxPayload > 0 {
		fmt.Fprintf(&b, "max_payload: %d\n", cfg.MaxPayload)
	}
	if cfg.TLSDir != "" {
		p.scheme = "tls"
		fmt.Fprintf(&b, "tls {\n  cert_file: %q\n  key_file: %q\n}\n", filepath.Join(cfg.TLSDir, "server.pem"), filepath.Join(cfg.TLSDir, "server-key.pem"))
	}
	p.base = b.String()
	p.conf = filepath.Join(dir, "nats-server.conf")
	p.write(cfg.Auth)
	p.start()
	t.Cleanup(p.Stop)
	return p
}

func (p *Proc) start() {
	t := p.t
	t.Helper()
	args := []string{"-c", p.conf}
	if p.Port != 0 {
		args = append(args, "-p", fmt.Sprint(p.Port))
	}
	name := "nats-server"
	if p.ns != nil {
		args = append([]string{"netns", "exec", p.ns.Name, "nats-server"}, args...)
		name = "ip"
	}
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("nats-server: %v", err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	port := make(chan int, 1)
	listening := regexp.MustCompile(`Listening for client connections on [^ ]*:(\d+)`)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if log.Len() < 64<<10 {
				log.WriteString(line + "\n")
			}
			if m := listening.FindStringSubmatch(line); m != nil && !sent {
				var n int
				fmt.Sscan(m[1], &n)
				port <- n
				sent = true
			}
			if strings.Contains(line, "Server is ready") && !sent {
				port <- 0
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		if !sent {
			close(port)
		}
	}()
	go func() { _ = cmd.Wait(); close(p.exited) }()
	n, ok := <-port
	if !ok || n == 0 {
		_ = cmd.Process.Kill()
		<-p.exited
		t.Fatalf("nats-server did not report its port:\n%s", log.String())
	}
	p.Port = n
	p.URL = fmt.Sprintf("%s://%s", p.scheme, net.JoinHostPort(p.host, fmt.Sprint(n)))
}

// Stop stops the server (SIGTERM, then SIGKILL after 10s) and waits.
func (p *Proc) Stop() {
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
	p.cmd = nil
}

// Kill stops the server with SIGKILL (no clean shutdown) and waits.
func (p *Proc) Kill() {
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
	p.cmd = nil
}

// Start starts a stopped (or killed) server again on its port.
func (p *Proc) Start() {
	p.t.Helper()
	if p.cmd == nil {
		p.start()
	}
}

// PeakRSS is the server's peak resident memory (VmHWM) in KiB.
func (p *Proc) PeakRSS() int {
	if p.cmd == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var v int
			fmt.Sscan(strings.Fields(line)[1], &v)
			return v
		}
	}
	return 0
}

// Version is the nats-server binary's version.
func (p *Proc) Version() string {
	out, err := exec.Command("nats-server", "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(strings.TrimPrefix(string(out), "nats-server: "))
}

// Pid is the running server's process ID (0 when stopped).
func (p *Proc) Pid() int {
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}
