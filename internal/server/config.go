package server

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rampart-sec/rampart/internal/alert"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/server/schedule"
	"github.com/rampart-sec/rampart/internal/server/sso"
	"github.com/rampart-sec/rampart/internal/target"
)

// Config is `rampart serve`'s one configuration file.
type Config struct {
	// Listen is the HTTPS address (host:port). Default 127.0.0.1:8843.
	Listen string `yaml:"listen"`
	// DataDir holds the SQLite database, the generated certificate and
	// the secrets key. Default ./rampart-data.
	DataDir string `yaml:"data_dir"`
	// Storage is a postgres:// DSN; empty means SQLite in DataDir.
	Storage string    `yaml:"storage"`
	TLS     TLSConfig `yaml:"tls"`
	// Inventory is a path to an inventory file, or an inline inventory.
	Inventory yaml.Node        `yaml:"inventory"`
	Schedules []ScheduleConfig `yaml:"schedules"`
	Scan      ScanConfig       `yaml:"scan"`
	// Waivers and Attestations are files applied to scheduled scans.
	Waivers      []string      `yaml:"waivers"`
	Attestations []string      `yaml:"attestations"`
	Alerts       AlertsConfig  `yaml:"alerts"`
	Monitor      MonitorConfig `yaml:"monitor"`
	Metrics      MetricsConfig `yaml:"metrics"`
	Admin        AdminConfig   `yaml:"admin"`
	// Retention drops runs (but never a target's latest), health samples
	// and delivered alerts older than this; 0 keeps everything.
	Retention time.Duration `yaml:"retention"`
	// SessionTTL is how long a dashboard sign-in lasts. Default 8h.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// SLA is how many days a failing finding of each severity may stay
	// unfixed before it is overdue.
	SLA SLAConfig `yaml:"sla"`
	// InviteTTL is how long a one-time setup link (a new user's
	// invitation, a password reset) stays valid. Default 72h.
	InviteTTL time.Duration `yaml:"invite_ttl"`

	// OIDC signs people in through an OpenID Connect provider (besides
	// local accounts).
	OIDC sso.Config `yaml:"oidc"`

	// NATS and Zones configure the zone agents (the inventory's zones).
	NATS  NATSConfig  `yaml:"nats"`
	Zones ZonesConfig `yaml:"zones"`

	// Resolved by Load.
	zones     []target.Zone
	base      string
	targets   []target.Target
	schedules []schedule.Schedule
}

// SLAConfig is the days allowed to fix a failure, per severity (0: no
// SLA for that severity).
type SLAConfig struct {
	Critical int `yaml:"critical"`
	High     int `yaml:"high"`
	Medium   int `yaml:"medium"`
	Low      int `yaml:"low"`
	Info     int `yaml:"info"`
}

// Days returns the days allowed for a severity.
func (c SLAConfig) Days(sev finding.Severity) int {
	switch sev {
	case finding.Critical:
		return c.Critical
	case finding.High:
		return c.High
	case finding.Medium:
		return c.Medium
	case finding.Low:
		return c.Low
	case finding.Info:
		return c.Info
	}
	return 0
}

// TLSConfig names the server's certificate; without one a CA and a
// server certificate (ECDSA P-256, SHA-256) are generated in DataDir.
type TLSConfig struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// Hosts are the names and addresses the generated certificate is for
	// (localhost, 127.0.0.1 and ::1 are always included).
	Hosts []string `yaml:"hosts"`
}

// ScheduleConfig is one scheduled audit.
type ScheduleConfig struct {
	Name string `yaml:"name"`
	// Every is an interval (15m, 6h); Cron a five-field cron expression.
	Every time.Duration `yaml:"every"`
	Cron  string        `yaml:"cron"`
	// Targets names inventory targets; empty means all.
	Targets []string `yaml:"targets"`
	// RunAtStart runs the schedule once as soon as the server starts.
	RunAtStart bool `yaml:"run_at_start"`
	// OnFirstRun overrides alerts.on_first_run for this schedule's runs.
	OnFirstRun string `yaml:"on_first_run"`
}

