package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/fix"
	"github.com/rampart-sec/rampart/internal/fix/fixtest"
	"github.com/rampart-sec/rampart/internal/testenv"
)

// runFixCLI runs rampart with fixed test keys (no RSA prime search).
func runFixCLI(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	d := defaultDeps()
	d.now = func() time.Time { return testClock }
	d.getenv = func(string) string { return "" }
	d.isTerminal = func(io.Writer) bool { return false }
	d.fixKeys = &fixtest.Keys{}
	code := run(context.Background(), args, &out, &errb, d)
	return result{code, out.String(), errb.String()}
}

// copyDir copies a tree into a writable temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	testenv.CopyTree(t, src, dst)
	return dst
}

// snapshot is every file of a tree by content, to show nothing changed.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sameTree(t *testing.T, want, got map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s changed", k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s appeared", k)
		}
	}
}

var stampRe = regexp.MustCompile(`--undo ([0-9]{8}T[0-9]{6})`)

// TestFixDryRunApplyUndo: the dry run prints a patch -p1 diff and the
// summary and writes nothing; --apply writes it with backups and prints
// the generated secrets once; --undo restores every file byte for byte.
func TestFixDryRunApplyUndo(t *testing.T) {
	dir := copyDir(t, fixture(t, "is-7.1.0"))
	before := snapshot(t, dir)
	args := []string{"fix", dir, "--hostname", "login.example.com", "--port-offset", "2"}
	r := runFixCLI(t, args...)
	if r.code != ExitFindings { // HTTP-002 stays manual on IS 7.1 (an app without the filter)
		t.Fatalf("dry run exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"--- a/repository/conf/deployment.toml", "+hostname = \"login.example.com\"", "Binary file b/repository/resources/security/login.p12 created", "Summary (dry run", "manual      HTTP-002", "fixed       KEY-001"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run output lacks %q", want)
		}
	}
	if strings.Contains(r.stderr, "password of") {
		t.Error("a dry run printed generated secrets")
	}
	sameTree(t, before, snapshot(t, dir))

	r = runFixCLI(t, append(args, "--apply")...)
	if r.code != ExitFindings {
		t.Fatalf("apply exit %d\n%s", r.code, r.stderr)
	}
	m := stampRe.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no backup stamp in\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "password of the new keystore") || !strings.Contains(r.stderr, "password of the administrator") {
		t.Errorf("generated secrets not shown:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "repository/conf/deployment.toml.rampart-"+m[1])); err != nil {
		t.Errorf("no backup: %v", err)
	}
	// Applied: a second run finds only what needs a human.
	r2 := runFixCLI(t, args...)
	if strings.Contains(r2.stdout, "--- a/") || !strings.Contains(r2.stdout, "0 fixed") {
		t.Errorf("second run still changes files:\n%s", r2.stdout)
	}
	r = runFixCLI(t, "fix", dir, "--undo", m[1])
	if r.code != ExitOK {
		t.Fatalf("undo exit %d: %s", r.code, r.stderr)
	}
	sameTree(t, before, snapshot(t, dir))
}

func TestFixNothingToFix(t *testing.T) {
	dir := copyDir(t, fixture(t, "mi-4.3.0"))
	r := runFixCLI(t, "fix", dir, "--only", "KEY-002,KEY-003")
	if r.code != ExitOK || !strings.Contains(r.stdout, "nothing to fix") {
		t.Fatalf("exit %d, %q", r.code, r.stdout)
	}
}

func TestFixUsage(t *testing.T) {
	dir := fixture(t, "mi-4.3.0")
	for _, args := range [][]string{
		{"fix", dir, "--format", "xml"},
		{"fix", dir, "--key-type", "dsa"},
		{"fix", dir, "--only", "NOPE-1"},
		{"fix", dir, "--undo", "yesterday"},
		{"fix", dir, "--undo", "20260101T000000", "--apply"},
		{"fix", dir, "--vault-cert", "/nonexistent.pem"},
	} {
		if r := runFixCLI(t, args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args[2:], r.code, r.stderr)
		}
	}
}

