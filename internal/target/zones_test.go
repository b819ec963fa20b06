package target

import (
	"strings"
	"testing"
)

func TestInventoryZones(t *testing.T) {
	inv, ts, err := ParseInventory(strings.NewReader(`
zones:
  - {name: dmz, role: dmz}
  - {name: corp, role: internal}
  - {name: mgmt, role: management}
  - {name: partners, role: partner-net}
defaults:
  zones: [dmz, corp, mgmt]
targets:
  - name: is1
    address: 10.0.1.11
    profile: wso2-is
    reach:
      - {port: 9443, path: /carbon, from: [mgmt, internal]}
      - {port: 4000, may: [cluster]}
  - name: relay
    address: 10.0.2.5:443
    profile: webhook-relay
    zones: [partners, dmz]
    reach_defaults: false
    reach:
      - {port: 443, from: [partner-net], may: [allowed_sources]}
`), "inv.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Zones) != 4 || inv.Zones[3].Role != "partner-net" {
		t.Errorf("zones: %+v", inv.Zones)
	}
	if d := ts[0].Decl; len(d.Zones) != 3 || len(d.Reach) != 2 || d.Reach[0].Key() != "9443/carbon" || d.NoReachDefaults {
		t.Errorf("is1: %+v", d)
	}
	if d := ts[1].Decl; len(d.Zones) != 2 || !d.NoReachDefaults || d.Reach[0].May[0] != ReachAllowedSources {
		t.Errorf("relay: %+v", d)
	}
}

func TestInventoryZoneProblems(t *testing.T) {
	_, _, err := ParseInventory(strings.NewReader(`
zones:
  - {name: DMZ, role: dmz}
  - {name: corp, role: internal}
  - {name: corp, role: "bad role"}
  - {name: any, role: dmz}
targets:
  - address: 10.0.0.1
    zones: [nowhere]
    reach:
      - {port: 0, from: [corp]}
      - {port: 443, path: carbon, from: [mars]}
      - {port: 443, path: carbon, may: [venus]}
`), "inv.yaml", "")
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`name "DMZ"`, `name "corp" is used twice`, `role "bad role"`, `name "any" is reserved`,
		`zone "nowhere" is not one of`, "port 0 is out of range", `path "carbon" must start with /`, `from "mars"`, `may "venus"`, "443carbon is listed twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if _, _, err := ParseInventory(strings.NewReader("targets:\n  - address: 10.0.0.1\n    reach: [{port: 22, from: [any]}]\n"), "inv.yaml", ""); err == nil || !strings.Contains(err.Error(), "need the inventory's zones") {
		t.Errorf("reach without zones: %v", err)
	}
}