// ScanConfig tunes scheduled scans like the scan command's flags.
type ScanConfig struct {
	Timeout      time.Duration `yaml:"timeout"`
	Concurrency  int           `yaml:"concurrency"`
	PerHost      int           `yaml:"per_host"`
	Role         string        `yaml:"role"`
	CABundle     string        `yaml:"ca_bundle"`
	CertWarnDays int           `yaml:"cert_warn_days"`
	Intrusive    bool          `yaml:"intrusive"`
	Only         []string      `yaml:"only"`
	Skip         []string      `yaml:"skip"`
}

// AlertsConfig lists webhook destinations.
type AlertsConfig struct {
	// CertWarnDays: alert on certificates expiring within this many days.
	CertWarnDays int `yaml:"cert_warn_days"`
	// RetryFor is how long an alert a destination does not take is
	// retried before it becomes a dead letter. Default 72h.
	RetryFor time.Duration `yaml:"retry_for"`
	// OnFirstRun says what a target's first run alerts on: none (the
	// default: the first run is the baseline) or failures (every failing
	// finding, as new_failure alerts marked first_run).
	OnFirstRun   string              `yaml:"on_first_run"`
	Destinations []alert.Destination `yaml:"destinations"`
}

// MetricsConfig shapes /metrics. The fleet's totals are always there;
// PerTarget adds eight series a target (its findings by status, its last
// scan): a fleet of 10,000 targets makes that 80,000 series a scrape,
// past what Prometheus guidance bounds a label's values to, so it is off
// unless asked for.
type MetricsConfig struct {
	PerTarget bool `yaml:"per_target"`
}

// MonitorConfig tunes health monitoring of the inventory's health
// endpoints (health_paths of endpoint targets) and extra URLs.
type MonitorConfig struct {
	Interval time.Duration `yaml:"interval"`
	Timeout  time.Duration `yaml:"timeout"`
	// SlowFactor flags a response slower than this many times the median
	// of the last Baseline samples (and slower than MinSlow).
	SlowFactor float64       `yaml:"slow_factor"`
	MinSlow    time.Duration `yaml:"min_slow"`
	Baseline   int           `yaml:"baseline"`
	// Endpoints are further health URLs to watch.
	Endpoints []MonitorEndpoint `yaml:"endpoints"`
	CABundle  string            `yaml:"ca_bundle"`
}

// MonitorEndpoint is one health URL.
type MonitorEndpoint struct {
	Target string `yaml:"target"`
	URL    string `yaml:"url"`
}

// AdminConfig creates the first admin from a secret given at start
// instead of a one-time setup token.
type AdminConfig struct {
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
}

const maxConfigSize = 4 << 20

// LoadConfig reads and validates a configuration file, resolving paths
// relative to its directory and reporting every problem at once.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(data, path)
}

