package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/zone"
	"github.com/rampart-sec/rampart/internal/zonetest"
)

// TestDashboardShowsTheZones: real serve, real agents in a dmz and an
// internal namespace, an API Manager node whose console (9443) and SSH
// (22) the target's nftables rules let through only from internal. After
// the round, the dashboard shows each agent live with its version and
// last heartbeat, each zone's queue, the target's exposure with its
// violation, and the exposure matrix page with the violating cell
// highlighted (SSH reachable from internal: only management may) and the
// console blocked from the DMZ.
func TestDashboardShowsTheZones(t *testing.T) {
	w := newWorld(t, "dmz", "internal")
	zonetest.HTTP(t, w.net.Target.Listen(t, "tcp", zonetest.TargetAddr+":8243"), zonetest.Gateway())
	zonetest.HTTP(t, w.net.Target.Listen(t, "tcp", zonetest.TargetAddr+":9443"), zonetest.Console())
	zonetest.SSH(t, w.net.Target.Listen(t, "tcp", zonetest.TargetAddr+":22"))
	zonetest.Firewall(t, w.net.Target, zonetest.RejectFrom(map[string][]int{w.net.Subnet["dmz"]: {9443, 22}}))
	w.startServe(w.config(`zones: [{name: dmz, role: dmz}, {name: internal, role: internal}]
targets:
  - {name: apim1, address: 10.99.0.1, profile: wso2-apim}
`, embeddedNATS))
	w.startAgent("dmz-1", "dmz", "dmz")
	w.startAgent("int-1", "internal", "internal")
	w.dash.runNow("audit")
	w.judged(1)

	// The API: agents with their version and heartbeat, the queues.
	code, body := w.dash.do("GET", "/api/v1/zones", nil)
	var v struct {
		Zones []struct {
			Zone     string `json:"zone"`
			Role     string `json:"role"`
			Pending  uint64 `json:"pending"`
			Agents   int    `json:"agents"`
			Live     int    `json:"live"`
			LastSeen string `json:"last_seen"`
		} `json:"zones"`
		Agents []struct {
			Name          string `json:"name"`
			Zone          string `json:"zone"`
			Live          bool   `json:"live"`
			Version       string `json:"version"`
			LastHeartbeat string `json:"last_heartbeat"`
		} `json:"agents"`
		Exposures []struct {
			Target     string `json:"target"`
			Violations int    `json:"violations"`
		} `json:"exposures"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
		t.Fatalf("zones API: %d %.500s", code, body)
	}
	if len(v.Zones) != 2 {
		t.Fatalf("zones: %+v", v.Zones)
	}
	for _, q := range v.Zones {
		if q.Agents != 1 || q.Live != 1 || q.LastSeen == "" || q.Pending != 0 {
			t.Errorf("zone queue after the round: %+v", q)
		}
	}
	version := regexp.MustCompile(`^\d+\.\d+\.\d+`)
	for _, a := range v.Agents {
		if !a.Live || !version.MatchString(a.Version) || a.LastHeartbeat == "" {
			t.Errorf("agent %+v: want live, with its version and last heartbeat", a)
		}
	}
	if len(v.Agents) != 2 {
		t.Errorf("agents: %+v", v.Agents)
	}
	if len(v.Exposures) != 1 || v.Exposures[0].Target != "apim1" || v.Exposures[0].Violations != 1 {
		t.Errorf("exposures: %+v", v.Exposures)
	}

	// The exposure matrix, as data.
	code, body = w.dash.do("GET", "/api/v1/exposure?target=apim1", nil)
	var e struct {
		Violations int         `json:"violations"`
		Matrix     zone.Matrix `json:"matrix"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &e) != nil {
		t.Fatalf("exposure API: %d %.500s", code, body)
	}
	m := e.Matrix
	cell := func(key, z string) zone.Cell {
		t.Helper()
		zi := slices.IndexFunc(m.Zones, func(mz zone.MatrixZone) bool { return mz.Name == z })
		for _, r := range m.Rows {
			if r.Item.Key() == key && zi >= 0 {
				return r.Cells[zi]
			}
		}
		t.Fatalf("no %s from %s in the matrix %+v", key, z, m)
		return zone.Cell{}
	}
	for _, c := range []struct {
		key, zone string
		expect    zone.Expect
		seen      zone.Seen
		mismatch  string
	}{
		{"8243", "dmz", zone.Must, zone.Reachable, ""},
		{"9443/carbon", "dmz", zone.MustNot, zone.Blocked, ""},
		{"9443/carbon", "internal", zone.Must, zone.Reachable, ""},
		{"22", "dmz", zone.MustNot, zone.Blocked, ""},
		{"22", "internal", zone.MustNot, zone.Reachable, zone.Violation},
		{"4001", "internal", zone.MustNot, zone.Blocked, ""},
	} {
		if got := cell(c.key, c.zone); got.Expect != c.expect || got.Seen != c.seen || got.Mismatch != c.mismatch {
			t.Errorf("%s from %s: %+v, want %s/%s/%q", c.key, c.zone, got, c.expect, c.seen, c.mismatch)
		}
	}
	for _, z := range m.Zones {
		if z.Agent == "" || z.Source != w.net.Source[z.Name] {
			t.Errorf("matrix zone %+v: want its agent and source %s", z, w.net.Source[z.Name])
		}
	}

	// The pages.
	_, page := w.dash.do("GET", "/zones", nil)
	for _, want := range []string{`<td class="mono">dmz-1</td>`, `<td class="mono">int-1</td>`, `<span class="t-pass">live</span>`,
		`href="/zones/exposure?target=apim1"`, `<td class="num t-fail">1</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the zones page lacks %s", want)
		}
	}
	_, page = w.dash.do("GET", "/zones/exposure?target=apim1", nil)
	row := regexp.MustCompile(`(?s)<tr><td class="mono">22[ <].*?</tr>`).FindString(page)
	cells := regexp.MustCompile(`class="mx-cell ([^"]*)"`).FindAllStringSubmatch(row, -1)
	if !strings.Contains(page, `id="matrix"`) || len(cells) != 2 || cells[0][1] != "mx-blocked" || cells[1][1] != "mx-reachable mx-violation" ||
		!strings.Contains(row, "must not · reachable <b>✗</b>") {
		t.Errorf("the exposure page does not highlight SSH reachable from internal:\n%.3000s", page)
	}
}

