package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/netnstest"
	"github.com/rampart-sec/rampart/internal/zonetest"
)

const adminPassword = "zones e2e admin password"

// world is a target namespace, zone namespaces for agents, and a core
// namespace where rampart serve runs.
type world struct {
	t        *testing.T
	dir      string
	net      *zonetest.Net
	core     *netnstest.NS
	coreAddr map[string]string // zone namespace -> serve's address from it
	serve    *proc
	dash     *dash
	agents   map[string]*proc
	secrets  map[string]string
}

func newWorld(t *testing.T, zoneNS ...string) *world {
	t.Helper()
	n := zonetest.New(t, zoneNS...)
	core, addrs := n.Core(t)
	w := &world{t: t, dir: t.TempDir(), net: n, core: core, coreAddr: addrs, agents: map[string]*proc{}, secrets: map[string]string{}}
	if err := os.WriteFile(filepath.Join(w.dir, "admin.pw"), []byte(adminPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// config is serve.yaml around an inventory and a nats section.
func (w *world) config(inventory, nats string) string {
	var hosts []string
	for _, a := range w.coreAddr {
		hosts = append(hosts, a)
	}
	return fmt.Sprintf(`listen: 0.0.0.0:8843
data_dir: data
tls: {hosts: [%s]}
%s
zones: {ack_wait: 3s, agent_timeout: 30s, max_attempts: 2, round_timeout: 10m}
scan: {timeout: 1m}
inventory:
%s
schedules:
  - {name: audit, every: 24h}
`, strings.Join(hosts, ", "), nats, indent(inventory))
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = "  " + lines[i]
	}
	return strings.Join(lines, "\n")
}

var servingRE = regexp.MustCompile(`serving https://(\S+)/`)

// startServe runs rampart serve in the core namespace and signs in.
func (w *world) startServe(config string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, "serve.yaml"), []byte(config), 0o600); err != nil {
		w.t.Fatal(err)
	}
	var env []string
	if f := os.Getenv("SERVE_CPUPROFILE"); f != "" {
		env = []string{"RAMPART_CPUPROFILE=" + f} // serve's alone, in a -tags pprof binary
	}
	w.serve = start(w.t, "serve", w.core, w.dir, env, "serve", "--config", "serve.yaml", "--admin-password-file", "admin.pw", "--log-level", serveLogLevel())
	w.serve.out.wait(w.t, servingRE, 1)
	if w.dash == nil {
		w.dash = newDash(w.t, w.core, "127.0.0.1:8843", filepath.Join(w.dir, "data", "ca.pem"))
		w.dash.signIn("admin", adminPassword)
	}
}

// startAgent creates an agent's credentials on the dashboard (once) and
// runs it in a zone namespace.
func (w *world) startAgent(name, zone, ns string) *proc {
	w.t.Helper()
	secret, ok := w.secrets[name]
	if !ok {
		secret = w.dash.createAgent(name, zone, "password")
		w.secrets[name] = secret
	}
	pw := filepath.Join(w.dir, name+".password")
	if err := os.WriteFile(pw, []byte(secret), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return w.runAgent(name, zone, ns, "tls://"+w.coreAddr[ns]+":4222", "data/ca.pem", "--password-file", pw)
}

func (w *world) runAgent(name, zone, ns, server, ca string, cred ...string) *proc {
	w.t.Helper()
	args := append([]string{"agent", "--zone", zone, "--name", name, "--server", server, "--ca", ca,
		"--concurrency", "1", "--heartbeat", "1s", "--grace", "5s", "--log-level", "debug"}, cred...)
	p := start(w.t, "agent "+name, w.net.Zones[ns], w.dir, nil, args...)
	w.agents[name] = p
	w.serve.out.wait(w.t, regexp.MustCompile(`msg="agent connected".* agent=`+name+` `), 1)
	return p
}

// judged waits until serve has judged round n (in its current process).
func (w *world) judged(round int) {
	w.t.Helper()
	w.serve.out.wait(w.t, regexp.MustCompile(fmt.Sprintf(`msg="round judged across zones".* round=%d `, round)), 1)
}

// serveLogLevel is serve's log level (SERVE_LOG_LEVEL, default info).
func serveLogLevel() string {
	if l := os.Getenv("SERVE_LOG_LEVEL"); l != "" {
		return l
	}
	return "info"
}
