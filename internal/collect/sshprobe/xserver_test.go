package sshprobe

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net"
	"slices"
	"testing"

	"golang.org/x/crypto/ssh"
)

// xServer runs golang.org/x/crypto/ssh's server (a second, independent SSH
// implementation) on loopback with the given algorithms.
func xServer(t *testing.T, cfg *ssh.ServerConfig, signers ...ssh.Signer) string {
	t.Helper()
	for _, s := range signers {
		cfg.AddHostKey(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
				if err != nil {
					return
				}
				defer sc.Close()
				go ssh.DiscardRequests(reqs)
				for ch := range chans {
					ch.Reject(ssh.Prohibited, "no")
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func signer(t *testing.T, key any) ssh.Signer {
	t.Helper()
	s, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestXCryptoServer(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	deny := errors.New("denied")

	cases := []struct {
		name    string
		cfg     func() *ssh.ServerConfig
		auth    []string
		banner  string
		keyBits map[string]int
	}{
		{
			name: "gcm, passwords and keys, banner",
			cfg: func() *ssh.ServerConfig {
				c := &ssh.ServerConfig{
					PasswordCallback:  func(ssh.ConnMetadata, []byte) (*ssh.Permissions, error) { return nil, deny },
					PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, deny },
					BannerCallback:    func(ssh.ConnMetadata) string { return "Authorized use only\n" },
				}
				c.KeyExchanges = []string{"curve25519-sha256"}
				c.Ciphers = []string{"aes128-gcm@openssh.com"}
				return c
			},
			auth:    []string{"password", "publickey"}, // x/crypto's order
			banner:  "Authorized use only\n",
			keyBits: map[string]int{"ssh-ed25519": 256, "rsa-sha2-256": 2048, "rsa-sha2-512": 2048, "ssh-rsa": 2048, "ecdsa-sha2-nistp384": 384},
		},
		{
			name: "nistp384, ctr and etm, keyboard-interactive",
			cfg: func() *ssh.ServerConfig {
				c := &ssh.ServerConfig{
					KeyboardInteractiveCallback: func(ssh.ConnMetadata, ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
						return nil, deny
					},
				}
				c.KeyExchanges = []string{"ecdh-sha2-nistp384"}
				c.Ciphers = []string{"aes256-ctr"}
				c.MACs = []string{"hmac-sha2-512-etm@openssh.com"}
				return c
			},
			auth:    []string{"keyboard-interactive"},
			keyBits: map[string]int{"ssh-ed25519": 256, "rsa-sha2-256": 2048, "rsa-sha2-512": 2048, "ssh-rsa": 2048, "ecdsa-sha2-nistp384": 384},
		},
		{
			name: "group exchange, cbc with hmac-sha1",
			cfg: func() *ssh.ServerConfig {
				c := &ssh.ServerConfig{
					PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, deny },
				}
				c.KeyExchanges = []string{"diffie-hellman-group-exchange-sha256"}
				c.Ciphers = []string{"aes128-cbc"}
				c.MACs = []string{"hmac-sha1"}
				return c
			},
			auth:    []string{"publickey"},
			keyBits: map[string]int{"ssh-ed25519": 256, "rsa-sha2-256": 2048, "rsa-sha2-512": 2048, "ssh-rsa": 2048, "ecdsa-sha2-nistp384": 384},
		},
		{
			name: "fixed group 14 with sha256, ctr",
			cfg: func() *ssh.ServerConfig {
				c := &ssh.ServerConfig{
					PasswordCallback: func(ssh.ConnMetadata, []byte) (*ssh.Permissions, error) { return nil, deny },
				}
				c.KeyExchanges = []string{"diffie-hellman-group14-sha256"}
				c.Ciphers = []string{"aes128-ctr"}
				return c
			},
			auth:    []string{"password"},
			keyBits: map[string]int{"ssh-ed25519": 256, "rsa-sha2-256": 2048, "rsa-sha2-512": 2048, "ssh-rsa": 2048, "ecdsa-sha2-nistp384": 384},
		},
		{
			name: "fixed group 16 with sha512, gcm",
			cfg: func() *ssh.ServerConfig {
				c := &ssh.ServerConfig{
					PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, deny },
					BannerCallback:    func(ssh.ConnMetadata) string { return "group 16\n" },
				}
				c.KeyExchanges = []string{"diffie-hellman-group16-sha512"}
				c.Ciphers = []string{"aes256-gcm@openssh.com"}
				return c
			},
			auth:    []string{"publickey"},
			banner:  "group 16\n",
			keyBits: map[string]int{"ssh-ed25519": 256, "rsa-sha2-256": 2048, "rsa-sha2-512": 2048, "ssh-rsa": 2048, "ecdsa-sha2-nistp384": 384},
		},
		{
			name: "chacha20-poly1305 only, banner",
			cfg: func() *ssh.ServerConfig {
				c := &ssh.ServerConfig{
					PasswordCallback: func(ssh.ConnMetadata, []byte) (*ssh.Permissions, error) { return nil, deny },
					BannerCallback:   func(ssh.ConnMetadata) string { return "chacha only\n" },
				}
				c.KeyExchanges = []string{"curve25519-sha256"}
				c.Ciphers = []string{"chacha20-poly1305@openssh.com"}
				return c
			},
			auth:    []string{"password"},
			banner:  "chacha only\n",
			keyBits: map[string]int{"ssh-ed25519": 256, "rsa-sha2-256": 2048, "rsa-sha2-512": 2048, "ssh-rsa": 2048, "ecdsa-sha2-nistp384": 384},
		},
		{
			name: "no authentication at all",
			cfg: func() *ssh.ServerConfig {
				c := &ssh.ServerConfig{NoClientAuth: true}
				c.KeyExchanges = []string{"curve25519-sha256"}
				return c
			},
			auth:    []string{"none"},
			keyBits: map[string]int{"ssh-ed25519": 256, "rsa-sha2-256": 2048, "rsa-sha2-512": 2048, "ssh-rsa": 2048, "ecdsa-sha2-nistp384": 384},
		},
	}
	c := New(Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := xServer(t, tc.cfg(), signer(t, edKey), signer(t, rsaKey), signer(t, ecKey))
			got := collectSSH(t, c, "ssh://"+addr)
			if got.AuthError != "" || got.HostKeysError != "" {
				t.Fatalf("auth error %q, host keys error %q", got.AuthError, got.HostKeysError)
			}
			if !slices.Equal(got.AuthMethods, tc.auth) {
				t.Errorf("auth methods %v, want %v", got.AuthMethods, tc.auth)
			}
			if got.PreAuthBanner != tc.banner {
				t.Errorf("banner %q, want %q", got.PreAuthBanner, tc.banner)
			}
			bits := map[string]int{}
			for _, k := range got.HostKeys {
				bits[k.Algorithm] = k.Bits
			}
			for alg, b := range tc.keyBits {
				if bits[alg] != b {
					t.Errorf("host key %s: %d bits, want %d (all: %v)", alg, bits[alg], b, bits)
				}
			}
			want := tc.cfg()
			if !slices.Equal(got.Kex[:1], want.KeyExchanges) {
				t.Errorf("kex %v, want %v first", got.Kex, want.KeyExchanges)
			}
			if want.Ciphers != nil && !slices.Equal(got.Ciphers, want.Ciphers) {
				t.Errorf("ciphers %v, want %v", got.Ciphers, want.Ciphers)
			}
		})
	}
}
