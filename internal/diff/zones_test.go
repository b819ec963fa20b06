package diff

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/testenv"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/portscan"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/finding"
	"github.com/rampart-sec/rampart/internal/netnstest"
	"github.com/rampart-sec/rampart/internal/report"
	"github.com/rampart-sec/rampart/internal/rules"
	"github.com/rampart-sec/rampart/internal/scan"
	"github.com/rampart-sec/rampart/internal/target"
	builtin "github.com/rampart-sec/rampart/rules"
)

// TestZonesEndToEnd stands up one node and two zones in network
// namespaces: the node's MySQL listens on every address, its JMX registry
// and Hazelcast member port only on the internal interface. It scans the
// node from each zone with the real scanner, port collector and built-in
// rules, writes both JSON reports, and diffs them.
func TestZonesEndToEnd(t *testing.T) {
	node, dmz, internal := netnstest.New(t), netnstest.New(t), netnstest.New(t)
	netnstest.Veth(t, node, dmz, "192.0.2.1/24", "192.0.2.2/24")
	netnstest.Veth(t, node, internal, "198.51.100.1/24", "198.51.100.2/24")

	serveFor(t, node.Listen(t, "tcp", "0.0.0.0:3306"), mysql)
	serveFor(t, node.Listen(t, "tcp", "198.51.100.1:9999"), jrmi)
	serveFor(t, node.Listen(t, "tcp", "198.51.100.1:4000"), hazelcast)

	set, err := rules.Load(rules.Source{Name: "rules", FS: builtin.FS, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	run := func(zone *netnstest.NS, role, addr string, members []string) []byte {
		s := &scan.Scanner{
			Collectors: []collect.Collector{portscan.New(portscan.Options{ConnectTimeout: time.Second, BannerWait: 300 * time.Millisecond})},
			Rules:      set.Rules(),
			Env:        collect.Env{Dialer: zone.Dialer(t, 16), PerHost: 4, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }},
			Scan:       facts.DefaultScan(time.Time{}),
			Role:       role,
			Tool:       finding.Tool{Name: "rampart", Version: "test"},
		}
		tg := target.Target{Name: "node1", Kind: target.Node, Host: addr,
			Decl: target.Declared{Ports: "22,3306,4000,9999", ExpectedPorts: []int{3306}, ClusterMembers: members}}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res := s.Run(ctx, []target.Target{tg})
		var buf bytes.Buffer
		if err := (report.JSON{}).Render(&buf, res.Report); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	// The node is reached at its DMZ address from the DMZ and at its
	// internal address from the internal zone, whose scanner is a
	// declared cluster member.
	dmzJSON := run(dmz, "dmz", "192.0.2.1", []string{"198.51.100.0/24"})
	intJSON := run(internal, "internal", "198.51.100.1", []string{"198.51.100.2"})

	a, err := Read(bytes.NewReader(dmzJSON), "dmz.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Read(bytes.NewReader(intJSON), "internal.json")
	if err != nil {
		t.Fatal(err)
	}
	status := func(r *finding.Report, rule string) finding.Status {
		for _, f := range r.Findings {
			if f.Target == "node1" && f.RuleID == rule {
				return f.Status
			}
		}
		return ""
	}
	if got := a.Targets[0].OpenPorts; !slices.Equal(got, []string{"3306/mysql"}) {
		t.Errorf("dmz sees %v", got)
	}
	if got := b.Targets[0].OpenPorts; !slices.Equal(got, []string{"3306/mysql", "4000/hazelcast", "9999/jmx"}) {
		t.Errorf("internal sees %v", got)
	}
	// Each rule both ways, judged by vantage point.
	for _, c := range []struct {
		rule     string
		dmz, int finding.Status
	}{
		{"NET-001", finding.Pass, finding.Fail},         // 4000 and 9999 are not expected
		{"NET-002", finding.Pass, finding.Fail},         // 4000 and 9999 are WSO2 defaults
		{"NET-003", finding.Pass, finding.Fail},         // JMX reachable from the internal zone
		{"OS-004", finding.Pass, finding.NotApplicable}, // the internal scanner is a cluster member
	} {
		if got := status(a, c.rule); got != c.dmz {
			t.Errorf("%s from dmz: %s, want %s", c.rule, got, c.dmz)
		}
		if got := status(b, c.rule); got != c.int {
			t.Errorf("%s from internal: %s, want %s", c.rule, got, c.int)
		}
	}

	res := Compare(a, b, "dmz.json", "internal.json")
	if res.Identical || len(res.Targets) != 1 {
		t.Fatalf("diff: %+v", res)
	}
	d := res.Targets[0]
	if !slices.Equal(d.PortsOnlyB, []string{"4000/hazelcast", "9999/jmx"}) || len(d.PortsOnlyA) != 0 {
		t.Errorf("port diff %+v", d)
	}
	var rulesDiffer []string
	for _, f := range d.Findings {
		rulesDiffer = append(rulesDiffer, f.Rule)
	}
	if !slices.Equal(rulesDiffer, []string{"NET-001", "NET-002", "NET-003", "OS-004"}) {
		t.Errorf("findings that differ: %v", rulesDiffer)
	}
	var text bytes.Buffer
	_ = Render(&text, res, "text")
	if !strings.Contains(text.String(), "open only from B: 4000/hazelcast, 9999/jmx") {
		t.Errorf("text:\n%s", text.String())
	}

	// A webhook receiver whose filter admits only the internal zone, but
	// which listens on every address with no firewall: the DMZ reaches it
	// (NET-004 fails); from the internal zone, an allowed source, the
	// probe cannot tell and the rule asks for an attestation.
	serveFor(t, node.Listen(t, "tcp", "0.0.0.0:8443"), func(c net.Conn) {})
	hook := func(zone *netnstest.NS, role, addr string) finding.Status {
		s := &scan.Scanner{
			Collectors: []collect.Collector{portscan.New(portscan.Options{ConnectTimeout: time.Second, BannerWait: 300 * time.Millisecond})},
			Rules:      set.Rules(),
			Env:        collect.Env{Dialer: zone.Dialer(t, 4), PerHost: 4},
			Scan:       facts.DefaultScan(time.Time{}),
			Role:       role,
		}
		tg := target.Target{Name: "hook", Kind: target.Node, Host: addr, Profile: "webhook-relay",
			Decl: target.Declared{Ports: "8443", ExpectedPorts: []int{8443}, AllowedSources: []string{"198.51.100.0/24"}}}
		res := s.Run(context.Background(), []target.Target{tg})
		for _, f := range res.Report.Findings {
			if f.RuleID == "NET-004" {
				return f.Status
			}
		}
		return ""
	}
	if got := hook(dmz, "dmz", "192.0.2.1"); got != finding.Fail {
		t.Errorf("NET-004 from dmz: %s, want fail", got)
	}
	if got := hook(internal, "internal", "198.51.100.1"); got != finding.Manual {
		t.Errorf("NET-004 from an allowed source: %s, want manual", got)
	}

	// The DMZ's /29 as a range: its live addresses become nodes, and the
	// port rules judge those nodes, not the range.
	rs := &scan.Scanner{
		Collectors: []collect.Collector{portscan.New(portscan.Options{ConnectTimeout: 500 * time.Millisecond, BannerWait: 300 * time.Millisecond})},
		Rules:      set.Rules(),
		Env:        collect.Env{Dialer: dmz.Dialer(t, 16), PerHost: 4},
		Scan:       facts.DefaultScan(time.Time{}),
		Role:       "dmz",
	}
	rr := rs.Run(context.Background(), []target.Target{{Name: "dmz-range", Kind: target.Node, Host: "192.0.2.0/29", Decl: target.Declared{Ports: "3306,8443"}}}).Report
	names := map[string]finding.TargetInfo{}
	for _, ti := range rr.Targets {
		names[ti.Name] = ti
	}
	if n, ok := names["192.0.2.1"]; !ok || n.Parent != "dmz-range" || !slices.Equal(n.OpenPorts, []string{"3306/mysql", "8443/unknown"}) {
		t.Errorf("range scan targets: %+v", rr.Targets)
	}
	for _, f := range rr.Findings {
		if f.Target == "dmz-range" && f.RuleID == "NET-003" && f.Status != finding.NotApplicable {
			t.Errorf("NET-003 on the range itself: %s %s", f.Status, f.Message)
		}
	}

	// From the DMZ, a scanner that is not a cluster member reaching the
	// Hazelcast port fails OS-004: move the member port to every address.
	serveFor(t, node.Listen(t, "tcp", "192.0.2.1:4000"), hazelcast)
	a2, err := Read(bytes.NewReader(run(dmz, "dmz", "192.0.2.1", []string{"198.51.100.0/24"})), "dmz2.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := status(a2, "OS-004"); got != finding.Fail {
		t.Errorf("OS-004 from dmz with 4000 reachable: %s", got)
	}
}

func serveFor(t *testing.T, l net.Listener, handle func(net.Conn)) {
	testenv.ServeListener(t, l, 5*time.Second, handle)
}

// mysql sends a MySQL 5.7 protocol-10 greeting.
func mysql(c net.Conn) {
	p := []byte{0x0a}
	p = append(p, "5.7.44-log\x00"...)
	p = append(p, 1, 0, 0, 0)
	p = append(p, "12345678\x00"...)
	p = append(p, 0xff, 0xf7, 0x21, 0x02, 0x00, 0xff, 0x81, 21)
	p = append(p, make([]byte, 10)...)
	p = append(p, "9abcdefghijk\x00mysql_native_password\x00"...)
	_, _ = c.Write(append([]byte{byte(len(p)), 0, 0, 0}, p...))
	_, _ = io.Copy(io.Discard, c)
}

// jrmi answers a JRMP stream header with a ProtocolAck, as a Java RMI
// registry does: the client's host as seen by the server, and its port.
func jrmi(c net.Conn) {
	hdr := make([]byte, 7)
	if _, err := io.ReadFull(c, hdr); err != nil || string(hdr[:4]) != "JRMI" {
		return
	}
	host, port, _ := net.SplitHostPort(c.RemoteAddr().String())
	ack := []byte{0x4e, 0, byte(len(host))}
	ack = append(ack, host...)
	var pb [4]byte
	p := 0
	for _, ch := range port {
		p = p*10 + int(ch-'0')
	}
	binary.BigEndian.PutUint32(pb[:], uint32(p))
	_, _ = c.Write(append(ack, pb[:]...))
	_, _ = io.Copy(io.Discard, c)
}

func hazelcast(c net.Conn) {
	b := make([]byte, 3)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "HZC" {
		return
	}
	_, _ = c.Write([]byte("HZC"))
	_, _ = io.Copy(io.Discard, c)
}
