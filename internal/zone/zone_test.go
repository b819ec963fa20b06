package zone

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/target"
	builtin "github.com/rampart-sec/rampart/rules"
)

var (
	dmz  = target.Zone{Name: "dmz", Role: "dmz"}
	corp = target.Zone{Name: "corp", Role: "internal"}
	mgmt = target.Zone{Name: "mgmt", Role: "management"}
)

func catalog(t *testing.T) Catalog {
	t.Helper()
	set, err := rules.Load(rules.Source{Name: "rules", FS: builtin.FS, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCatalog(set.Rules())
	if len(c) != len(exposureRules) {
		t.Fatalf("catalog has %d of the %d exposure rules", len(c), len(exposureRules))
	}
	return c
}

func TestExpectations(t *testing.T) {
	is := target.Target{Name: "is1", Kind: target.Node, Profile: "wso2-is"}
	keys := func(es []Expectation) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Item.Key()+"="+e.Rule)
		}
		return out
	}
	got := keys(Expectations(is, 0))
	want := []string{"22=SSH-005", "4000=OS-004", "4001=OS-004", "9443=NET-001", "9443/carbon=HTTP-004", "9443/services=HTTP-004", "9763=NET-001"}
	if !slices.Equal(got, want) {
		t.Errorf("wso2-is defaults: %v, want %v", got, want)
	}
	// At offset 1 the product ports move, SSH does not.
	got = keys(Expectations(is, 1))
	want = []string{"22=SSH-005", "4001=OS-004", "4002=OS-004", "9444=NET-001", "9444/carbon=HTTP-004", "9444/services=HTTP-004", "9764=NET-001"}
	if !slices.Equal(got, want) {
		t.Errorf("wso2-is at offset 1: %v, want %v", got, want)
	}
	// The inventory replaces a default for the same port and adds its own.
	is.Decl.Reach = []target.Reach{{Port: 9443, Path: "/carbon", From: []string{"mgmt"}}, {Port: 2222, From: []string{"management"}}}
	is.Decl.ExpectedPorts = []int{22, 8080}
	es := Expectations(is, 0)
	for _, e := range es {
		switch e.Item.Key() {
		case "9443/carbon":
			if e.Default || !slices.Equal(e.Reach.From, []string{"mgmt"}) {
				t.Errorf("9443/carbon not replaced: %+v", e)
			}
			if e.For(Vantage{Zone: corp}) != MustNot || e.For(Vantage{Zone: mgmt}) != Must {
				t.Errorf("9443/carbon expectations: corp %s mgmt %s", e.For(Vantage{Zone: corp}), e.For(Vantage{Zone: mgmt}))
			}
		case "8080":
			if e.For(Vantage{Zone: dmz}) != May {
				t.Errorf("expected port 8080 from dmz: %s", e.For(Vantage{Zone: dmz}))
			}
		case "22":
			if !e.Default || e.For(Vantage{Zone: dmz}) != MustNot {
				t.Errorf("22 keeps its default: %+v", e)
			}
		case "4000", "4001":
			if e.For(Vantage{Zone: corp, ClusterMember: true}) != May || e.For(Vantage{Zone: corp}) != MustNot {
				t.Errorf("%s: cluster member %s, other %s", e.Item.Key(), e.For(Vantage{Zone: corp, ClusterMember: true}), e.For(Vantage{Zone: corp}))
			}
		}
	}
	if !slices.Contains(keys(es), "2222=NET-001") || !slices.Contains(keys(es), "8080=NET-001") {
		t.Errorf("declared ports missing: %v", keys(es))
	}
	is.Decl.NoReachDefaults = true
	is.Decl.ExpectedPorts = nil
	if got := keys(Expectations(is, 0)); !slices.Equal(got, []string{"2222=NET-001", "9443/carbon=HTTP-004"}) {
		t.Errorf("without defaults: %v", got)
	}
	hook := target.Target{Name: "hook", Kind: target.Node, Profile: "webhook-relay", Decl: target.Declared{ExpectedPorts: []int{443}, AllowedSources: []string{"203.0.113.0/24"}}}
	if got := keys(Expectations(hook, 0)); !slices.Equal(got, []string{"22=SSH-005", "443=NET-004"}) {
		t.Errorf("webhook relay: %v", got)
	}
}

