package hostos

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/testenv"
	builtinrules "github.com/rampart-sec/rampart/rules"
)

// now is the clock of the fake-root tests.
var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeRoot copies testdata/roots/name into a temporary directory and adds
// what git does not keep: symbolic links and file modes.
func fakeRoot(t testing.TB, name string) string {
	t.Helper()
	src := filepath.Join("testdata", "roots", name)
	dst := t.TempDir()
	testenv.CopyTree(t, src, dst)
	link := func(target, at string) {
		t.Helper()
		p := filepath.Join(dst, at)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	mode := func(m os.FileMode, paths ...string) {
		for _, p := range paths {
			if err := os.Chmod(filepath.Join(dst, p), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	link("/usr/lib/jvm/jdk/bin/java", "proc/100/exe")
	link("/usr/sbin/sshd", "proc/50/exe")
	home := "opt/wso2is-7.1.0/"
	secrets := []string{home + "repository/resources/security/wso2carbon.p12", home + "repository/resources/security/client-truststore.p12",
		home + "repository/conf/security/secret-conf.properties"}
	switch name {
	case "hardened":
		link("socket:[1001]", "proc/100/fd/5")
		link("socket:[1002]", "proc/100/fd/6")
		link("pipe:[77]", "proc/100/fd/7")
		link("socket:[1003]", "proc/50/fd/3")
		mode(0o600, secrets...)
		mode(0o640, home+"repository/conf/deployment.toml")
		old := time.Date(2025, 11, 1, 2, 0, 0, 0, time.UTC)
		os.Chtimes(filepath.Join(dst, "backup/wso2/old/wso2-2025-11-01.tgz"), old, old)
		recent := time.Date(2025, 12, 31, 2, 0, 0, 0, time.UTC)
		os.Chtimes(filepath.Join(dst, "backup/wso2/wso2-2025-12-31.tgz"), recent, recent)
	case "weak":
		link("socket:[2001]", "proc/100/fd/5")
		link("socket:[2002]", "proc/100/fd/6")
		link("socket:[2003]", "proc/100/fd/7")
		link("socket:[2004]", "proc/50/fd/3")
		link("socket:[2005]", "proc/50/fd/4")
		mode(0o644, secrets...)
	}
	return dst
}

func hostTarget(dir string, decl target.Declared) target.Target {
	return target.Target{Name: "host", Kind: target.Host, Dir: dir, Decl: decl}
}

func collectHost(t testing.TB, tg target.Target, env *collect.Env) *facts.Facts {
	t.Helper()
	if env == nil {
		env = &collect.Env{}
	}
	f, err := collect.Collect(context.Background(), New(), tg, env)
	if err != nil {
		t.Fatal(err)
	}
	f.Target = tg.Facts()
	f.Scan = facts.DefaultScan(now)
	return f
}

func judgeHost(t testing.TB, f *facts.Facts) map[string]finding.Finding {
	t.Helper()
	set, err := rules.Load(rules.Source{Name: "rules", FS: builtinrules.FS})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]finding.Finding{}
	for _, fd := range rules.Judge(set.Rules(), rules.Input{Facts: f, Offers: map[string]bool{"host": true}}) {
		out[fd.RuleID] = fd
	}
	return out
}

var decl = target.Declared{
	ExpectedPorts:   []int{2222, 9443, 4000, 4001},
	ClusterMembers:  []string{"10.0.1.11", "10.0.1.12"},
	BackupLocations: []string{"/backup/wso2"},
}

// hostRules are every rule with a host check.
var hostRules = []string{"OS-001", "OS-002", "OS-003", "OS-004", "OS-005", "OS-006", "OS-007",
	"SSH-001", "SSH-002", "SSH-003", "SSH-004", "SSH-005", "NET-001", "LOG-004",
	"RT-002", "RT-003", "TLS-008", "TLS-009", "TLS-013", "SEC-005", "SEC-006"}

// TestFakeRootsBothWays judges every host rule on a hardened and a weak
// root: all pass on one, all fail on the other.
func TestFakeRootsBothWays(t *testing.T) {
	for name, want := range map[string]finding.Status{"hardened": finding.Pass, "weak": finding.Fail} {
		t.Run(name, func(t *testing.T) {
			f := collectHost(t, hostTarget(fakeRoot(t, name), decl), nil)
			got := judgeHost(t, f)
			for _, id := range hostRules {
				if got[id].Status != want {
					t.Errorf("%s: %s (%s), want %s", id, got[id].Status, got[id].Message, want)
				}
			}
		})
	}
}

// TestWebhookSources: NET-004 with a webhook relay's declaration.
func TestWebhookSources(t *testing.T) {
	d := target.Declared{ExpectedPorts: []int{9443}, AllowedSources: []string{"203.0.113.0/24"}}
	for name, want := range map[string]finding.Status{"hardened": finding.Pass, "weak": finding.Fail} {
		f := collectHost(t, hostTarget(fakeRoot(t, name), d), nil)
		if got := judgeHost(t, f)["NET-004"]; got.Status != want {
			t.Errorf("%s: NET-004 %s (%s), want %s", name, got.Status, got.Message, want)
		}
	}
}

func TestHardenedFacts(t *testing.T) {
	f := collectHost(t, hostTarget(fakeRoot(t, "hardened"), decl), nil)
	h := f.Host
	if h.OS.ID != "debian" || h.OS.VersionID != "12" || h.Hostname != "is-node-1" || h.MemoryMB != 8192 {
		t.Errorf("os %+v host %q mem %d", h.OS, h.Hostname, h.MemoryMB)
	}
	if len(h.Processes) != 1 {
		t.Fatalf("processes %+v", h.Processes)
	}
	p := h.Processes[0]
	if p.PID != 100 || p.User != "wso2" || p.UserShell != "/usr/sbin/nologin" || p.SharedUser || p.Profile != "wso2-is" ||
		p.Name != "WSO2 Identity Server v7.1.0" || p.ProductHome != "/opt/wso2is-7.1.0" || p.JDKVersion != "17.0.15" || p.JDKMajor != 17 {
		t.Errorf("process %+v", p)
	}
	if p.JVM.HeapMaxMB != 2048 || p.JVM.HeapMinMB != 1024 || p.JVM.DHKeySize != 2048 || p.JVM.HostnameVerifier != "Strict" {
		t.Errorf("jvm %+v", p.JVM)
	}
	if v := p.JVM.Properties["javax.net.ssl.keyStorePassword"].Value; v != facts.Redacted {
		t.Errorf("a password property must be redacted, got %q", v)
	}
	if _, ok := p.JVM.Properties["setup"]; ok {
		t.Error("-Dsetup after the main class is a program argument, not a JVM property")
	}
	owners := map[int]string{}
	for _, l := range h.Listeners {
		owners[l.Port] = l.Process + "/" + l.User
	}
	if owners[9443] != "java/wso2" || owners[2222] != "sshd/root" || len(h.Listeners) != 3 {
		t.Errorf("listeners %+v", h.Listeners)
	}
	if h.Firewall.Backend != "nftables" || h.Firewall.Source != "/etc/nftables.conf" {
		t.Errorf("firewall %+v", h.Firewall)
	}
	if h.SSHD.Source != "/etc/ssh/sshd_config" || h.SSHD.PermitRootLogin.Origin.Line != 4 {
		t.Errorf("sshd %+v", h.SSHD)
	}
	if h.Audit.AuditRules != 3 || !h.Audit.AuditdRunning {
		t.Errorf("audit %+v", h.Audit)
	}
	if len(h.Backups) != 1 || h.Backups[0].NewestFile != "wso2-2025-12-31.tgz" {
		t.Errorf("backups %+v", h.Backups)
	}
	if len(h.SecretFiles) != 4 || len(h.ProductHomes) != 1 {
		t.Errorf("secret files %+v homes %v", h.SecretFiles, h.ProductHomes)
	}
	for _, sf := range h.SecretFiles {
		if sf.WorldReadable || sf.Owner == "" {
			t.Errorf("secret file %+v", sf)
		}
	}
}

func TestWeakFacts(t *testing.T) {
	f := collectHost(t, hostTarget(fakeRoot(t, "weak"), decl), nil)
	h := f.Host
	if len(h.Processes) != 1 || h.Processes[0].User != "root" || !h.Processes[0].SharedUser || h.Processes[0].JDKMajor != 8 {
		t.Errorf("processes %+v", h.Processes)
	}
	// The truncated /proc/net/tcp line is skipped; the tcp6 :: listener is read.
	ports := map[int]string{}
	for _, l := range h.Listeners {
		ports[l.Port] += l.Address + " "
	}
	if ports[22] != "0.0.0.0 :: " || len(h.Listeners) != 5 {
		t.Errorf("listeners %+v", h.Listeners)
	}
	if h.Firewall.Enabled || !strings.Contains(h.Firewall.Source, "not enabled") {
		t.Errorf("firewall %+v", h.Firewall)
	}
	if got := h.Updates.PendingSecurity; len(got) != 1 || got[0] != "openssh-server" {
		t.Errorf("updates %+v", h.Updates)
	}
	// 0.0.0.0:9999 of the product process is its JMX port, open to all.
	if got := judgeHost(t, f)["NET-003"]; got.Status != finding.Fail || !strings.Contains(got.Message, "0.0.0.0:9999 (pid 100)") {
		t.Errorf("NET-003 %s %s", got.Status, got.Message)
	}
}

// TestUpdatesErrors: no lists, or stale ones, make OS-005 an error.
func TestUpdatesErrors(t *testing.T) {
	dir := fakeRoot(t, "hardened")
	f := collectHost(t, hostTarget(dir, decl), nil)
	f.Scan.Now = now.AddDate(0, 1, 0)
	if got := judgeHost(t, f)["OS-005"]; got.Status != finding.Error || !strings.Contains(got.Message, "older than 7 days") {
		t.Errorf("stale lists: %s %s", got.Status, got.Message)
	}
	os.RemoveAll(filepath.Join(dir, "var/lib/apt/lists"))
	f = collectHost(t, hostTarget(dir, decl), nil)
	if got := judgeHost(t, f)["OS-005"]; got.Status != finding.Error || !strings.Contains(got.Message, "apt-get update") {
		t.Errorf("no lists: %s %s", got.Status, got.Message)
	}
}

// TestOfflineImage: a root without /proc has no processes or sockets: the
// rules that need them do not apply, and nothing is run.
func TestOfflineImage(t *testing.T) {
	dir := fakeRoot(t, "weak")
	os.RemoveAll(filepath.Join(dir, "proc"))
	f := collectHost(t, hostTarget(dir, decl), &collect.Env{Exec: panicExec{}})
	if st, _ := f.Lookup("host.processes"); st.State != facts.Absent {
		t.Errorf("processes %+v", st)
	}
	got := judgeHost(t, f)
	if got["OS-001"].Status != finding.NotApplicable || got["SSH-002"].Status != finding.Fail {
		t.Errorf("OS-001 %s %s; SSH-002 %s", got["OS-001"].Status, got["OS-001"].Message, got["SSH-002"].Status)
	}
}

// panicExec fails the test if a command is run for an offline image.
type panicExec struct{}

func (panicExec) Run(context.Context, string, ...string) ([]byte, error) {
	panic("a command was run for an offline image")
}
