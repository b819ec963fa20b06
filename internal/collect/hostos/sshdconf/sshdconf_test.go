package sshdconf

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"

	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
)

func root(t *testing.T, dir string) *rootfs.Root {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return rootfs.New(r.FS(), dir)
}

func TestIncludeMatchAndFirstWins(t *testing.T) {
	c, err := ReadFiles(root(t, "testdata/root"), "/etc/ssh/sshd_config")
	if err != nil {
		t.Fatal(err)
	}
	s := Facts(c, "/etc/ssh/sshd_config", nil)
	if s.PermitRootLogin.Value != "no" || s.PermitRootLogin.Origin.File != "/etc/ssh/sshd_config.d/10-hardening.conf" || s.PermitRootLogin.Origin.Line != 2 {
		t.Errorf("PermitRootLogin %+v: the included file comes first and the first value wins", s.PermitRootLogin)
	}
	if s.PasswordAuthentication.Value != "no" || s.KbdInteractive.Value != "no" {
		t.Errorf("password %+v kbd %+v", s.PasswordAuthentication, s.KbdInteractive)
	}
	if s.Banner.Value != "/etc/issue.net" {
		t.Errorf("banner %+v", s.Banner)
	}
	if !slices.Equal(s.Ports, []int{22, 2200, 2222}) || !slices.Equal(s.ListenAddresses, []string{"10.0.9.5", "fd00::5"}) {
		t.Errorf("ports %v listen %v", s.Ports, s.ListenAddresses)
	}
	if s.PubkeyAuthentication.Set || s.PubkeyAuthentication.Value != "yes" || s.PubkeyAuthentication.Origin.Note != "OpenSSH default" {
		t.Errorf("pubkey %+v: the garbage line must not count", s.PubkeyAuthentication)
	}
	if s.Settings["x11forwarding"].Value != "no" {
		t.Errorf("x11forwarding %+v", s.Settings["x11forwarding"])
	}
	if len(s.Matches) != 2 || s.Matches[0].Criteria != "Group admins" || s.Matches[1].Settings["passwordauthentication"].Value != "yes" {
		t.Errorf("matches %+v", s.Matches)
	}
	// The Match in the included file ends with that file: AllowTcpForwarding
	// was not applied globally, nor was the main file's Port taken as a match setting.
	if _, ok := s.Settings["allowtcpforwarding"]; ok {
		t.Error("a Match setting leaked into the global settings")
	}
	if len(c.Problems) < 2 {
		t.Errorf("problems %v: the garbage lines must be reported", c.Problems)
	}
}

func TestDefaultsWhenEmpty(t *testing.T) {
	d := t.TempDir()
	os.MkdirAll(filepath.Join(d, "etc/ssh"), 0o755)
	os.WriteFile(filepath.Join(d, "etc/ssh/sshd_config"), []byte("# nothing\n"), 0o644)
	c, err := ReadFiles(root(t, d), "/etc/ssh/sshd_config")
	if err != nil {
		t.Fatal(err)
	}
	s := Facts(c, "/etc/ssh/sshd_config", nil)
	if !slices.Equal(s.Ports, []int{22}) || !slices.Equal(s.ListenAddresses, []string{"0.0.0.0", "::"}) ||
		s.PermitRootLogin.Value != "prohibit-password" || s.PermitRootLogin.Set || s.Banner.Value != "none" {
		t.Errorf("defaults: %+v", s)
	}
}

func TestIncludeLoopIsBounded(t *testing.T) {
	d := t.TempDir()
	os.MkdirAll(filepath.Join(d, "etc/ssh"), 0o755)
	os.WriteFile(filepath.Join(d, "etc/ssh/sshd_config"), []byte("Include sshd_config\nPort 2022\n"), 0o644)
	c, err := ReadFiles(root(t, d), "/etc/ssh/sshd_config")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Problems) == 0 || !strings.Contains(strings.Join(c.Problems, ";"), "deeper than") {
		t.Errorf("problems %v", c.Problems)
	}
}

