package hostos

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/cmdexec"
	"github.com/rampart-sec/rampart/internal/collect/hostos/procfs"
	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
)

func liveTarget() target.Target { return target.Target{Name: "local", Kind: target.Host, Dir: "/"} }

// TestLiveMachine runs the collector on the machine the tests run on and
// checks what holds on any Linux: this process, listening on a loopback
// port it opened, is found as the owner of that socket.
func TestLiveMachine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	f := collectHost(t, liveTarget(), &collect.Env{})
	h := f.Host
	if h.OS.ID == "" || h.OS.PrettyName == "" || h.OS.Kernel == "" || h.MemoryMB <= 0 || h.Hostname == "" {
		t.Errorf("os %+v hostname %q memory %d", h.OS, h.Hostname, h.MemoryMB)
	}
	found := false
	for _, l := range h.Listeners {
		if l.Port == port && l.Address == "127.0.0.1" {
			found = true
			if l.PID != os.Getpid() || !l.Loopback || l.AllInterfaces {
				t.Errorf("our listener %+v, want pid %d", l, os.Getpid())
			}
		}
	}
	if !found {
		t.Errorf("our listener on 127.0.0.1:%d not found in %+v", port, h.Listeners)
	}
	if len(f.Status) != 0 {
		t.Errorf("status %+v: nothing should fail on the live root", f.Status)
	}

	r, _ := os.OpenRoot("/")
	defer r.Close()
	procs, err := procfs.Processes(rootfs.New(r.FS(), "/"))
	if err != nil {
		t.Fatal(err)
	}
	self := false
	for _, p := range procs {
		if p.PID == os.Getpid() {
			self = p.UID == os.Getuid() && len(p.Args) > 0
		}
	}
	if !self {
		t.Error("this test process is not in the process table")
	}
}

// TestLiveJavaProduct starts a real JVM with WSO2's -Dcarbon.home and
// finds it, its flags and its JDK version from /proc.
func TestLiveJavaProduct(t *testing.T) {
	java := testenv.Tool(t, "java", "apt-get install openjdk-17-jdk-headless")
	dir := t.TempDir()
	home := filepath.Join(dir, "wso2am-4.5.0")
	os.MkdirAll(filepath.Join(home, "bin"), 0o755)
	os.WriteFile(filepath.Join(home, "bin/version.txt"), []byte("WSO2 API Manager v4.5.0\n"), 0o644)
	src := filepath.Join(dir, "Idle.java")
	os.WriteFile(src, []byte("public class Idle { public static void main(String[] a) throws Exception { System.out.println(\"up\"); Thread.sleep(60000); } }\n"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, java, "-Xmx96m", "-Djdk.tls.ephemeralDHKeySize=3072", "-Dhttpclient.hostnameVerifier=AllowAll",
		"-Dcarbon.home="+home, src)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	buf := make([]byte, 3)
	if _, err := out.Read(buf); err != nil { // wait until the JVM runs main
		t.Fatalf("java did not start: %v", err)
	}
	f := collectHost(t, liveTarget(), &collect.Env{})
	for _, p := range f.Host.Processes {
		if p.PID != cmd.Process.Pid {
			continue
		}
		if p.ProductHome != home || p.Profile != "wso2-apim" || p.JVM.HeapMaxMB != 96 || p.JVM.DHKeySize != 3072 ||
			p.JVM.HostnameVerifier != "AllowAll" || p.JDKMajor == 0 || p.UID != os.Getuid() {
			t.Errorf("process %+v", p)
		}
		if !strings.Contains(strings.Join(f.Host.ProductHomes, ","), home) {
			t.Errorf("product homes %v", f.Host.ProductHomes)
		}
		return
	}
	t.Fatalf("java pid %d not found among %+v", cmd.Process.Pid, f.Host.Processes)
}

// TestHangingCommands: an nft and an sshd that never return are killed at
// the executor's timeout; the collector falls back to files and says so.
func TestHangingCommands(t *testing.T) {
	bin := t.TempDir()
	for _, n := range []string{"nft", "iptables-save", "ip6tables-save", "sshd"} {
		os.WriteFile(filepath.Join(bin, n), []byte("#!/bin/sh\nsleep 300\n"), 0o755)
	}
	env := &collect.Env{Exec: cmdexec.New(cmdexec.Options{Dirs: []string{bin}, Timeout: 300 * time.Millisecond})}
	start := time.Now()
	f := collectHost(t, liveTarget(), env)
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("took %v", d)
	}
	if !strings.Contains(f.Host.Firewall.Source, "timed out") {
		t.Errorf("firewall source %q should say the command timed out", f.Host.Firewall.Source)
	}
	if f.Host.SSHD.Present && !strings.Contains(f.Host.SSHD.Source, "sshd -T failed") {
		t.Errorf("sshd source %q", f.Host.SSHD.Source)
	}
}

func BenchmarkCollectLive(b *testing.B) {
	env := &collect.Env{Exec: cmdexec.New(cmdexec.Options{})}
	for b.Loop() {
		if _, err := collect.Collect(context.Background(), New(), liveTarget(), env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCollectFakeRoot(b *testing.B) {
	tg := hostTarget(fakeRoot(b, "hardened"), decl)
	for b.Loop() {
		if _, err := collect.Collect(context.Background(), New(), tg, &collect.Env{}); err != nil {
			b.Fatal(err)
		}
	}
}
