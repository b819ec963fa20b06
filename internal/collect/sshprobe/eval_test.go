package sshprobe

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/testenv"
	"github.com/rampart-sec/rampart/internal/testenv/transcript"
)

// evalExpect is what an eval sshd must show.
type evalExpect struct {
	banner, software string
	kex, hostAlgs    []string
	ciphers, macs    []string
	keyBits          map[string]int
	auth             []string
	preAuthBanner    string
	status           map[string]finding.Status
}

// Ground truth from /work/shared/eval/baseline/EXPECTED.md.
var evalWant = map[string]evalExpect{
	"127.0.0.1:2222": {
		banner:   "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10",
		software: "OpenSSH_9.2p1",
		kex: []string{"diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1",
			"diffie-hellman-group-exchange-sha256", "ecdh-sha2-nistp256", "curve25519-sha256", "kex-strict-s-v00@openssh.com"},
		hostAlgs: []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256"},
		ciphers:  []string{"3des-cbc", "aes128-cbc", "aes192-cbc", "aes256-cbc", "aes128-ctr", "aes256-ctr"},
		macs:     []string{"hmac-md5", "hmac-md5-96", "hmac-sha1", "hmac-sha1-96", "umac-64@openssh.com", "hmac-sha2-256"},
		keyBits:  map[string]int{"rsa-sha2-512": 1024, "rsa-sha2-256": 1024, "ssh-rsa": 1024, "ssh-dss": 1024, "ecdsa-sha2-nistp256": 256},
		auth:     []string{"publickey", "password", "keyboard-interactive"},
		status: map[string]finding.Status{
			"SSH-001": finding.Pass, "SSH-002": finding.NotApplicable, "SSH-003": finding.Fail,
			"SSH-004": finding.Fail, "SSH-005": finding.NotApplicable, "SSH-006": finding.Fail,
		},
	},
	"127.0.0.1:2223": {
		banner:        "SSH-2.0-OpenSSH_9.2p1",
		software:      "OpenSSH_9.2p1",
		kex:           []string{"sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org", "kex-strict-s-v00@openssh.com"},
		hostAlgs:      []string{"ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"},
		ciphers:       []string{"chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes256-ctr"},
		macs:          []string{"hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"},
		keyBits:       map[string]int{"ssh-ed25519": 256, "rsa-sha2-512": 4096, "rsa-sha2-256": 4096},
		auth:          []string{"publickey"},
		preAuthBanner: "*** Authorized use only. EVAL-HARDENED-BANNER. Activity is monitored. ***",
		status: map[string]finding.Status{
			"SSH-001": finding.Pass, "SSH-002": finding.NotApplicable, "SSH-003": finding.Pass,
			"SSH-004": finding.Pass, "SSH-005": finding.NotApplicable, "SSH-006": finding.Pass,
		},
	},
}

func TestEvalTargets(t *testing.T) {
	c := New(Options{})
	names := map[string]string{"127.0.0.1:2222": "eval-ssh-weak", "127.0.0.1:2223": "eval-ssh-strong"}
	for addr, want := range evalWant {
		t.Run(addr, func(t *testing.T) {
			transcript.Run(t, transcript.Case{Name: names[addr], Live: func(t *testing.T) transcript.Target {
				needEval(t, addr)
				return transcript.Target{Addr: addr}
			}, Check: func(t *testing.T, env *collect.Env, tg transcript.Target) {
				checkEvalTarget(t, c, env, addr, want)
			}}, *update)
		})
	}
}

