package coord_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/coord"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/target"
	"github.com/rampart-sec/rampart/internal/zone"
	"github.com/rampart-sec/rampart/internal/zonetest"
)

// topology: an API Manager node whose gateway (8243) every zone reaches,
// whose console (9443, /carbon) and SSH (22) the target's nftables rules
// let through only from the internal zone, seen by a dmz agent and an
// internal agent in their own network namespaces; and an endpoint of the
// same node judged by a management zone too, where no agent runs.
func topology(t *testing.T) (*zonetest.Net, []target.Zone, []target.Target) {
	t.Helper()
	n := zonetest.New(t, "dmz", "internal")
	zonetest.HTTP(t, n.Target.Listen(t, "tcp", zonetest.TargetAddr+":8243"), zonetest.Gateway())
	zonetest.HTTP(t, n.Target.Listen(t, "tcp", zonetest.TargetAddr+":9443"), zonetest.Console())
	zonetest.SSH(t, n.Target.Listen(t, "tcp", zonetest.TargetAddr+":22"))
	zonetest.Firewall(t, n.Target, zonetest.RejectFrom(map[string][]int{n.Subnet["dmz"]: {9443, 22}}))
	zones := []target.Zone{{Name: "dmz", Role: "dmz"}, {Name: "internal", Role: "internal"}, {Name: "mgmt", Role: "management"}}
	targets := []target.Target{
		{Name: "apim1", Kind: target.Node, Host: zonetest.TargetAddr, Profile: "wso2-apim", Decl: target.Declared{Zones: []string{"dmz", "internal"}}},
		{Name: "gw", Kind: target.Endpoint, Host: zonetest.TargetAddr, Port: 8243, Scheme: "http"},
	}
	return n, zones, targets
}