func TestPortSpec(t *testing.T) {
	got, err := PortSpec("top", []int{22, 443, 9443}, []int{9444, 9445, 4000})
	if err != nil || got != "22,443,4000,9443-9445" {
		t.Errorf("top: %q %v", got, err)
	}
	got, err = PortSpec("22,8000-8002", nil, []int{8003})
	if err != nil || got != "22,8000-8003" {
		t.Errorf("list: %q %v", got, err)
	}
	if _, err := PortSpec("0-3", nil, nil); err == nil {
		t.Error("bad spec accepted")
	}
}

// apim is a node of API Manager seen from three zones: the DMZ reaches
// only the gateway; the internal network also reaches the console, its
// admin paths and SSH (which only management may); management reaches
// everything but the gateway port, which is firewalled from it.
func apim(t *testing.T) (target.Target, []Result) {
	t.Helper()
	tg := target.Target{Name: "apim1", Kind: target.Node, Host: "10.0.1.11", Profile: "wso2-apim"}
	scanned := []int{22, 4000, 4001, 5672, 8243, 8280, 9443, 9999, 11111}
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	dmzObs := &Observation{Source: "192.0.2.2", Scanned: scanned, Open: []OpenPort{{8243, "https"}},
		Paths: []PathSeen{{Port: 8243, Path: "/carbon", Status: 404}}}
	corpObs := &Observation{Source: "198.51.100.2", Scanned: scanned,
		Open: []OpenPort{{22, "ssh"}, {8243, "https"}, {8280, "http"}, {9443, "https"}},
		Paths: []PathSeen{{Port: 9443, Path: "/carbon/admin/login.jsp", Category: "admin", Status: 200, Reachable: true},
			{Port: 9443, Path: "/services", Category: "admin", Status: 403}}}
	mgmtObs := &Observation{Source: "203.0.113.9", Scanned: scanned,
		Open:  []OpenPort{{22, "ssh"}, {8280, "http"}, {9443, "https"}, {9999, "jmx"}, {11111, "unknown"}},
		Paths: []PathSeen{{Port: 9443, Path: "/carbon", Category: "admin", Status: 200, Reachable: true}}}
	pass := func(rule, target string) finding.Finding {
		return finding.Finding{RuleID: rule, Target: target, Status: finding.Pass, Message: "ok"}
	}
	return tg, []Result{
		{Zone: dmz, Agent: "dmz-a", At: at, Obs: dmzObs, Findings: []finding.Finding{pass("HTTP-004", "apim1:8243")}},
		{Zone: corp, Agent: "corp-a", At: at, Obs: corpObs},
		{Zone: mgmt, Agent: "mgmt-a", At: at, Obs: mgmtObs},
	}
}

func cellOf(t *testing.T, m Matrix, key, zone string) Cell {
	t.Helper()
	zi := slices.IndexFunc(m.Zones, func(z MatrixZone) bool { return z.Name == zone })
	for _, r := range m.Rows {
		if r.Item.Key() == key {
			return r.Cells[zi]
		}
	}
	t.Fatalf("no row %s in %+v", key, m.Rows)
	return Cell{}
}

func status(t *testing.T, fs []finding.Finding, rule string) finding.Finding {
	t.Helper()
	for _, f := range fs {
		if f.RuleID == rule {
			return f
		}
	}
	t.Fatalf("no %s finding", rule)
	return finding.Finding{}
}