// TestAgentRevokedOnTheDashboard: an admin revokes a running agent on
// the Zones page: its connection is closed, its credentials are refused
// when it reconnects, and the agent exits with status 1 saying so; the
// dashboard shows it revoked, the audit log says who revoked it, and the
// zone's other agent keeps working.
func TestAgentRevokedOnTheDashboard(t *testing.T) {
	w := newWorld(t, "dmz")
	w.startServe(w.config(`zones: [{name: dmz, role: dmz}]
targets:
  - {name: gw, address: "http://10.99.0.1:8243/", reach_defaults: false}
`, embeddedNATS))
	zonetest.HTTP(t, w.net.Target.Listen(t, "tcp", zonetest.TargetAddr+":8243"), zonetest.Gateway())
	gone := w.startAgent("dmz-1", "dmz", "dmz")
	kept := w.startAgent("dmz-2", "dmz", "dmz")
	w.dash.do("GET", "/zones", nil)
	code, page := w.dash.do("POST", "/zones/agents/revoke", url.Values{"name": {"dmz-1"}})
	if code != http.StatusOK || !strings.Contains(page, "Agent dmz-1 revoked") {
		t.Fatalf("revoke: %d %.2000s", code, page)
	}
	select {
	case <-gone.exited:
	case <-time.After(3 * time.Minute): // a bound, not a wait: the agent exits when refused
		t.Fatalf("the revoked agent still runs:\n%s", gone.out.String())
	}
	if c := gone.cmd.ProcessState.ExitCode(); c != 1 || !strings.Contains(gone.out.String(), "refused the agent's credentials") {
		t.Errorf("revoked agent exited with %d:\n%s", c, gone.out.String())
	}
	for _, a := range w.dash.zones().Agents {
		if a.Name == "dmz-1" && a.Live {
			t.Errorf("revoked agent shown live: %+v", a)
		}
	}
	_, page = w.dash.do("GET", "/zones", nil)
	if !strings.Contains(page, `<span class="t-fail">revoked `) {
		t.Errorf("the zones page does not show dmz-1 revoked")
	}
	_, body := w.dash.do("GET", "/api/v1/audit", nil)
	var audit struct {
		Entries []struct{ Actor, Action, Subject string } `json:"entries"`
	}
	if err := json.Unmarshal([]byte(body), &audit); err != nil {
		t.Fatalf("audit log: %v: %.500s", err, body)
	}
	revoked := slices.ContainsFunc(audit.Entries, func(e struct{ Actor, Action, Subject string }) bool {
		return e.Action == "agent.revoke" && e.Subject == "dmz-1" && e.Actor == "admin"
	})
	if !revoked {
		t.Errorf("the audit log has no agent.revoke of dmz-1 by admin: %+v", audit.Entries)
	}
	w.dash.runNow("audit")
	w.judged(1)
	kept.out.wait(t, regexp.MustCompile(`msg="job done".* job=1\.dmz\.0 `), 1)
	if z := w.dash.zones(); z.Rounds[0].Done != 1 {
		t.Errorf("round after the revocation: %+v", z.Rounds)
	}
}
