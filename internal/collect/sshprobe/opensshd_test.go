package sshprobe

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/testenv"
	"github.com/rampart-sec/rampart/internal/testenv/transcript"
)

// openSSHD runs the machine's OpenSSH server in the foreground on a free
// loopback port with the given extra configuration lines and fresh
// ed25519 and RSA-2048 host keys, stops it when the test ends, and returns
// its address. Like the eval targets it needs sshd's privilege separation
// directory, /run/sshd (../shared/eval/targets/up.sh creates it).
func openSSHD(t testing.TB, conf ...string) string {
	t.Helper()
	const bin = "/usr/sbin/sshd"
	if _, err := os.Stat(bin); err != nil {
		testenv.Missing(t, "OpenSSH server not installed (%s): %v", bin, err)
	}
	if _, err := os.Stat("/run/sshd"); err != nil {
		testenv.Missing(t, "sshd's privilege separation directory /run/sshd is missing (../shared/eval/targets/up.sh creates it): %v", err)
	}
	dir := t.TempDir()
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for name, key := range map[string]any{"host_ed25519": edKey, "host_rsa": rsaKey} {
		blk, err := ssh.MarshalPrivateKey(key, "")
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(blk), 0o600); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, "HostKey "+p)
	}
	slices.Sort(lines)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	ln.Close()
	lines = append(lines, "Port "+port, "ListenAddress 127.0.0.1", "PidFile none", "UsePAM no",
		"PermitRootLogin no", "KbdInteractiveAuthentication no", "LogLevel VERBOSE")
	lines = append(lines, conf...)
	cfg := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-t", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("sshd -t: %v\n%s", err, out)
	}
	// sshd logs to its stderr (-e), where it says "Server listening on"
	// once it listens: the test waits for that line, not for a port to
	// answer (a connection made to see it would count against MaxStartups).
	cmd := exec.Command(bin, "-D", "-e", "-f", cfg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its session children too
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		logMu sync.Mutex
		log   strings.Builder
	)
	listening, drained := make(chan bool, 1), make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			logMu.Lock()
			if log.Len() < 1<<20 {
				log.WriteString(sc.Text() + "\n")
			}
			logMu.Unlock()
			if !sent && strings.Contains(sc.Text(), "Server listening on") {
				listening <- true
				sent = true
			}
		}
		if !sent {
			listening <- false
		}
	}()
	sshdLog := func() string { logMu.Lock(); defer logMu.Unlock(); return log.String() }
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-drained
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", sshdLog())
		}
	})
	select {
	case ok := <-listening:
		if ok {
			return addr
		}
		t.Fatalf("sshd exited before listening on %s:\n%s", addr, sshdLog())
	case <-time.After(30 * time.Second):
		t.Fatalf("sshd did not listen on %s within 30s:\n%s", addr, sshdLog())
	}
	return ""
}