// ParseConfig parses configuration data; name is its path (for relative
// paths and messages).
func ParseConfig(data []byte, name string) (*Config, error) {
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("config %s: larger than %d bytes", name, maxConfigSize)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	c.base = filepath.Dir(name)
	var probs []string
	add := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }
	c.defaults()
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen %q: %v", c.Listen, err)
	}
	if c.Storage != "" && !strings.HasPrefix(c.Storage, "postgres://") && !strings.HasPrefix(c.Storage, "postgresql://") {
		add("storage %q: want a postgres:// DSN (or leave it empty for SQLite in data_dir)", redactDSN(c.Storage))
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		add("tls: give both cert and key, or neither (a certificate is then generated)")
	}
	c.TLS.Cert, c.TLS.Key = c.path(c.TLS.Cert), c.path(c.TLS.Key)
	c.DataDir = c.path(c.DataDir)
	c.Scan.CABundle = c.path(c.Scan.CABundle)
	c.Monitor.CABundle = c.path(c.Monitor.CABundle)
	c.Admin.PasswordFile = c.path(c.Admin.PasswordFile)
	for i := range c.Waivers {
		c.Waivers[i] = c.path(c.Waivers[i])
	}
	for i := range c.Attestations {
		c.Attestations[i] = c.path(c.Attestations[i])
	}
	if err := c.loadInventory(); err != nil {
		add("%v", err)
	}
	c.checkZones(add)
	names := map[string]bool{}
	for _, t := range c.targets {
		names[t.Name] = true
	}
	seen := map[string]bool{}
	for i, s := range c.Schedules {
		at := fmt.Sprintf("schedules[%d]", i)
		if s.Name == "" {
			add("%s: needs a name", at)
		} else if seen[s.Name] {
			add("%s: name %q is used twice", at, s.Name)
		}
		seen[s.Name] = true
		sch, err := schedule.Parse(s.Name, s.Every, s.Cron)
		if err != nil {
			add("%s: %v", at, err)
		} else {
			sch.RunAtStart = s.RunAtStart
			c.schedules = append(c.schedules, sch)
		}
		for _, n := range s.Targets {
			if !names[n] {
				add("%s: target %q is not in the inventory", at, n)
			}
		}
		if !validFirstRun(s.OnFirstRun) {
			add("%s: on_first_run %q: want failures or none", at, s.OnFirstRun)
		}
	}
	if !validFirstRun(c.Alerts.OnFirstRun) {
		add("alerts.on_first_run %q: want failures or none", c.Alerts.OnFirstRun)
	}
	if len(c.Schedules) > 0 && len(c.targets) == 0 {
		add("schedules need an inventory")
	}
	if c.Scan.Role != "" && !slices.Contains(target.Roles(), c.Scan.Role) {
		add("scan.role %q: want one of %s", c.Scan.Role, strings.Join(target.Roles(), ", "))
	}
	dests := map[string]bool{}
	for i := range c.Alerts.Destinations {
		d := &c.Alerts.Destinations[i]
		d.SecretFile, d.CAFile, d.URLFile = c.path(d.SecretFile), c.path(d.CAFile), c.path(d.URLFile)
		if err := d.Validate(); err != nil {
			add("alerts.destinations[%d]: %v", i, err)
		}
		if dests[d.Name] {
			add("alerts.destinations[%d]: name %q is used twice", i, d.Name)
		}
		dests[d.Name] = true
	}
	for i, e := range c.Monitor.Endpoints {
		u, err := url.Parse(e.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("monitor.endpoints[%d]: url %q is not an http(s) URL", i, e.URL)
		}
	}
	for _, sev := range finding.Severities() {
		if d := c.SLA.Days(sev); d < 0 {
			add("sla.%s: %d days; want 0 (none) or more", sev, d)
		}
	}
	if c.Monitor.SlowFactor < 1 {
		add("monitor.slow_factor must be at least 1")
	}
	if c.Admin.PasswordFile != "" && c.Admin.Username == "" {
		add("admin: password_file needs a username")
	}
	if c.OIDC.Enabled() {
		c.OIDC.Defaults()
		c.OIDC.ClientSecretFile, c.OIDC.CABundle = c.path(c.OIDC.ClientSecretFile), c.path(c.OIDC.CABundle)
		probs = append(probs, c.OIDC.Problems()...)
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("config %s:\n  %s", name, strings.Join(probs, "\n  "))
	}
	return &c, nil
}