func checkEvalTarget(t *testing.T, c *Collector, env *collect.Env, addr string, want evalExpect) {
	got := collectSSHWith(t, c, "ssh://"+addr, env)
	if got.Banner != want.banner || got.Software != want.software {
		t.Errorf("banner %q software %q, want %q %q", got.Banner, got.Software, want.banner, want.software)
	}
	for _, l := range []struct {
		name      string
		got, want []string
	}{{"kex", got.Kex, want.kex}, {"host key algorithms", got.HostKeyAlgs, want.hostAlgs},
		{"ciphers", got.Ciphers, want.ciphers}, {"macs", got.MACs, want.macs}, {"auth methods", got.AuthMethods, want.auth}} {
		if !slices.Equal(l.got, l.want) {
			t.Errorf("%s:\n got %v\nwant %v", l.name, l.got, l.want)
		}
	}
	if got.AuthError != "" || got.HostKeysError != "" {
		t.Errorf("auth error %q, host keys error %q", got.AuthError, got.HostKeysError)
	}
	bits := map[string]int{}
	for _, k := range got.HostKeys {
		bits[k.Algorithm] = k.Bits
		if !strings.HasPrefix(k.SHA256, "SHA256:") {
			t.Errorf("fingerprint %q", k.SHA256)
		}
	}
	if len(bits) != len(want.keyBits) {
		t.Errorf("host keys %v, want %v", bits, want.keyBits)
	}
	for alg, b := range want.keyBits {
		if bits[alg] != b {
			t.Errorf("host key %s: %d bits, want %d", alg, bits[alg], b)
		}
	}
	if strings.TrimSpace(got.PreAuthBanner) != want.preAuthBanner {
		t.Errorf("pre-auth banner %q, want %q", got.PreAuthBanner, want.preAuthBanner)
	}
	findings := judge(t, endpoint(t, "ssh://"+addr), got)
	for id, st := range want.status {
		if findings[id].Status != st {
			t.Errorf("%s: %s (%s), want %s", id, findings[id].Status, findings[id].Message, st)
		}
	}
}

// TestEvalMatchesSSHAudit compares the lists, key sizes and fingerprints
// with what ssh-audit reports for the same server, when it is installed.
func TestEvalMatchesSSHAudit(t *testing.T) {
	path := testenv.Tool(t, "ssh-audit", "../shared/eval/install-deps.sh installs it")
	c := New(Options{})
	for addr := range evalWant {
		t.Run(addr, func(t *testing.T) {
			needEval(t, addr)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, _ := exec.CommandContext(ctx, path, "-j", "-n", addr).Output() // exits 2/3 on warnings/failures
			var peer struct {
				Banner                struct{ Raw, Software string }
				Compression, Enc, Mac []string
				Kex, Key              []struct {
					Algorithm string
					Keysize   int
				}
				Fingerprints []struct {
					Hash    string `json:"hash"`
					HashAlg string `json:"hash_alg"`
					Hostkey string `json:"hostkey"`
				}
			}
			if err := json.Unmarshal(out, &peer); err != nil {
				t.Fatalf("ssh-audit -j: %v: %.200s", err, out)
			}
			got := collectSSH(t, c, "ssh://"+addr)
			names := func(l []struct {
				Algorithm string
				Keysize   int
			}) []string {
				var s []string
				for _, x := range l {
					s = append(s, x.Algorithm)
				}
				return s
			}
			if got.Banner != peer.Banner.Raw || got.Software != peer.Banner.Software {
				t.Errorf("banner %q/%q, ssh-audit %q/%q", got.Banner, got.Software, peer.Banner.Raw, peer.Banner.Software)
			}
			for _, l := range []struct {
				name      string
				got, peer []string
			}{{"kex", got.Kex, names(peer.Kex)}, {"host keys", got.HostKeyAlgs, names(peer.Key)},
				{"ciphers", got.Ciphers, peer.Enc}, {"macs", got.MACs, peer.Mac}, {"compression", got.Compression, peer.Compression}} {
				if !slices.Equal(l.got, l.peer) {
					t.Errorf("%s:\n rampart   %v\n ssh-audit %v", l.name, l.got, l.peer)
				}
			}
			byAlg := map[string]facts.HostKey{}
			for _, k := range got.HostKeys {
				byAlg[k.Algorithm] = k
			}
			for _, k := range peer.Key {
				if k.Keysize > 0 && byAlg[k.Algorithm].Bits != k.Keysize {
					t.Errorf("%s: %d bits, ssh-audit %d", k.Algorithm, byAlg[k.Algorithm].Bits, k.Keysize)
				}
			}
			checked := 0
			for _, fp := range peer.Fingerprints {
				if fp.HashAlg != "SHA256" {
					continue
				}
				checked++
				found := false
				for _, k := range got.HostKeys {
					found = found || k.SHA256 == "SHA256:"+fp.Hash
				}
				if !found {
					t.Errorf("ssh-audit fingerprint %s of %s not found in %v", fp.Hash, fp.Hostkey, got.HostKeys)
				}
			}
			if checked == 0 {
				t.Error("ssh-audit reported no SHA256 fingerprint")
			}
		})
	}
}
