package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestZonesConfig(t *testing.T) {
	dir := t.TempDir()
	inv := `inventory:
  zones: [{name: dmz, role: dmz}, {name: corp, role: internal}]
  targets:
    - {name: gw, address: "https://10.0.0.1:8243/", reach: [{port: 8243, from: [any]}]}
`
	cfg, err := ParseConfig([]byte(inv), filepath.Join(dir, "serve.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.InventoryZones()) != 2 || cfg.NATS.Listen != "127.0.0.1:4222" || cfg.NATS.External() {
		t.Errorf("defaults: %+v %+v", cfg.InventoryZones(), cfg.NATS)
	}
	if z := cfg.Zones; z.AckWait != time.Minute || z.MaxAttempts != 5 || z.RoundTimeout != time.Hour || z.AgentTimeout != 45*time.Second {
		t.Errorf("zones defaults: %+v", z)
	}
	if err := os.WriteFile(filepath.Join(dir, "nats.pw"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err = ParseConfig([]byte(inv+"nats: {url: \"tls://n1:4222,tls://n2:4222\", user: rampart-server, password_file: nats.pw, replicas: 3}\n"), filepath.Join(dir, "serve.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.NATS.External() || cfg.NATS.PasswordFile != filepath.Join(dir, "nats.pw") || cfg.NATS.Replicas != 3 {
		t.Errorf("external: %+v", cfg.NATS)
	}
	for _, c := range []struct{ yaml, want string }{
		{"nats: {listen: nowhere}", `nats.listen "nowhere"`},
		{"nats: {url: \"http://n1:4222\", creds: x}", "want nats:// or tls://"},
		{"nats: {url: \"tls://n1:4222\"}", "needs one of creds"},
		{"nats: {url: \"tls://n1:4222\", user: u}", "nats.user needs password_file"},
		{"nats: {creds: c.creds}", "are for an external cluster"},
		{"nats: {cert: c.pem}", "both cert and key"},
		{"zones: {max_attempts: 0, ack_wait: 10ms}", "at least 1s"},
		{"zones: {max_attempts: 1000}", "max_attempts 1000"},
	} {
		_, err := ParseConfig([]byte(inv+c.yaml+"\n"), filepath.Join(dir, "serve.yaml"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.yaml, err, c.want)
		}
	}
}