func exposureScenario(t *testing.T, nb natsBackend) {
	n, zones, targets := topology(t)
	f := newFixture(t, nb, fixtureOpts{zones: zones, targets: targets})
	f.startAgent("dmz-1", "dmz", coord.KindPassword, n.Zones["dmz"].Dialer(t, 16))
	f.startAgent("int-1", "internal", coord.KindNKey, n.Zones["internal"].Dialer(t, 16))
	f.waitHeard("dmz-1", "int-1")

	ctx := context.Background()
	local, round, err := f.co.FanOut(ctx, "nightly", append(targets, target.Target{Name: "files", Kind: target.Directory, Dir: "/opt/x"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(local) != 1 || local[0].Name != "files" {
		t.Errorf("targets left to the server: %+v", local)
	}
	run := f.waitJudged(round)

	// The exposure matrix of the node.
	e, err := f.store.Exposure(ctx, "apim1")
	if err != nil {
		t.Fatal(err)
	}
	var m zone.Matrix
	if err := json.Unmarshal([]byte(e.Matrix), &m); err != nil {
		t.Fatal(err)
	}
	cell := func(key, z string) zone.Cell {
		t.Helper()
		zi := slices.IndexFunc(m.Zones, func(mz zone.MatrixZone) bool { return mz.Name == z })
		for _, r := range m.Rows {
			if r.Item.Key() == key && zi >= 0 {
				return r.Cells[zi]
			}
		}
		t.Fatalf("no %s from %s in %+v", key, z, m)
		return zone.Cell{}
	}
	for _, c := range []struct {
		key, zone string
		expect    zone.Expect
		seen      zone.Seen
		mismatch  string
	}{
		{"8243", "dmz", zone.Must, zone.Reachable, ""},
		{"8243", "internal", zone.Must, zone.Reachable, ""},
		{"9443", "dmz", zone.MustNot, zone.Blocked, ""},
		{"9443", "internal", zone.Must, zone.Reachable, ""},
		{"9443/carbon", "dmz", zone.MustNot, zone.Blocked, ""},
		{"9443/carbon", "internal", zone.Must, zone.Reachable, ""},
		{"22", "dmz", zone.MustNot, zone.Blocked, ""},
		{"22", "internal", zone.MustNot, zone.Reachable, zone.Violation},
		{"9999", "internal", zone.MustNot, zone.Blocked, ""},
		{"8280", "internal", zone.Must, zone.Blocked, zone.CutOff},
	} {
		if got := cell(c.key, c.zone); got.Expect != c.expect || got.Seen != c.seen || got.Mismatch != c.mismatch {
			t.Errorf("%s from %s: %+v, want %s/%s/%q", c.key, c.zone, got, c.expect, c.seen, c.mismatch)
		}
	}
	if m.Zones[0].Agent != "dmz-1" || m.Zones[0].Source != n.Source["dmz"] || m.Zones[1].Source != n.Source["internal"] {
		t.Errorf("matrix zones %+v", m.Zones)
	}
	if e.Violations != 1 {
		t.Errorf("violations %d, want 1 (SSH from internal)", e.Violations)
	}

	// The verdicts across zones, stored under the bare name.
	want := map[string]finding.Status{"SSH-005": finding.Fail, "HTTP-004": finding.Pass, "NET-003": finding.Pass, "OS-004": finding.Pass,
		"NET-001": finding.Pass, "NET-002": finding.Fail, "NET-004": finding.NotApplicable, "HTTP-005": finding.Manual}
	for rule, st := range want {
		if got := findingOf(t, f.store, run, "apim1", rule); got.Status != st {
			t.Errorf("apim1 %s: %s (%s), want %s", rule, got.Status, got.Message, st)
		}
	}
	ssh := findingOf(t, f.store, run, "apim1", "SSH-005")
	if !strings.Contains(ssh.Message, "22 reachable from zone internal (agent int-1, from "+n.Source["internal"]+")") {
		t.Errorf("SSH-005 message: %s", ssh.Message)
	}
	if len(ssh.Evidence) == 0 || ssh.Evidence[0].Source != "zone internal (agent int-1, from "+n.Source["internal"]+")" {
		t.Errorf("SSH-005 evidence: %+v", ssh.Evidence)
	}
	// The endpoint is also judged by the management zone, where no agent
	// runs: nothing passes, and what does not fail says why.
	for _, rule := range zone.ExposureRules() {
		f := findingOf(t, f.store, run, "gw", rule)
		if f.Status == finding.Pass {
			t.Errorf("gw %s passes with no agent in mgmt: %s", rule, f.Message)
		}
		if f.Status == finding.Error && !strings.Contains(f.Message, "no agent in zone mgmt") {
			t.Errorf("gw %s error without the zone: %s", rule, f.Message)
		}
	}
	if got := findingOf(t, f.store, run, "gw", "HTTP-004"); got.Status != finding.Error {
		t.Errorf("gw HTTP-004: %s %s", got.Status, got.Message)
	}

	// Each zone's findings are runs of their own, under zoned names, and
	// each job was stored once.
	runs, err := f.store.Runs(ctx, 20, 0)
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]bool{}
	for _, r := range runs {
		sources[r.Source] = true
	}
	for _, s := range []string{"zone:dmz agent:dmz-1 schedule:nightly", "zone:internal agent:int-1 schedule:nightly"} {
		if !sources[s] {
			t.Errorf("no run from %q in %v", s, sources)
		}
	}
	if _, err := f.store.Target(ctx, "apim1@internal"); err != nil {
		t.Errorf("zoned target: %v", err)
	}
	if _, err := f.store.Target(ctx, "apim1:9443@internal"); err != nil {
		t.Errorf("the console endpoint found from internal: %v", err)
	}
	if _, err := f.store.Target(ctx, "apim1:9443@dmz"); err == nil {
		t.Errorf("the dmz reached the console")
	}
	jobs, _ := f.store.RoundJobs(ctx, round)
	if len(jobs) != 5 { // 2 zones x apim1, 2 zones x gw, 1 exposure claim
		t.Errorf("round jobs %+v", jobs)
	}
	// The zone's own verdict on the console page, from inside.
	gwState, err := f.store.Target(ctx, "apim1:8243@dmz")
	if err != nil {
		t.Fatal(err)
	}
	http004 := findingOf(t, f.store, gwState.LastRunID, "apim1:8243@dmz", "HTTP-004")
	if http004.Status != finding.Pass {
		t.Errorf("HTTP-004 from the dmz on the gateway: %s %s", http004.Status, http004.Message)
	}
}

func TestExposureAcrossZonesEmbeddedNATS(t *testing.T) {
	exposureScenario(t, embedded(t, t.TempDir()))
}

func TestExposureAcrossZonesDebianNATS(t *testing.T) {
	nb, _ := debian(t, t.TempDir())
	exposureScenario(t, nb)
}