// TestOpenSSHFixedGroups: an OpenSSH server offering a single fixed-group
// key exchange (RFC 8268's SHA-2 ones and RFC 4253's legacy SHA-1 ones)
// completes a session with rampart, so the "none" request tells the
// authentication methods and the banner comes back.
func TestOpenSSHFixedGroups(t *testing.T) {
	dir := t.TempDir()
	banner := filepath.Join(dir, "banner.txt")
	const text = "Authorized use only. FIXED-GROUP-BANNER.\n"
	if err := os.WriteFile(banner, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c := New(Options{})
	for _, kex := range []string{"diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512",
		"diffie-hellman-group18-sha512", "diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"} {
		t.Run(kex, func(t *testing.T) {
			transcript.Run(t, transcript.Case{Name: "opensshd-" + kex, Live: func(t *testing.T) transcript.Target {
				return transcript.Target{Addr: openSSHD(t, "KexAlgorithms "+kex, "Banner "+banner, "PasswordAuthentication yes",
					"Ciphers aes128-ctr", "MACs hmac-sha2-256")}
			}, Check: func(t *testing.T, env *collect.Env, tg transcript.Target) {
				checkFixedGroup(t, c, env, tg.Addr, kex, text)
			}}, *update)
		})
	}
}

func checkFixedGroup(t *testing.T, c *Collector, env *collect.Env, addr, kex, text string) {
	got := collectSSHWith(t, c, "ssh://"+addr, env)
	if got.AuthError != "" || got.HostKeysError != "" {
		t.Fatalf("auth error %q, host keys error %q", got.AuthError, got.HostKeysError)
	}
	if got.Kex[0] != kex {
		t.Errorf("kex %v", got.Kex)
	}
	if want := []string{"publickey", "password"}; !slices.Equal(got.AuthMethods, want) {
		t.Errorf("auth methods %v, want %v", got.AuthMethods, want)
	}
	if got.PreAuthBanner != text {
		t.Errorf("banner %q, want %q", got.PreAuthBanner, text)
	}
	if !strings.HasPrefix(got.Banner, "SSH-2.0-OpenSSH_") {
		t.Errorf("identification %q", got.Banner)
	}
	bits := map[string]int{}
	for _, k := range got.HostKeys {
		bits[k.Algorithm] = k.Bits
	}
	if bits["ssh-ed25519"] != 256 || bits["rsa-sha2-512"] != 2048 {
		t.Errorf("host keys %v", bits)
	}
	// SSH-003 and SSH-004 can be judged now.
	st := judge(t, endpoint(t, "ssh://"+addr), got)
	if st["SSH-003"].Status != "fail" || st["SSH-004"].Status != "pass" {
		t.Errorf("SSH-003 %s (%s), SSH-004 %s (%s)", st["SSH-003"].Status, st["SSH-003"].Message, st["SSH-004"].Status, st["SSH-004"].Message)
	}
}

// TestOpenSSHFixedGroupNoPassword: the same with passwords off and no
// banner, so both rules turn the other way.
func TestOpenSSHFixedGroupNoPassword(t *testing.T) {
	transcript.Run(t, transcript.Case{Name: "opensshd-no-password", Live: func(t *testing.T) transcript.Target {
		return transcript.Target{Addr: openSSHD(t, "KexAlgorithms diffie-hellman-group16-sha512", "PasswordAuthentication no")}
	}, Check: checkNoPassword}, *update)
}

func checkNoPassword(t *testing.T, env *collect.Env, tg transcript.Target) {
	addr := tg.Addr
	got := collectSSHWith(t, New(Options{}), "ssh://"+addr, env)
	if got.AuthError != "" || !slices.Equal(got.AuthMethods, []string{"publickey"}) || got.PreAuthBanner != "" {
		t.Fatalf("auth %v error %q banner %q", got.AuthMethods, got.AuthError, got.PreAuthBanner)
	}
	st := judge(t, endpoint(t, "ssh://"+addr), got)
	if st["SSH-003"].Status != "pass" || st["SSH-004"].Status != "fail" {
		t.Errorf("SSH-003 %s, SSH-004 %s", st["SSH-003"].Status, st["SSH-004"].Status)
	}
}

// BenchmarkOpenSSHKex times a whole probe (identification, KEXINIT, every
// host key, the "none" request) of an OpenSSH server offering one key
// exchange method.
func BenchmarkOpenSSHKex(b *testing.B) {
	for _, kex := range []string{"curve25519-sha256", "diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512"} {
		b.Run(kex, func(b *testing.B) {
			addr := openSSHD(b, "KexAlgorithms "+kex)
			c := New(Options{})
			tg := endpoint(b, "ssh://"+addr)
			for b.Loop() {
				f, err := c.Collect(context.Background(), tg, &collect.Env{})
				if err != nil || f.SSH.AuthError != "" {
					b.Fatal(err, f.SSH.AuthError)
				}
			}
		})
	}
}

// chachaCase is an sshd offering only chacha20-poly1305@openssh.com with
// conf, and what the probe and the rules must make of it.
type chachaCase struct {
	name     string
	conf     []string
	methods  []string
	ssh003   finding.Status
	banner   bool
	ssh004   finding.Status
	contains string
}

// TestOpenSSHChaCha20Only: an OpenSSH server that offers only
// chacha20-poly1305@openssh.com (as tinyssh does) completes a session with
// rampart, so the "none" request tells the methods and SSH-003 is judged;
// without a banner SSH-004 fails, whatever the software.
func TestOpenSSHChaCha20Only(t *testing.T) {
	for _, tc := range []chachaCase{
		{"passwords, no banner", []string{"PasswordAuthentication yes"}, []string{"publickey", "password"}, finding.Fail, false, finding.Fail, "sends no banner"},
		{"keys only, banner", []string{"PasswordAuthentication no", "Banner BANNER"}, []string{"publickey"}, finding.Pass, true, finding.Pass, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			banner := filepath.Join(t.TempDir(), "banner.txt")
			if err := os.WriteFile(banner, []byte("Authorized use only.\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			conf := []string{"Ciphers chacha20-poly1305@openssh.com"}
			for _, l := range tc.conf {
				conf = append(conf, strings.ReplaceAll(l, "BANNER", banner))
			}
			transcript.Run(t, transcript.Case{Name: "opensshd-chacha20-" + strings.ReplaceAll(strings.ReplaceAll(tc.name, ",", ""), " ", "-"),
				Live: func(t *testing.T) transcript.Target { return transcript.Target{Addr: openSSHD(t, conf...)} },
				Check: func(t *testing.T, env *collect.Env, tg transcript.Target) {
					checkChaCha(t, env, tg.Addr, tc)
				}}, *update)
		})
	}
}

func checkChaCha(t *testing.T, env *collect.Env, addr string, tc chachaCase) {
	got := collectSSHWith(t, New(Options{}), "ssh://"+addr, env)
	if !slices.Equal(got.Ciphers, []string{"chacha20-poly1305@openssh.com"}) {
		t.Fatalf("ciphers %v", got.Ciphers)
	}
	if got.AuthError != "" || got.HostKeysError != "" {
		t.Fatalf("auth error %q, host keys error %q", got.AuthError, got.HostKeysError)
	}
	if !slices.Equal(got.AuthMethods, tc.methods) {
		t.Errorf("auth methods %v, want %v", got.AuthMethods, tc.methods)
	}
	if (got.PreAuthBanner != "") != tc.banner {
		t.Errorf("banner %q", got.PreAuthBanner)
	}
	st := judge(t, endpoint(t, "ssh://"+addr), got)
	if st["SSH-003"].Status != tc.ssh003 || st["SSH-004"].Status != tc.ssh004 || !strings.Contains(st["SSH-004"].Message, tc.contains) {
		t.Errorf("SSH-003 %s (%s), SSH-004 %s (%s)", st["SSH-003"].Status, st["SSH-003"].Message, st["SSH-004"].Status, st["SSH-004"].Message)
	}
}