func TestMatrixAndVerdicts(t *testing.T) {
	cat := catalog(t)
	tg, res := apim(t)
	m := Build(tg, res, cat)
	for _, c := range []struct {
		key, zone string
		expect    Expect
		seen      Seen
		mismatch  string
	}{
		{"8243", "dmz", Must, Reachable, ""},
		{"8243", "mgmt", Must, Blocked, CutOff},
		{"22", "dmz", MustNot, Blocked, ""},
		{"22", "corp", MustNot, Reachable, Violation},
		{"22", "mgmt", Must, Reachable, ""},
		{"9443/carbon", "dmz", MustNot, Blocked, ""},
		{"9443/carbon", "corp", Must, Reachable, ""},
		{"9443/services", "corp", Must, Blocked, CutOff},
		{"9443/publisher", "corp", Must, Unknown, ""},
		{"9999", "corp", MustNot, Blocked, ""},
		{"4001", "dmz", MustNot, Blocked, ""}, // Hazelcast's second port: cluster members only
		{"9999", "mgmt", Must, Reachable, ""},
		{"5672", "corp", Must, Blocked, CutOff}, // the broker port is open nowhere
	} {
		got := cellOf(t, m, c.key, c.zone)
		if got.Expect != c.expect || got.Seen != c.seen || got.Mismatch != c.mismatch {
			t.Errorf("%s from %s: %+v, want %s/%s/%q", c.key, c.zone, got, c.expect, c.seen, c.mismatch)
		}
	}
	if m.Violations != 1 || m.Mismatches != 5 {
		t.Errorf("violations %d mismatches %d, want 1 and 5", m.Violations, m.Mismatches)
	}
	fs := Judge(tg, m, res, cat)
	ssh := status(t, fs, "SSH-005")
	if ssh.Status != finding.Fail || !strings.Contains(ssh.Message, "22 reachable from zone corp (agent corp-a, from 198.51.100.2)") {
		t.Errorf("SSH-005: %s %s", ssh.Status, ssh.Message)
	}
	if len(ssh.Evidence) != 1 || ssh.Evidence[0].Source != "zone corp (agent corp-a, from 198.51.100.2)" {
		t.Errorf("SSH-005 evidence: %+v", ssh.Evidence)
	}
	for _, rule := range []string{"HTTP-004", "NET-003", "OS-004"} {
		if f := status(t, fs, rule); f.Status != finding.Pass {
			t.Errorf("%s: %s %s", rule, f.Status, f.Message)
		}
	}
	if f := status(t, fs, "NET-004"); f.Status != finding.NotApplicable {
		t.Errorf("NET-004 on API-M: %s %s", f.Status, f.Message)
	}
	if f := status(t, fs, "HTTP-004"); !strings.Contains(f.Message, "9443/carbon from dmz") {
		t.Errorf("HTTP-004 pass message: %s", f.Message)
	}
	if f := status(t, fs, "OS-004"); f.Fingerprint != finding.Fingerprint("apim1", "OS-004", "zones") || f.Severity != finding.High || f.Title == "" {
		t.Errorf("OS-004 metadata: %+v", f)
	}
}

func TestNoAgentIsAnErrorNeverAPass(t *testing.T) {
	cat := catalog(t)
	tg, res := apim(t)
	// The internal zone's SSH exposure aside, every rule passes; with the
	// DMZ silent, those that passed are errors naming the zone.
	res[1].Obs.Open = slices.DeleteFunc(res[1].Obs.Open, func(p OpenPort) bool { return p.Port == 22 })
	fs := Judge(tg, Build(tg, res, cat), res, cat)
	if f := status(t, fs, "SSH-005"); f.Status != finding.Pass {
		t.Fatalf("SSH-005 with every zone: %s %s", f.Status, f.Message)
	}
	res[0] = Result{Zone: dmz, Missing: "no agent in zone dmz since 2026-05-01 09:00 UTC"}
	m := Build(tg, res, cat)
	if c := cellOf(t, m, "8243", "dmz"); c.Seen != NoResult || c.Detail != res[0].Missing {
		t.Errorf("dmz cell: %+v", c)
	}
	fs = Judge(tg, m, res, cat)
	for _, f := range fs {
		if f.Status == finding.Pass {
			t.Errorf("%s passes without the dmz: %s", f.RuleID, f.Message)
		}
		if f.RuleID == "SSH-005" && (f.Status != finding.Error || !strings.Contains(f.Message, "no agent in zone dmz since")) {
			t.Errorf("SSH-005: %s %s", f.Status, f.Message)
		}
	}
	// A failure seen from another zone stays a failure.
	res[1].Obs.Open = append(res[1].Obs.Open, OpenPort{22, "ssh"})
	if f := status(t, Judge(tg, Build(tg, res, cat), res, cat), "SSH-005"); f.Status != finding.Fail {
		t.Errorf("SSH-005 reachable from corp, dmz silent: %s", f.Status)
	}
}

func TestOnlyManagementCannotTell(t *testing.T) {
	cat := catalog(t)
	tg := target.Target{Name: "h", Kind: target.Node, Host: "10.0.0.5"}
	res := []Result{{Zone: mgmt, Agent: "m", Obs: &Observation{Scanned: []int{22}, Open: []OpenPort{{22, "ssh"}}}}}
	f := status(t, Judge(tg, Build(tg, res, cat), res, cat), "SSH-005")
	if f.Status != finding.Error || !strings.Contains(f.Message, "none shows it is blocked elsewhere") {
		t.Errorf("SSH-005 from management only: %s %s", f.Status, f.Message)
	}
}

