package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
)

func TestAgentUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"agent", "--zone", "DMZ", "--server", "tls://x:4222"}, `--zone "DMZ"`},
		{[]string{"agent", "--zone", "dmz", "--name", "a"}, "needs --server"},
		{[]string{"agent", "--zone", "dmz", "--name", "a", "--server", "tls://x:4222"}, "needs credentials"},
		{[]string{"agent", "--zone", "dmz", "--name", "a", "--server", "tls://x:4222", "--password-file", "/nonexistent"}, "--password-file"},
		{[]string{"agent", "keygen"}, "needs --out"},
	} {
		r := runCLI(t, nil, false, c.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

func TestAgentKeygen(t *testing.T) {
	out := filepath.Join(t.TempDir(), "a.nk")
	r := runCLI(t, nil, false, "agent", "keygen", "--out", out)
	if r.code != ExitOK {
		t.Fatalf("keygen: %d %s", r.code, r.stderr)
	}
	pub := strings.TrimSpace(r.stdout)
	if !nkeys.IsValidPublicUserKey(pub) {
		t.Fatalf("public key %q", pub)
	}
	seed, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(out)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("seed file mode %v", fi.Mode().Perm())
	}
	kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(string(seed))))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := kp.PublicKey(); got != pub {
		t.Errorf("seed's public key %s, printed %s", got, pub)
	}
	if r := runCLI(t, nil, false, "agent", "keygen", "--out", out); r.code != ExitUsage {
		t.Errorf("keygen over an existing file: %d", r.code)
	}
}