func (c *Config) defaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8843"
	}
	if c.DataDir == "" {
		c.DataDir = "rampart-data"
	}
	if c.SLA == (SLAConfig{}) {
		c.SLA = SLAConfig{Critical: 7, High: 30, Medium: 90, Low: 180}
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 8 * time.Hour
	}
	if c.InviteTTL <= 0 {
		c.InviteTTL = 72 * time.Hour
	}
	if c.Scan.Timeout <= 0 {
		c.Scan.Timeout = 10 * time.Minute
	}
	if c.Scan.Concurrency <= 0 {
		c.Scan.Concurrency = 4
	}
	if c.Scan.PerHost <= 0 {
		c.Scan.PerHost = 5
	}
	if c.Scan.CertWarnDays <= 0 {
		c.Scan.CertWarnDays = 30
	}
	if c.Alerts.CertWarnDays <= 0 {
		c.Alerts.CertWarnDays = c.Scan.CertWarnDays
	}
	if c.Alerts.RetryFor <= 0 {
		c.Alerts.RetryFor = alert.DefaultRetryFor
	}
	if c.Monitor.Interval <= 0 {
		c.Monitor.Interval = time.Minute
	}
	if c.Monitor.Timeout <= 0 {
		c.Monitor.Timeout = 5 * time.Second
	}
	if c.Monitor.SlowFactor == 0 {
		c.Monitor.SlowFactor = 3
	}
	if c.Monitor.MinSlow <= 0 {
		c.Monitor.MinSlow = 200 * time.Millisecond
	}
	if c.Monitor.Baseline <= 0 {
		c.Monitor.Baseline = 20
	}
}

func (c *Config) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.base, p)
}

// loadInventory reads the inventory: a path (scalar) or inline (mapping).
func (c *Config) loadInventory() error {
	n := &c.Inventory
	switch n.Kind {
	case 0:
		return nil
	case yaml.ScalarNode:
		p := c.path(n.Value)
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("inventory: %w", err)
		}
		defer f.Close()
		inv, ts, err := target.ParseInventory(f, p, filepath.Dir(p))
		if err != nil {
			return err
		}
		c.targets, c.zones = ts, inv.Zones
		return nil
	case yaml.MappingNode:
		b, err := yaml.Marshal(n)
		if err != nil {
			return fmt.Errorf("inventory: %w", err)
		}
		inv, ts, err := target.ParseInventory(bytes.NewReader(b), "(inline)", c.base)
		if err != nil {
			return err
		}
		c.targets, c.zones = ts, inv.Zones
		return nil
	}
	return errors.New("inventory: want a file path or an inline inventory (defaults:, targets:)")
}

// Targets returns the inventory's targets.
func (c *Config) Targets() []target.Target { return c.targets }

// ScheduleList returns the parsed schedules.
func (c *Config) ScheduleList() []schedule.Schedule { return c.schedules }

// StorageSpec is what store.Open takes: the DSN, or the data directory.
func (c *Config) StorageSpec() string {
	if c.Storage != "" {
		return c.Storage
	}
	return c.DataDir
}

// What a target's first run alerts on (alerts.on_first_run).
const (
	FirstRunNone     = "none"
	FirstRunFailures = "failures"
)

func validFirstRun(v string) bool { return v == "" || v == FirstRunNone || v == FirstRunFailures }

// FirstRunPolicy returns what a first run alerts on for runs of a
// schedule (the schedule's on_first_run, else alerts.on_first_run); ""
// names uploads, which follow alerts.on_first_run.
func (c *Config) FirstRunPolicy(schedule string) string {
	for _, s := range c.Schedules {
		if s.Name == schedule && s.OnFirstRun != "" {
			return s.OnFirstRun
		}
	}
	if c.Alerts.OnFirstRun != "" {
		return c.Alerts.OnFirstRun
	}
	return FirstRunNone
}

// scheduleTargets returns the targets a schedule scans.
func (c *Config) scheduleTargets(name string) []target.Target {
	for _, s := range c.Schedules {
		if s.Name != name {
			continue
		}
		if len(s.Targets) == 0 {
			return c.targets
		}
		var out []target.Target
		for _, t := range c.targets {
			if slices.Contains(s.Targets, t.Name) {
				out = append(out, t)
			}
		}
		return out
	}
	return nil
}

// redactDSN hides a password in a DSN for messages.
func redactDSN(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