func TestUndeclaredPorts(t *testing.T) {
	cat := catalog(t)
	// No profile, nothing declared: an open port is shown, not judged by
	// the matrix; the zone's own NET-001 verdict (manual) stands.
	tg := target.Target{Name: "h", Kind: target.Node, Host: "10.0.0.5"}
	res := []Result{{Zone: dmz, Agent: "d", Obs: &Observation{Scanned: []int{22, 3306}, Open: []OpenPort{{3306, "mysql"}}},
		Findings: []finding.Finding{{RuleID: "NET-001", Target: "h", Status: finding.Manual, Message: "declare the ports"}}}}
	m := Build(tg, res, cat)
	if c := cellOf(t, m, "3306", "dmz"); c.Expect != Undeclared || c.Seen != Reachable || c.Mismatch != "" {
		t.Errorf("3306: %+v", c)
	}
	if f := status(t, Judge(tg, m, res, cat), "NET-001"); f.Status != finding.Manual {
		t.Errorf("NET-001: %s %s", f.Status, f.Message)
	}
	// Declared ports: anything else open fails NET-001.
	tg.Decl.ExpectedPorts = []int{443}
	m = Build(tg, res, cat)
	if c := cellOf(t, m, "3306", "dmz"); c.Expect != MustNot || c.Mismatch != Violation {
		t.Errorf("3306 with expected_ports: %+v", c)
	}
	if f := status(t, Judge(tg, m, res, cat), "NET-001"); f.Status != finding.Fail || !strings.Contains(f.Message, "3306 reachable from zone dmz") {
		t.Errorf("NET-001: %s %s", f.Status, f.Message)
	}
}

func TestOffsetFromObservations(t *testing.T) {
	cat := catalog(t)
	tg := target.Target{Name: "is1", Kind: target.Node, Profile: "wso2-is"}
	obs := &Observation{Offset: 1, Scanned: []int{22, 4001, 9443, 9444, 9764}, Open: []OpenPort{{9444, "https"}, {4001, "hazelcast"}}}
	res := []Result{{Zone: dmz, Agent: "d", Obs: obs}}
	m := Build(tg, res, cat)
	if m.Offset != 1 {
		t.Fatalf("offset %d", m.Offset)
	}
	if c := cellOf(t, m, "9444", "dmz"); c.Expect != Must || c.Seen != Reachable {
		t.Errorf("9444: %+v", c)
	}
	if c := cellOf(t, m, "4001", "dmz"); c.Mismatch != Violation {
		t.Errorf("4001 from a non-member: %+v", c)
	}
	if f := status(t, Judge(tg, m, res, cat), "OS-004"); f.Status != finding.Fail {
		t.Errorf("OS-004: %s %s", f.Status, f.Message)
	}
}

func TestObservationValidate(t *testing.T) {
	ok := Observation{Scanned: []int{22}, Open: []OpenPort{{22, "ssh"}}, Paths: []PathSeen{{Port: 443, Path: "/x"}}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Observation{
		{Scanned: []int{0}},
		{Open: []OpenPort{{70000, ""}}},
		{Paths: []PathSeen{{Port: 443, Path: "x"}}},
		{Source: strings.Repeat("a", 600)},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func TestZonedNames(t *testing.T) {
	if ZonedName("gw:8243", "dmz") != "gw:8243@dmz" {
		t.Error(ZonedName("gw:8243", "dmz"))
	}
	if tg, z, ok := SplitZoned("a@b@dmz"); !ok || tg != "a@b" || z != "dmz" {
		t.Errorf("%s %s %v", tg, z, ok)
	}
	if _, _, ok := SplitZoned("plain"); ok {
		t.Error("plain split")
	}
}

func TestTrimKeepsWhatTheMatrixUses(t *testing.T) {
	tg := target.Target{Name: "is1", Kind: target.Node, Profile: "wso2-is",
		Decl: target.Declared{Reach: []target.Reach{{Port: 9443, Path: "/oauth2", From: []string{"any"}}}}}
	o := &Observation{Paths: []PathSeen{
		{Port: 9443, Path: "/carbon/admin/login.jsp", Status: 404},
		{Port: 9443, Path: "/oauth2/token", Status: 404},
		{Port: 9443, Path: "/portal", Status: 200, Reachable: true},
		{Port: 9443, Path: "/nothing-here", Status: 404},
	}}
	o.Trim(tg)
	var got []string
	for _, p := range o.Paths {
		got = append(got, p.Path)
	}
	if !slices.Equal(got, []string{"/carbon/admin/login.jsp", "/oauth2/token", "/portal"}) {
		t.Errorf("kept %v", got)
	}
}