// TestAgreesWithSSHDashT: for the eval targets' real configurations, the
// file reading gives what OpenSSH's own `sshd -T -f FILE` prints.
func TestAgreesWithSSHDashT(t *testing.T) {
	sshd := testenv.Tool(t, "sshd", "apt-get install openssh-server")
	dir := filepath.Join(testenv.Shared(t), "eval", "targets", "run")
	for _, name := range []string{"sshd-weak.conf", "sshd-strong.conf"} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name)
			if _, err := os.Stat(file); err != nil {
				testenv.Missing(t, "%s not generated (run ../shared/eval/targets/up.sh sshweak sshstrong)", file)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, sshd, "-T", "-f", file).Output()
			if err != nil {
				testenv.Missing(t, "sshd -T -f %s: %v (needs root and the host keys)", file, err)
			}
			want := Facts(ParseDashT(out), "sshd -T", nil)
			c, err := ReadFiles(root(t, "/"), file)
			if err != nil {
				t.Fatal(err)
			}
			got := Facts(c, file, nil)
			if !slices.Equal(got.Ports, want.Ports) || !slices.Equal(got.ListenAddresses, want.ListenAddresses) {
				t.Errorf("ports %v %v, sshd -T %v %v", got.Ports, got.ListenAddresses, want.Ports, want.ListenAddresses)
			}
			for _, k := range []string{"permitrootlogin", "passwordauthentication", "kbdinteractiveauthentication", "pubkeyauthentication", "x11forwarding", "maxauthtries", "logingracetime", "ciphers", "macs", "kexalgorithms"} {
				g, w := got.Settings[k].Value, want.Settings[k].Value
				if k == "logingracetime" {
					continue // sshd -T prints seconds, the file may say 2m
				}
				if !strings.EqualFold(g, w) {
					t.Errorf("%s: file %q, sshd -T %q", k, g, w)
				}
			}
			if (got.Banner.Value == "none") != (want.Banner.Value == "none") {
				t.Errorf("banner: file %q, sshd -T %q", got.Banner.Value, want.Banner.Value)
			}
		})
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, p := range []string{"testdata/root/etc/ssh/sshd_config", "testdata/root/etc/ssh/sshd_config.d/10-hardening.conf", "testdata/root/etc/ssh/sshd_config.d/20-garbage.conf"} {
		b, _ := os.ReadFile(p)
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		c := newConfig()
		p := &fileParser{c: c}
		p.parseText(text, "/etc/ssh/sshd_config", maxDepth, -1) // no Include is followed at the depth limit
		s := Facts(c, "file", nil)
		if len(s.Ports) == 0 || len(s.ListenAddresses) == 0 {
			t.Fatal("ports and listen addresses always have a value")
		}
	})
}

// A port sshd refuses, in Port or ListenAddress (from the files or from
// sshd -T), is not taken as a port sshd listens on: the configuration is
// one sshd does not start with, so the facts carry an error naming it and
// the rules report error. ListenAddress 10.0.0.1:70000 used to give port
// 70000 (4464 after the wrap a uint16 listener would do).
func TestPortsSSHDRefusesAreAnError(t *testing.T) {
	for _, c := range []struct{ conf, bad string }{
		{"ListenAddress 10.0.0.1:70000\n", "ListenAddress 10.0.0.1:70000"},
		{"ListenAddress [::1]:99999\n", "ListenAddress [::1]:99999"},
		{"ListenAddress 10.0.0.1:0\n", "ListenAddress 10.0.0.1:0"},
		{"ListenAddress 10.0.0.1:ssh\n", "ListenAddress 10.0.0.1:ssh"},
		{"ListenAddress [::1]2222\n", "ListenAddress [::1]2222"},
		{"Port 65536\n", "Port 65536"},
		{"Port 0\nPort 2222\n", "Port 0"},
	} {
		c2 := newConfig()
		(&fileParser{c: c2}).parseText(c.conf, "/etc/ssh/sshd_config", 0, -1)
		s := Facts(c2, "/etc/ssh/sshd_config", nil)
		if !strings.Contains(s.Error, c.bad) {
			t.Errorf("%q: error %q, want one naming %s", c.conf, s.Error, c.bad)
		}
		for _, p := range s.Ports {
			if p < 1 || p > 65535 {
				t.Errorf("%q: port %d", c.conf, p)
			}
		}
	}
	for _, conf := range []string{"ListenAddress [::1]:2222\nListenAddress 10.0.0.1:65535\nListenAddress ::1\nListenAddress [fe80::1]\nPort 22\n"} {
		c := newConfig()
		(&fileParser{c: c}).parseText(conf, "/etc/ssh/sshd_config", 0, -1)
		s := Facts(c, "/etc/ssh/sshd_config", nil)
		if s.Error != "" || !slices.Equal(s.Ports, []int{22, 2222, 65535}) {
			t.Errorf("%q: ports %v, error %q", conf, s.Ports, s.Error)
		}
	}
	s := Facts(ParseDashT([]byte("port 22\nlistenaddress 0.0.0.0:70000\n")), "sshd -T", nil)
	if !strings.Contains(s.Error, "70000") || slices.Contains(s.Ports, 70000) || slices.Contains(s.Ports, 70000-65536) {
		t.Errorf("sshd -T with port 70000: ports %v, error %q", s.Ports, s.Error)
	}
}

// FuzzParseDashT: every port given is 1 to 65535, and a listen address
// whose port is over 65535 makes the facts an error.
func FuzzParseDashT(f *testing.F) {
	f.Add("port 22\nlistenaddress [::]:22\nlistenaddress 0.0.0.0:22\npermitrootlogin without-password\n")
	f.Add("port 22\nlistenaddress 10.0.0.1:70000\n")
	f.Fuzz(func(t *testing.T, out string) {
		s := Facts(ParseDashT([]byte(out)), "sshd -T", nil)
		for _, p := range s.Ports {
			if p <= 0 || p > 65535 {
				t.Fatalf("port %d", p)
			}
		}
		for _, la := range ParseDashT([]byte(out)).values["listenaddress"] {
			if _, port, err := splitListen(la); err == nil && port > 65535 {
				t.Fatalf("%q: port %d accepted", la, port)
			}
			if _, _, err := splitListen(la); err != nil && s.Error == "" {
				t.Fatalf("%q refused (%v) but the facts have no error", la, err)
			}
		}
	})
}
