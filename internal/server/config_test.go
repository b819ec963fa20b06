package server

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/server/schedule"
)

func TestParseConfig(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(inv, []byte("targets:\n  - {name: gw, address: \"https://127.0.0.1:9443/\", health_paths: [/healthz]}\n  - {name: is, directory: is-home}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig([]byte(`
listen: 127.0.0.1:9000
inventory: inventory.yaml
schedules:
  - {name: nightly, cron: "0 2 * * *"}
  - {name: often, every: 15m, targets: [gw]}
alerts:
  destinations:
    - {name: ops, url: "https://hooks.example.test/x", secret_file: hook.secret, kinds: [new_failure]}
monitor: {interval: 30s}
`), filepath.Join(dir, "serve.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Targets()) != 2 || cfg.Targets()[1].Dir != filepath.Join(dir, "is-home") {
		t.Errorf("targets = %+v", cfg.Targets())
	}
	if cfg.DataDir != filepath.Join(dir, "rampart-data") || cfg.StorageSpec() != cfg.DataDir {
		t.Errorf("data dir %q, storage %q", cfg.DataDir, cfg.StorageSpec())
	}
	if got := cfg.scheduleTargets("often"); len(got) != 1 || got[0].Name != "gw" {
		t.Errorf("often targets = %+v", got)
	}
	if cfg.Alerts.Destinations[0].SecretFile != filepath.Join(dir, "hook.secret") || cfg.Alerts.Destinations[0].Format != "generic" {
		t.Errorf("destination = %+v", cfg.Alerts.Destinations[0])
	}
	if cfg.Monitor.Interval != 30*time.Second || cfg.SessionTTL != 8*time.Hour {
		t.Errorf("defaults: %+v", cfg.Monitor)
	}
	// An inline inventory and a PostgreSQL store.
	cfg, err = ParseConfig([]byte("storage: postgres://u:pw@127.0.0.1:5432/r\ninventory:\n  targets:\n    - {name: a, address: 127.0.0.1:8443}\n"), filepath.Join(dir, "x.yaml"))
	if err != nil || len(cfg.Targets()) != 1 || !strings.HasPrefix(cfg.StorageSpec(), "postgres://") {
		t.Fatalf("inline: %v %+v", err, cfg)
	}

	// What a first run alerts on: globally, per schedule, for uploads.
	cfg, err = ParseConfig([]byte(`
inventory: {targets: [{name: a, address: "127.0.0.1:1"}]}
schedules:
  - {name: inherit, every: 1h}
  - {name: quiet, every: 1h, on_first_run: none}
  - {name: loud, every: 1h, on_first_run: failures}
alerts: {on_first_run: failures}
`), filepath.Join(dir, "x.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for sched, want := range map[string]string{"inherit": "failures", "quiet": "none", "loud": "failures", "": "failures"} {
		if got := cfg.FirstRunPolicy(sched); got != want {
			t.Errorf("first-run policy of %q = %q; want %q", sched, got, want)
		}
	}
	cfg, _ = ParseConfig([]byte("inventory: {targets: [{name: a, address: \"127.0.0.1:1\"}]}\nschedules: [{name: s, every: 1h}]\n"), filepath.Join(dir, "x.yaml"))
	if got := cfg.FirstRunPolicy("s"); got != "none" || cfg.FirstRunPolicy("") != "none" || cfg.Alerts.RetryFor != 72*time.Hour || cfg.InviteTTL != 72*time.Hour {
		t.Errorf("defaults: first run %q, retry_for %v, invite_ttl %v", got, cfg.Alerts.RetryFor, cfg.InviteTTL)
	}

	for _, bad := range []struct{ yaml, want string }{
		{"alerts: {on_first_run: all}", "alerts.on_first_run"},
		{"inventory: {targets: [{name: a, address: \"127.0.0.1:1\"}]}\nschedules: [{name: x, every: 1h, on_first_run: yes}]", "on_first_run"},
		{"listen: nowhere", "listen"},
		{"storage: mysql://x", "postgres://"},
		{"tls: {cert: a.pem}", "both cert and key"},
		{"schedules: [{name: x, every: 1h}]", "need an inventory"},
		{"inventory: {targets: [{name: a, address: \"127.0.0.1:1\"}]}\nschedules: [{name: x}]", "needs every"},
		{"inventory: {targets: [{name: a, address: \"127.0.0.1:1\"}]}\nschedules: [{name: x, cron: \"99 * * * *\"}]", "cron"},
		{"inventory: {targets: [{name: a, address: \"127.0.0.1:1\"}]}\nschedules: [{name: x, every: 1h, targets: [b]}]", "not in the inventory"},
		{"alerts: {destinations: [{name: d, url: \"http://hooks.example.test/\"}]}", "https"},
		{"monitor: {endpoints: [{url: \"ftp://x\"}]}", "http(s)"},
		{"nonsense: 1", "nonsense"},
		{"inventory: missing.yaml", "missing.yaml"},
	} {
		_, err := ParseConfig([]byte(bad.yaml), filepath.Join(dir, "bad.yaml"))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v; want one mentioning %q", bad.yaml, err, bad.want)
		}
	}
	// A password in a DSN never appears in an error.
	_, err = ParseConfig([]byte("storage: mysql://user:hunter2@db/x"), filepath.Join(dir, "bad.yaml"))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("DSN password leaked: %v", err)
	}
}

// FuzzParseConfig: a configuration accepted is one serve can start
// with: a host:port to listen on with a port number, a data directory,
// schedules no more frequent than schedule.MinInterval (or cron), positive
// durations; and the same text parses to the same schedules again.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("listen: 127.0.0.1:1\nschedules: [{name: a, every: 1h}]\ninventory: {targets: [{address: \"127.0.0.1:1\"}]}"))
	f.Add([]byte("inventory: [1, 2]\nalerts: {destinations: [{url: \"%%\"}]}"))
	f.Add([]byte("storage: postgres://\nmonitor: {slow_factor: -1}"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data, filepath.Join(dir, "fuzz.yaml")) // no panic, bounded
		if err != nil {
			return
		}
		if _, port, err := net.SplitHostPort(cfg.Listen); err != nil || port == "" {
			t.Fatalf("listen %q accepted: %v", cfg.Listen, err)
		}
		if cfg.DataDir == "" || cfg.SessionTTL < 0 || cfg.InviteTTL < 0 || cfg.Retention < 0 {
			t.Fatalf("accepted data_dir %q, session_ttl %v, invite_ttl %v, retention %v", cfg.DataDir, cfg.SessionTTL, cfg.InviteTTL, cfg.Retention)
		}
		for _, sc := range cfg.ScheduleList() {
			if sc.Cron == "" && sc.Every < schedule.MinInterval {
				t.Fatalf("schedule %+v accepted", sc)
			}
		}
		again, err := ParseConfig(data, filepath.Join(dir, "fuzz.yaml"))
		if err != nil || !reflect.DeepEqual(again.ScheduleList(), cfg.ScheduleList()) {
			t.Fatalf("parsed twice: %v, schedules %+v then %+v", err, cfg.ScheduleList(), again.ScheduleList())
		}
	})
}

// An uploaded report followed by anything but white space is refused:
// the decoder read the first JSON value and ignored the rest, so a body of
// two reports, or a report and garbage, was stored as the first.
func TestDecodeReportRefusesTrailingData(t *testing.T) {
	const rep = `{"schemaVersion":"1.0.0","finishedAt":"2026-01-01T00:00:00Z","findings":[{"rule":"TLS-001","target":"a","status":"fail","severity":"high"}]}`
	if _, err := DecodeReport(strings.NewReader(rep + "\n")); err != nil {
		t.Fatalf("a report and a newline: %v", err)
	}
	for _, tail := range []string{"}", "]", rep, "garbage", "\x00"} {
		if _, err := DecodeReport(strings.NewReader(rep + tail)); err == nil || !strings.Contains(err.Error(), "trailing data") {
			t.Errorf("report + %q: %v; want trailing data refused", tail, err)
		}
	}
}

// FuzzDecodeReport: an accepted report is one JSON document, every finding
// of it has a fingerprint, a valid status and severity and a listed
// target, and its schema major version is this rampart's.
func FuzzDecodeReport(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":"1.0.0","finishedAt":"2026-01-01T00:00:00Z","findings":[{"rule":"TLS-001","target":"a","status":"fail","severity":"high"}]}`))
	f.Add([]byte(`{"schemaVersion":"1.0.0","finishedAt":"2026-01-01T00:00:00Z","targets":[{"name":""}]}`))
	f.Add([]byte(`{"schemaVersion":"2"}`))
	f.Add([]byte(`[`))
	f.Add([]byte(`{"schemaVersion":"1.0.0","finishedAt":"2026-01-01T00:00:00Z"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeReport(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted %q, not one JSON document", data)
		}
		if major, _, _ := strings.Cut(r.SchemaVersion, "."); !strings.HasPrefix(finding.SchemaVersion, major+".") {
			t.Fatalf("accepted schema version %q", r.SchemaVersion)
		}
		targets := map[string]bool{}
		for _, ti := range r.Targets {
			targets[ti.Name] = true
		}
		for _, fd := range r.Findings {
			if _, err := finding.ParseStatus(string(fd.Status)); err != nil || fd.Fingerprint == "" || !targets[fd.Target] ||
				fd.Severity < finding.Info || fd.Severity > finding.Critical {
				t.Fatalf("accepted finding %+v", fd)
			}
		}
	})
}