// TestFixJSON: every edit carries its rules, file, line ranges, the lines
// before and after, and what the operator must still do.
func TestFixJSON(t *testing.T) {
	dir := copyDir(t, fixture(t, "apim-4.5.0"))
	r := runFixCLI(t, "fix", dir, "--hostname", "gw.example.com", "--only", "TLS-*,NET-003", "--format", "json")
	if r.code != ExitFindings { // TLS-013's JVM part: no start script
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var out struct {
		Results []struct{ Rule, Status string }
		Changes []struct {
			Rules    []string `json:"rules"`
			File     string   `json:"file"`
			OldLines [2]int   `json:"old_lines"`
			NewLines [2]int   `json:"new_lines"`
			After    string   `json:"after"`
			Todo     []string `json:"todo"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(out.Changes) < 5 {
		t.Fatalf("%d changes", len(out.Changes))
	}
	for _, c := range out.Changes {
		if len(c.Rules) == 0 || !strings.HasSuffix(c.File, "deployment.toml") || c.NewLines[0] == 0 || c.After == "" || len(c.Todo) == 0 {
			t.Errorf("incomplete change %+v", c)
		}
		for _, rule := range c.Rules {
			if !strings.HasPrefix(rule, "TLS-") && rule != "NET-003" {
				t.Errorf("--only let %s through", rule)
			}
		}
	}
}

// TestFixRefusesEverythingWhenAFixFails: a truststore whose password is
// not in the files cannot be rewritten: that fix is an error, and --apply
// writes nothing at all.
func TestFixRefusesEverythingWhenAFixFails(t *testing.T) {
	dir := copyDir(t, fixture(t, "mi-4.1.0"))
	toml := filepath.Join(dir, "conf/deployment.toml")
	b, _ := os.ReadFile(toml)
	b = bytes.Replace(b, []byte("[truststore]\nfile_name = \"repository/resources/security/client-truststore.jks\"\npassword = \"wso2carbon\""),
		[]byte("[truststore]\nfile_name = \"repository/resources/security/client-truststore.jks\"\npassword = \"$env{TRUST_PW}\""), 1)
	if err := os.WriteFile(toml, b, 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	r := runFixCLI(t, "fix", dir, "--hostname", "mi.example.com", "--apply")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "nothing was written") || !strings.Contains(r.stderr, "password is not in the files") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	sameTree(t, before, snapshot(t, dir))
}

// TestFixAnsible: the playbook passes ansible-playbook --syntax-check, and
// run on the host (-c local) it makes the same rules pass as --apply;
// a second run changes nothing.
func TestFixAnsible(t *testing.T) {
	ap, err := exec.LookPath("ansible-playbook")
	if err != nil {
		testenv.Missing(t, "ansible-playbook not installed (Debian: ansible)")
	}
	dir := copyDir(t, fixture(t, "mi-4.3.0"))
	pb := filepath.Join(t.TempDir(), "fix.yml")
	r := runFixCLI(t, "fix", dir, "--hostname", "mi.example.com", "--port-offset", "1", "--format", "ansible", "-o", pb)
	if r.code == ExitUsage {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "password of the new keystore") {
		t.Errorf("the playbook's generated secrets were not shown:\n%s", r.stderr)
	}
	if out, err := exec.Command(ap, "--syntax-check", "-i", "localhost,", pb).CombinedOutput(); err != nil {
		t.Fatalf("syntax check: %v\n%s", err, out)
	}
	run := func() string {
		cmd := exec.Command(ap, "-i", "localhost,", "-c", "local", pb)
		cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_LOCAL_TEMP="+t.TempDir(), "ANSIBLE_REMOTE_TEMP="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ansible-playbook: %v\n%s", err, out)
		}
		return string(out)
	}
	run()
	scan := runCLI(t, nil, false, "scan", dir, "-f", "json", "--fail-on", "none")
	var rep struct {
		Findings []struct{ Rule, Status string }
	}
	if err := json.Unmarshal([]byte(scan.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, f := range rep.Findings {
		status[f.Rule] = f.Status
	}
	for _, id := range []string{"KEY-001", "KEY-004", "KEY-007", "SEC-001", "SEC-002", "TLS-011", "NET-003", "NET-007", "LOG-002"} {
		if status[id] != "pass" {
			t.Errorf("%s is %s after the playbook ran", id, status[id])
		}
	}
	if out := run(); !regexp.MustCompile(`changed=0 `).MatchString(out) {
		t.Errorf("a second run changes things:\n%s", out[max(0, len(out)-400):])
	}
}

// TestFixHost: on a copy of a weak host's root (nftables enabled at
// boot), fix writes the sshd drop-in and the firewall ruleset, each
// checked with the real sshd -t and nft -c, and the re-scan of the root
// passes the SSH, firewall and file-mode rules it reported fixed.
func TestFixHost(t *testing.T) {
	for _, tool := range []string{"sshd", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				testenv.Missing(t, "%s not installed (Debian: openssh-server, nftables)", tool)
			}
		}
	}
	root := copyDir(t, filepath.Join("..", "collect", "hostos", "testdata", "roots", "weak"))
	unit := filepath.Join(root, "etc/systemd/system/sysinit.target.wants/nftables.service")
	if err := os.MkdirAll(filepath.Dir(unit), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/lib/systemd/system/nftables.service", unit); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "lib/systemd/system/nftables.service", "[Unit]\nDescription=nftables\n")
	args := []string{"fix", "local", "--root", root, "--management-net", "10.0.9.0/24", "--skip", "IAM-*,NET-002,RT-*,TLS-*"}
	r := runFixCLI(t, args...)
	for _, want := range []string{"checked: sshd -t: ok", "checked: nft -c -f: ok", "+++ b/etc/ssh/sshd_config.d/50-rampart.conf", "+++ b/etc/nftables.conf", "policy drop",
		// The commands fix leaves to the operator are shown, and what a
		// host declares is said to go into an inventory (there is none).
		"run: sshd -t && systemctl reload ssh", "run: nft -c -f /etc/nftables.conf && systemctl enable --now nftables",
		"in an inventory entry for this host (local: true)"} {
		if !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	// Every file counted is shown: a diff, a binary line or a mode line.
	shown := len(regexp.MustCompile(`(?m)^(\+\+\+ b/|Binary file b/|# \S+: [A-Z0-9, -]+: mode 0\d{3} -> 0\d{3} of b/)`).FindAllString(r.stdout, -1))
	if m := regexp.MustCompile(`; (\d+) files? to change\n`).FindStringSubmatch(r.stdout); m == nil || m[1] != strconv.Itoa(shown) {
		t.Errorf("%d files shown, the count line says %v:\n%s", shown, m, r.stdout)
	}
	if ap, err := exec.LookPath("ansible-playbook"); err == nil {
		pb := filepath.Join(t.TempDir(), "host.yml")
		runFixCLI(t, append(args, "--format", "ansible", "-o", pb)...)
		b, _ := os.ReadFile(pb)
		for _, want := range []string{"validate: nft -c -f %s", "validate: /usr/sbin/sshd -t -f %s", "ansible.builtin.package:", "reload sshd"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("the host playbook lacks %q", want)
			}
		}
		if out, err := exec.Command(ap, "--syntax-check", "-i", "localhost,", pb).CombinedOutput(); err != nil {
			t.Errorf("host playbook syntax check: %v\n%s", err, out)
		}
	}
	r = runFixCLI(t, append(args, "--apply", "--format", "json")...)
	if r.code == ExitUsage {
		t.Fatalf("apply: %s", r.stderr)
	}
	var applied struct {
		Results []struct{ Rule, Target, Status string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &applied); err != nil {
		t.Fatal(err)
	}
	fixed := map[string]bool{}
	for _, res := range applied.Results {
		if res.Target == "local" && res.Status == "fixed" {
			fixed[res.Rule] = true
		}
	}
	for _, id := range []string{"SSH-002", "SSH-003", "SSH-004", "SSH-005", "OS-007", "SEC-006"} {
		if !fixed[id] {
			t.Errorf("%s not reported fixed:\n%s", id, r.stdout)
		}
	}
	scan := runCLI(t, nil, false, "scan", "local", "--root", root, "-f", "json", "--fail-on", "none")
	var rep struct {
		Findings []struct{ Rule, Target, Status string }
	}
	if err := json.Unmarshal([]byte(scan.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Target == "local" && fixed[f.Rule] && f.Status != "pass" {
			t.Errorf("%s was reported fixed and is %s on the re-scan", f.Rule, f.Status)
		}
	}
}

// TestFixReadOnlyFile: on a copy that kept the shared fixture's 0444
// modes, the dry run plans and shows every change, warns per file that
// --apply needs write permission, and counts exactly the files it shows;
// --apply refuses the whole run, naming each read-only file, reports the
// fixes that need them as errors, and leaves every file as it was.
func TestFixReadOnlyFile(t *testing.T) {
	dir := copyDir(t, fixture(t, "mi-4.3.0"))
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chmod(p, 0o444)
	})
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	args := []string{"fix", dir, "--hostname", "mi.example.com"}
	r := runFixCLI(t, args...)
	if r.code != ExitFindings {
		t.Fatalf("dry run: exit %d\n%s", r.code, r.stderr)
	}
	summary := r.stdout[strings.Index(r.stdout, "Summary ("):]
	for _, want := range []string{
		"+++ b/conf/deployment.toml\n",
		"# log4j2.properties: LOG-002 (read-only now: --apply needs write permission)\n",
		"warning: read-only now: conf/deployment.toml (mode 0444), conf/log4j2.properties (mode 0444)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the dry run lacks %q:\n%s", want, r.stdout)
		}
	}
	if regexp.MustCompile(`(?m)^    error `).MatchString(summary) {
		t.Errorf("a dry run reports errors for read-only files:\n%s", summary)
	}
	// The count agrees with what is shown: every +++ and Binary line.
	shown := len(regexp.MustCompile(`(?m)^(\+\+\+ b/|Binary file b/)`).FindAllString(r.stdout, -1))
	m := regexp.MustCompile(`; (\d+) files to change, (\d+) of them read-only now\n`).FindStringSubmatch(summary)
	if m == nil || m[1] != strconv.Itoa(shown) || m[2] != "5" {
		t.Errorf("%d files shown; the count line says %v:\n%s", shown, m, summary)
	}

	r = runFixCLI(t, append(args, "--apply")...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "nothing was written: these files are read-only") ||
		!regexp.MustCompile(`conf/log4j2.properties \(mode 0444; LOG-002\)`).MatchString(r.stderr) {
		t.Fatalf("apply: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"Summary (--apply wrote nothing", "not written: conf/log4j2.properties is read-only (mode 0444)", "; nothing written (" + strconv.Itoa(shown) + " files would change)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the refused apply lacks %q:\n%s", want, r.stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^    error       LOG-002 `).MatchString(r.stdout) {
		t.Errorf("LOG-002 is not an error in the refused apply:\n%s", r.stdout)
	}
	sameTree(t, before, snapshot(t, dir))
}

// TestFixSummaryWidth: the summary wraps as the scan's text report does:
// to COLUMNS, else 100 columns when not on a terminal; every clause of a
// rule starts its own line.
func TestFixSummaryWidth(t *testing.T) {
	dir := copyDir(t, fixture(t, "mi-4.3.0"))
	for _, c := range []struct {
		columns string
		width   int
	}{{"72", 72}, {"", 100}} {
		var out, errb bytes.Buffer
		d := defaultDeps()
		d.now = func() time.Time { return testClock }
		d.getenv = func(k string) string {
			if k == "COLUMNS" {
				return c.columns
			}
			return ""
		}
		d.isTerminal = func(io.Writer) bool { return false }
		d.fixKeys = &fixtest.Keys{}
		if code := run(context.Background(), []string{"fix", dir}, &out, &errb, d); code != ExitFindings {
			t.Fatalf("exit %d\n%s", code, errb.String())
		}
		summary := out.String()[strings.Index(out.String(), "Summary ("):]
		widest := 0
		for _, l := range strings.Split(strings.TrimRight(summary, "\n"), "\n") {
			widest = max(widest, utf8.RuneCountInString(l))
			if utf8.RuneCountInString(l) > c.width {
				t.Errorf("COLUMNS=%q: a line of %d:\n%s", c.columns, utf8.RuneCountInString(l), l)
			}
		}
		if widest < c.width-10 {
			t.Errorf("COLUMNS=%q: the widest line is %d: not wrapped to %d", c.columns, widest, c.width)
		}
		for _, want := range []string{"    needs input SEC-005  same as SEC-001\n", "    needs input SEC-001  moved into Secure Vault:"} {
			if !strings.Contains(summary, want) {
				t.Errorf("COLUMNS=%q: the summary lacks %q:\n%s", c.columns, want, summary)
			}
		}
	}
}

// TestFixInventoryAndColour: an inventory's host name reaches the fix of
// its product home, and a terminal gets a coloured diff.
func TestFixInventoryAndColour(t *testing.T) {
	dir := copyDir(t, fixture(t, "is-5.11.0"))
	inv := writeFile(t, t.TempDir(), "inventory.yaml", "targets:\n  - name: is-node-1\n    directory: "+dir+"\n    hostname: login.example.com\n")
	var out, errb bytes.Buffer
	d := defaultDeps()
	d.now = func() time.Time { return testClock }
	d.getenv = func(string) string { return "" }
	d.isTerminal = func(io.Writer) bool { return true }
	d.fixKeys = &fixtest.Keys{}
	code := run(context.Background(), []string{"fix", "@" + inv, "--only", "NET-007,KEY-001"}, &out, &errb, d)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"\x1b[32m+hostname = \"login.example.com\"", "\x1b[31m-hostname = \"localhost\"", "CN=login.example.com"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestFixInventoryHostnames: an inventory entry's hostname is used for
// that entry even when --hostname is given (the flag covers the entries
// that name none); an entry without one that needs it is told where to
// give it.
func TestFixInventoryHostnames(t *testing.T) {
	mi := copyDir(t, fixture(t, "mi-4.3.0"))
	is := copyDir(t, fixture(t, "is-7.1.0"))
	inv := writeFile(t, t.TempDir(), "inventory.yaml", "targets:\n  - name: mi-node-1\n    directory: "+mi+"\n    hostname: mi.example.com\n  - name: is-node-1\n    directory: "+is+"\n")
	r := runFixCLI(t, "fix", "@"+inv, "--only", "NET-007", "--hostname", "login.example.com", "-f", "json")
	var out struct {
		Changes []struct{ Target, After string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stderr)
	}
	got := map[string]string{}
	for _, c := range out.Changes {
		got[c.Target] += c.After
	}
	if !strings.Contains(got["mi-node-1"], `hostname = "mi.example.com"`) || !strings.Contains(got["is-node-1"], `hostname = "login.example.com"`) {
		t.Errorf("host names: %v", got)
	}
	r = runFixCLI(t, "fix", "@"+inv, "--only", "NET-007")
	if r.code != ExitFindings || !strings.Contains(r.stdout, "+hostname = \"mi.example.com\"") ||
		!strings.Contains(strings.Join(strings.Fields(r.stdout), " "), "needs: hostname: NAME in the inventory entry of is-node-1, or --hostname NAME for every entry that names none") {
		t.Errorf("exit %d\n%s", r.code, r.stdout)
	}
}

// TestRemoteOnlySaysItOnce: an endpoint's failing rules are manual, each
// with its own remediation, and why rampart cannot change them is said
// once for the target.
func TestRemoteOnlySaysItOnce(t *testing.T) {
	p := remoteOnly("edge", []finding.Finding{
		{RuleID: "TLS-002", Status: finding.Fail, Remediation: "Remove TLSv1 and TLSv1.1 from every protocol list. Then restart."},
		{RuleID: "RT-003", Status: finding.Fail, Remediation: "Size the heap, e.g. half the memory. More."},
		{RuleID: "TLS-005", Status: finding.Pass},
	})
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0].Text, "seen over the network only") || len(p.Results) != 2 {
		t.Fatalf("%+v", p)
	}
	for _, r := range p.Results {
		if r.Status != fix.Manual || strings.Contains(r.Summary, "network") {
			t.Errorf("%+v", r)
		}
	}
	if p.Results[1].Summary != "Size the heap, e.g. half the memory." {
		t.Errorf("first sentence: %q", p.Results[1].Summary)
	}
}
