package server

import (
	"net"
	"os"
	"strings"
	"time"

	"github.com/rampart-sec/rampart/internal/target"
)

// NATSConfig says where the zone agents' NATS is: an embedded server
// (the default: JetStream files in data_dir/nats, TLS with the server's
// certificate) or an external cluster (url).
type NATSConfig struct {
	// Listen is the embedded server's address for agents (default
	// 127.0.0.1:4222; agents in other networks need an address they
	// reach, e.g. 0.0.0.0:4222, and that name in tls.hosts).
	Listen string `yaml:"listen"`
	// MaxPayload bounds a message on the embedded server (default 8 MiB).
	MaxPayload int32 `yaml:"max_payload"`
	// URL is an external NATS cluster (nats:// or tls://, comma-separated
	// seeds) instead of the embedded server.
	URL string `yaml:"url"`
	// The coordinator's credentials on the external cluster: a JWT .creds
	// file, a user with a password file, or an nkey seed file.
	Creds        string `yaml:"creds"`
	User         string `yaml:"user"`
	PasswordFile string `yaml:"password_file"`
	NKeyFile     string `yaml:"nkey_file"`
	// CA, Cert and Key: TLS to the external cluster.
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// Replicas of the streams on a cluster (default 1).
	Replicas int `yaml:"replicas"`
}

// ZonesConfig tunes the zone agents' jobs.
type ZonesConfig struct {
	// AckWait: a job whose agent goes silent this long goes to another
	// agent of the zone (default 1m; live agents signal progress).
	AckWait time.Duration `yaml:"ack_wait"`
	// MaxAttempts: deliveries before a job is dead-lettered (default 5).
	MaxAttempts int `yaml:"max_attempts"`
	// RoundTimeout: how long a schedule's round waits for its zones
	// before it is judged with what came (default 1h).
	RoundTimeout time.Duration `yaml:"round_timeout"`
	// AgentTimeout: an agent silent this long is not live (default 45s).
	AgentTimeout time.Duration `yaml:"agent_timeout"`
	// JobsMaxAge drops jobs no agent took within it (default 24h).
	JobsMaxAge time.Duration `yaml:"jobs_max_age"`
	// ResultsMaxBytes bounds results waiting to be stored (default 512 MiB;
	// when full, agents hold their results and retry).
	ResultsMaxBytes int64 `yaml:"results_max_bytes"`
	// MaxResultBytes bounds one result (default 4 MiB).
	MaxResultBytes int32 `yaml:"max_result_bytes"`
}

// InventoryZones returns the inventory's zones (none: no agents).
func (c *Config) InventoryZones() []target.Zone { return c.zones }

// External reports whether the zones' NATS is an external cluster.
func (n NATSConfig) External() bool { return n.URL != "" }

// checkZones validates the nats and zones settings and fills defaults.
func (c *Config) checkZones(add func(string, ...any)) {
	n, z := &c.NATS, &c.Zones
	if n.Listen == "" {
		n.Listen = "127.0.0.1:4222"
	}
	if _, _, err := net.SplitHostPort(n.Listen); err != nil {
		add("nats.listen %q: %v", n.Listen, err)
	}
	n.Creds, n.PasswordFile, n.NKeyFile = c.path(n.Creds), c.path(n.PasswordFile), c.path(n.NKeyFile)
	n.CA, n.Cert, n.Key = c.path(n.CA), c.path(n.Cert), c.path(n.Key)
	if n.URL != "" {
		for _, u := range strings.Split(n.URL, ",") {
			u = strings.TrimSpace(u)
			if !strings.HasPrefix(u, "nats://") && !strings.HasPrefix(u, "tls://") {
				add("nats.url %q: want nats:// or tls:// URLs", u)
			}
		}
		set := 0
		for _, s := range []string{n.Creds, n.User, n.NKeyFile} {
			if s != "" {
				set++
			}
		}
		if set != 1 {
			add("nats: an external cluster needs one of creds, user (with password_file) or nkey_file")
		}
		if n.User != "" && n.PasswordFile == "" {
			add("nats.user needs password_file")
		}
		for _, f := range []string{n.Creds, n.PasswordFile, n.NKeyFile, n.CA, n.Cert, n.Key} {
			if f != "" {
				if _, err := os.Stat(f); err != nil {
					add("nats: %v", err)
				}
			}
		}
	} else if n.Creds != "" || n.User != "" || n.NKeyFile != "" {
		add("nats: creds, user and nkey_file are for an external cluster (nats.url)")
	}
	if (n.Cert == "") != (n.Key == "") {
		add("nats: give both cert and key, or neither")
	}
	if n.Replicas < 0 || n.Replicas > 5 {
		add("nats.replicas %d: want 1-5", n.Replicas)
	}
	if n.MaxPayload < 0 || n.MaxPayload > 64<<20 {
		add("nats.max_payload %d: want at most 64 MiB", n.MaxPayload)
	}
	if z.AckWait == 0 {
		z.AckWait = time.Minute
	}
	if z.MaxAttempts == 0 {
		z.MaxAttempts = 5
	}
	if z.RoundTimeout == 0 {
		z.RoundTimeout = time.Hour
	}
	if z.AgentTimeout == 0 {
		z.AgentTimeout = 45 * time.Second
	}
	if z.AckWait < time.Second || z.RoundTimeout < time.Second || z.AgentTimeout < time.Second || z.JobsMaxAge < 0 {
		add("zones: ack_wait, round_timeout and agent_timeout must be at least 1s, jobs_max_age not negative")
	}
	if z.MaxAttempts < 1 || z.MaxAttempts > 100 {
		add("zones.max_attempts %d: want 1-100", z.MaxAttempts)
	}
	if z.ResultsMaxBytes < 0 || z.MaxResultBytes < 0 {
		add("zones: results_max_bytes and max_result_bytes must not be negative")
	}
}
