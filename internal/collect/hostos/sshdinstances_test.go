package hostos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/cmdexec"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/testenv"
)

func put(t *testing.T, root, p, content string) {
	t.Helper()
	f := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The weak root's /etc/ssh/sshd_config allows root and passwords, but the
// sshd that runs was started with -f /etc/ssh/admin.conf (hardened) and
// -o over it: the rules judge what runs, not the unused system file.
func TestSSHDStartedWithAnotherConfig(t *testing.T) {
	dir := fakeRoot(t, "weak")
	put(t, dir, "proc/50/cmdline", "sshd: /usr/sbin/sshd -D -f /etc/ssh/admin.conf -o Banner=/etc/issue.net [listener] 0 of 10-100 startups\x00")
	put(t, dir, "etc/ssh/admin.conf", "Port 2222\nListenAddress 10.0.9.5\nPermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nBanner none\n")
	f := collectHost(t, hostTarget(dir, decl), nil)
	if n := len(f.Host.SSHDInstances); n != 1 {
		t.Fatalf("%d instances: %+v", n, f.Host.SSHDInstances)
	}
	inst := f.Host.SSHDInstances[0]
	if inst.PID != 50 || inst.ConfigFile != "/etc/ssh/admin.conf" || inst.Banner.Value != "/etc/issue.net" || inst.PermitRootLogin.Value != "no" {
		t.Errorf("instance %+v", inst)
	}
	got := judgeHost(t, f)
	for _, id := range []string{"SSH-002", "SSH-003", "SSH-004"} {
		if got[id].Status != finding.Pass {
			t.Errorf("%s: %s %s (judged from the system file?)", id, got[id].Status, got[id].Message)
		}
	}
	// It really listens on 0.0.0.0:22 and [::]:22, whatever admin.conf says.
	if got["SSH-001"].Status != finding.Fail || got["SSH-005"].Status != finding.Fail {
		t.Errorf("SSH-001 %s, SSH-005 %s: the sockets decide", got["SSH-001"].Status, got["SSH-005"].Status)
	}
}

// Two sshd servers: each is judged, and the failing one is named.
func TestTwoSSHDInstances(t *testing.T) {
	dir := fakeRoot(t, "hardened")
	put(t, dir, "proc/51/status", "Name:\tsshd\nPPid:\t1\nUid:\t0\t0\t0\t0\n")
	put(t, dir, "proc/51/cmdline", "/usr/sbin/sshd\x00-D\x00-f\x00/srv/legacy/sshd.conf\x00-p\x002200\x00")
	put(t, dir, "srv/legacy/sshd.conf", "PermitRootLogin yes\nPasswordAuthentication yes\nBanner /etc/issue.net\n")
	tcp, _ := os.ReadFile(filepath.Join(dir, "proc/net/tcp"))
	tcp = append(tcp, []byte("   9: 00000000:0898 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1010 1 0000000000000000 100 0 0 10 0\n")...)
	put(t, dir, "proc/net/tcp", string(tcp))
	if err := os.Symlink("socket:[1010]", filepath.Join(dir, "proc/51/fd/3")); err != nil {
		os.MkdirAll(filepath.Join(dir, "proc/51/fd"), 0o755)
		if err := os.Symlink("socket:[1010]", filepath.Join(dir, "proc/51/fd/3")); err != nil {
			t.Fatal(err)
		}
	}
	f := collectHost(t, hostTarget(dir, decl), nil)
	if n := len(f.Host.SSHDInstances); n != 2 {
		t.Fatalf("%d instances: %+v", n, f.Host.SSHDInstances)
	}
	legacy := f.Host.SSHDInstances[1]
	if legacy.PID != 51 || legacy.ConfigFile != "/srv/legacy/sshd.conf" || strings.Join(legacy.Listening, ",") != "0.0.0.0:2200" {
		t.Errorf("legacy instance %+v", legacy)
	}
	got := judgeHost(t, f)
	for _, id := range []string{"SSH-002", "SSH-003"} {
		if got[id].Status != finding.Fail || !strings.Contains(got[id].Message, "/srv/legacy/sshd.conf") || strings.Contains(got[id].Message, "/etc/ssh/sshd_config (pid") {
			t.Errorf("%s: %s %s", id, got[id].Status, got[id].Message)
		}
	}
}

// /etc/ssh/sshd_config exists but no sshd listens: nothing to judge on
// this host (the probe judges reachable SSH servers).
func TestSSHDConfiguredButNotRunning(t *testing.T) {
	dir := fakeRoot(t, "weak")
	os.RemoveAll(filepath.Join(dir, "proc/50")) // the sshd process and its sockets' owner
	tcp, _ := os.ReadFile(filepath.Join(dir, "proc/net/tcp"))
	put(t, dir, "proc/net/tcp", strings.Replace(string(tcp), "00000000:0016", "00000000:1F91", 1))
	f := collectHost(t, hostTarget(dir, decl), nil)
	if len(f.Host.SSHDInstances) != 0 || !f.Host.SSHD.Present {
		t.Fatalf("instances %+v, system %+v", f.Host.SSHDInstances, f.Host.SSHD.Present)
	}
	got := judgeHost(t, f)
	for _, id := range []string{"SSH-001", "SSH-002", "SSH-003", "SSH-004", "SSH-005"} {
		if got[id].Status != finding.NotApplicable || !strings.Contains(got[id].Message, "no sshd listens") {
			t.Errorf("%s: %s %s", id, got[id].Status, got[id].Message)
		}
	}
}

// This machine runs the eval sshd servers, each started with -f: the weak
// one on 127.0.0.1:2222 fails SSH-002/003 by its own configuration file,
// the strong one on 2223 passes them, and nothing listens on port 22.
func TestLiveEvalSSHDInstances(t *testing.T) {
	testenv.Listening(t, "127.0.0.1:2222", "the eval sshd targets: ../shared/eval")
	testenv.Listening(t, "127.0.0.1:2223", "the eval sshd targets: ../shared/eval")
	if os.Geteuid() != 0 {
		testenv.Missing(t, "the owners of root's sockets are readable by root only")
	}
	f := collectHost(t, liveTarget(), &collect.Env{Exec: cmdexec.New(cmdexec.Options{})})
	by := map[string]string{}
	for _, s := range f.Host.SSHDInstances {
		for _, l := range s.Listening {
			by[l] = s.ConfigFile
		}
	}
	if !strings.HasSuffix(by["127.0.0.1:2222"], "sshd-weak.conf") || !strings.HasSuffix(by["127.0.0.1:2223"], "sshd-strong.conf") {
		t.Fatalf("instances by socket: %v", by)
	}
	got := judgeHost(t, f)
	for _, id := range []string{"SSH-002", "SSH-003"} {
		if got[id].Status != finding.Fail || !strings.Contains(got[id].Message, "sshd-weak.conf") || strings.Contains(got[id].Message, "sshd-strong.conf") {
			t.Errorf("%s: %s %s", id, got[id].Status, got[id].Message)
		}
	}
}
