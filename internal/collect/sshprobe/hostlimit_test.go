package sshprobe

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"

	"golang.org/x/crypto/ssh"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
)

// threeKeyServer runs x/crypto/ssh's server with three host key types, so
// the probe opens three connections.
func threeKeyServer(t *testing.T) string {
	t.Helper()
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cfg := &ssh.ServerConfig{PasswordCallback: func(ssh.ConnMetadata, []byte) (*ssh.Permissions, error) {
		return nil, errors.New("denied")
	}}
	return xServer(t, cfg, signer(t, edKey), signer(t, rsaKey), signer(t, ecKey))
}

// TestSharedHostBudget: the SSH prober's connections take slots of the
// scan's shared per-host limiter (Env.Hosts), keyed like the TLS and HTTP
// probers' by the lower-cased host.
func TestSharedHostBudget(t *testing.T) {
	addr := threeKeyServer(t)
	_, port, _ := net.SplitHostPort(addr)
	hosts := collect.NewHostLimiter(1)
	cd := &testenv.CountingDialer{}
	env := &collect.Env{Hosts: hosts, PerHost: 5, Dialer: cd}
	c := New(Options{})

	// Another collector holds the host's only slot: the probe waits and
	// opens nothing until its context ends. (The key is the lower-cased
	// host: the target is written in upper case.)
	release, err := hosts.Acquire(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err = c.Collect(ctx, endpoint(t, "ssh://LOCALHOST:"+port), env)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "waiting for a connection slot") {
		t.Fatalf("collect while the slot is taken: %v", err)
	}
	if _, total := cd.Stats(); total != 0 {
		t.Fatalf("%d connections opened without a slot", total)
	}
	release()

	// With the slot free, one connection at a time although PerHost is 5:
	// the shared limiter's size is the budget.
	got := collectSSHEnv(t, c, "ssh://LOCALHOST:"+port, env)
	maxOpen, total := cd.Stats()
	if got.AuthError != "" || len(got.HostKeys) < 3 {
		t.Fatalf("auth error %q, %d host keys", got.AuthError, len(got.HostKeys))
	}
	if total < 3 || maxOpen != 1 {
		t.Errorf("%d connections, %d at once; want at least 3, one at a time", total, maxOpen)
	}
	// Every slot came back.
	r, err := hosts.Acquire(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	r()
}

func collectSSHEnv(t *testing.T, c *Collector, s string, env *collect.Env) *facts.SSH {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := c.Collect(ctx, endpoint(t, s), env)
	if err != nil || f == nil || f.SSH == nil {
		t.Fatalf("collect %s: %v", s, err)
	}
	return f.SSH
}
