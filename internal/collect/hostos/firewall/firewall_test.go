package firewall

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-sec/rampart/internal/facts"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ruleFor finds the input rule that opens port p.
func ruleFor(fw facts.Firewall, chain string, p int) *facts.FirewallRule {
	for i, r := range fw.Rules {
		if r.Chain == chain && slices.Contains(r.Ports, p) {
			return &fw.Rules[i]
		}
	}
	return nil
}

// checkHardened asserts the reduction of testdata/hardened.*: the same
// rule set read from nft JSON and from the nft text syntax.
func checkHardened(t *testing.T, fw facts.Firewall) {
	t.Helper()
	if !fw.Enabled || fw.InputPolicy != "drop" || fw.OutputPolicy != "accept" {
		t.Fatalf("enabled %v input %q output %q", fw.Enabled, fw.InputPolicy, fw.OutputPolicy)
	}
	// established/related, invalid drop and iif lo are not exposure rules.
	if len(fw.Rules) != 5 {
		t.Errorf("rules %+v, want 5", fw.Rules)
	}
	ssh := ruleFor(fw, "input", 2222)
	if ssh == nil || ssh.Protocol != "tcp" || !slices.Equal(ssh.Sources, []string{"10.0.9.0/24", "192.0.2.10"}) {
		t.Errorf("ssh rule %+v: the named set @mgmt must be resolved", ssh)
	}
	web := ruleFor(fw, "input", 9443)
	if web == nil || !slices.Equal(web.Ports, []int{8243, 9443}) || len(web.Sources) != 0 {
		t.Errorf("web rule %+v", web)
	}
	cl := ruleFor(fw, "input", 4000)
	if cl == nil || !slices.Equal(cl.Ports, []int{4000, 4001}) || !slices.Equal(cl.Sources, []string{"10.0.1.11", "10.0.1.12"}) {
		t.Errorf("cluster rule %+v", cl)
	}
	rng := ruleFor(fw, "input", 5005)
	if rng == nil || len(rng.Ports) != 11 {
		t.Errorf("range rule %+v", rng)
	}
	dns := ruleFor(fw, "input", 53)
	if dns == nil || dns.Protocol != "udp" || !slices.Equal(dns.Sources, []string{"fd00::/8"}) {
		t.Errorf("rule reached through jump extra %+v", dns)
	}
}

func TestNftJSON(t *testing.T) {
	rs, err := ParseNftJSON(read(t, "hardened.json"), "nft -j list ruleset")
	if err != nil {
		t.Fatal(err)
	}
	checkHardened(t, rs.Reduce("nftables", "nft -j list ruleset"))
	if len(rs.Problems) > 0 {
		t.Errorf("problems %v", rs.Problems)
	}
}

func TestNftConf(t *testing.T) {
	rs := ParseNftConf(string(read(t, "hardened.nft")), "/etc/nftables.conf", nil, nil)
	fw := rs.Reduce("nftables", "/etc/nftables.conf")
	checkHardened(t, fw)
	if r := ruleFor(fw, "input", 2222); r == nil || r.Origin.File != "/etc/nftables.conf" || r.Origin.Line != 13 {
		t.Errorf("origin %+v", r)
	}
	if len(rs.Problems) > 0 {
		t.Errorf("problems %v", rs.Problems)
	}
}

func TestNftEmptyAndOpen(t *testing.T) {
	rs, err := ParseNftJSON(read(t, "empty.json"), "nft")
	if err != nil {
		t.Fatal(err)
	}
	if fw := rs.Reduce("nftables", "nft"); fw.Enabled {
		t.Errorf("empty ruleset: %+v", fw)
	}
	rs, err = ParseNftJSON(read(t, "open.json"), "nft")
	if err != nil {
		t.Fatal(err)
	}
	fw := rs.Reduce("nftables", "nft")
	if !fw.Enabled || fw.InputPolicy != "accept" || fw.OutputPolicy != "" || len(fw.Rules) != 1 {
		t.Errorf("open: %+v", fw)
	}
}

func TestIptablesSave(t *testing.T) {
	rs := ParseIptablesSave(string(read(t, "iptables-save.txt")), "iptables-save", "ip", nil)
	fw := rs.Reduce("iptables", "iptables-save")
	if !fw.Enabled || fw.InputPolicy != "drop" || fw.OutputPolicy != "accept" {
		t.Fatalf("%+v", fw)
	}
	if r := ruleFor(fw, "input", 22); r == nil || !slices.Equal(r.Sources, []string{"10.0.9.0/24"}) {
		t.Errorf("ssh %+v", r)
	}
	if r := ruleFor(fw, "input", 8243); r == nil || !slices.Equal(r.Ports, []int{8243, 9443}) {
		t.Errorf("multiport %+v", r)
	}
	if r := ruleFor(fw, "input", 4001); r == nil || !slices.Equal(r.Ports, []int{4000, 4001}) {
		t.Errorf("rule in a user chain %+v", r)
	}
	// "! -s 10.0.0.0/8" admits everyone else: reported as any source.
	if r := ruleFor(fw, "input", 9999); r == nil || len(r.Sources) != 0 {
		t.Errorf("negated source %+v", r)
	}
	if len(fw.Rules) != 4 {
		t.Errorf("rules %+v", fw.Rules)
	}
}

func TestWideRangeIsAnyPort(t *testing.T) {
	rs := ParseNftConf("table ip f {\n chain input {\n type filter hook input priority 0; policy drop;\n tcp dport 1024-65535 accept\n }\n}\n", "x.conf", nil, nil)
	fw := rs.Reduce("nftables", "x.conf")
	if len(fw.Rules) != 1 || len(fw.Rules[0].Ports) != 0 || !strings.Contains(fw.Rules[0].Origin.Note, "any port") {
		t.Errorf("%+v", fw.Rules)
	}
}

func TestJumpLoopIsBounded(t *testing.T) {
	text := "table ip f {\n chain a {\n jump b\n }\n chain b {\n jump a\n tcp dport 1 accept\n }\n chain input {\n type filter hook input priority 0; policy drop;\n jump a\n }\n}\n"
	fw := ParseNftConf(text, "loop.conf", nil, nil).Reduce("nftables", "loop.conf")
	if len(fw.Rules) != 1 {
		t.Errorf("%+v", fw.Rules)
	}
}

func TestGarbage(t *testing.T) {
	if _, err := ParseNftJSON([]byte(`{"nftables": [{"rule": 5}, {"chain": "x"}]`), "nft"); err == nil {
		t.Error("truncated JSON must fail")
	}
	rs, err := ParseNftJSON([]byte(`{"nftables": [{"rule": 5}, {"chain": "x"}, {"rule": {"expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"range": ["x"]}}}, {"accept": null}]}}]}`), "nft")
	if err != nil {
		t.Fatal(err)
	}
	rs.Reduce("nftables", "nft")
	ParseNftConf("}}}{{{ table { chain { policy", "g.conf", nil, nil).Reduce("nftables", "g.conf")
	ParseIptablesSave("*filter\n:INPUT\n-A\n-A INPUT -p\n-A INPUT --dport\nCOMMIT\n", "g", "ip", nil).Reduce("iptables", "g")
}

// checkFirewall asserts what any ruleset reduces to: deterministic
// (reduced twice, the same facts), only accept rules of the input and
// output hooks, a known protocol, ports 0-65535 ascending without
// repeats, policies that are a verdict, and no rule nor policy without a
// base chain.
func checkFirewall(t *testing.T, reduce func() facts.Firewall) {
	t.Helper()
	fw := reduce()
	if again := reduce(); !reflect.DeepEqual(fw, again) {
		t.Fatalf("reduced twice, different facts:\n%+v\n%+v", fw, again)
	}
	verdicts := []string{"", "accept", "reject", "drop"}
	if !slices.Contains(verdicts, fw.InputPolicy) || !slices.Contains(verdicts, fw.OutputPolicy) {
		t.Fatalf("policies %q %q", fw.InputPolicy, fw.OutputPolicy)
	}
	if !fw.Enabled && (len(fw.Rules) > 0 || fw.InputPolicy != "" || fw.OutputPolicy != "") {
		t.Fatalf("no base chain, yet rules %+v and policies %q %q", fw.Rules, fw.InputPolicy, fw.OutputPolicy)
	}
	for _, r := range fw.Rules {
		if (r.Chain != "input" && r.Chain != "output") || r.Action != "accept" || !slices.Contains([]string{"tcp", "udp", "any"}, r.Protocol) {
			t.Fatalf("rule %+v", r)
		}
		for i, p := range r.Ports {
			if p < 0 || p > 65535 || (i > 0 && p <= r.Ports[i-1]) {
				t.Fatalf("ports %v", r.Ports)
			}
		}
	}
}

// The fuzz targets hold every parser's output to checkFirewall.
func FuzzParseNftConf(f *testing.F) {
	f.Add(string(mustRead(f, "hardened.nft")))
	f.Fuzz(func(t *testing.T, s string) {
		checkFirewall(t, func() facts.Firewall { return ParseNftConf(s, "f.conf", nil, nil).Reduce("nftables", "f.conf") })
	})
}

func FuzzParseNftJSON(f *testing.F) {
	f.Add(mustRead(f, "hardened.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseNftJSON(b, "nft"); err != nil {
			return
		}
		checkFirewall(t, func() facts.Firewall {
			rs, _ := ParseNftJSON(b, "nft")
			return rs.Reduce("nftables", "nft")
		})
	})
}

func FuzzParseIptablesSave(f *testing.F) {
	f.Add(string(mustRead(f, "iptables-save.txt")))
	f.Fuzz(func(t *testing.T, s string) {
		checkFirewall(t, func() facts.Firewall { return ParseIptablesSave(s, "f", "ip", nil).Reduce("iptables", "f") })
	})
}

func mustRead(f *testing.F, name string) []byte {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// TestICMPOpensNoPort: an ICMP accept rule (needed for IPv6 neighbour
// discovery under a drop policy) opens no TCP or UDP port, in the file
// syntax and in nft's JSON.
func TestICMPOpensNoPort(t *testing.T) {
	conf := "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\tmeta l4proto icmp accept\n\t\tmeta l4proto ipv6-icmp accept\n\t\ttcp dport 22 accept\n\t}\n}\n"
	fw := ParseNftConf(conf, "/etc/nftables.conf", nil, nil).Reduce("nftables", "/etc/nftables.conf")
	if len(fw.Rules) != 1 || len(fw.Rules[0].Ports) != 1 || fw.Rules[0].Ports[0] != 22 {
		t.Fatalf("rules %+v", fw.Rules)
	}
	js := `{"nftables":[{"chain":{"family":"inet","table":"filter","name":"input","type":"filter","hook":"input","prio":0,"policy":"drop"}},` +
		`{"rule":{"family":"inet","table":"filter","chain":"input","expr":[{"match":{"op":"==","left":{"meta":{"key":"l4proto"}},"right":"ipv6-icmp"}},{"accept":null}]}}]}`
	rs, err := ParseNftJSON([]byte(js), "nft -j list ruleset")
	if err != nil {
		t.Fatal(err)
	}
	if fw := rs.Reduce("nftables", "nft"); len(fw.Rules) != 0 {
		t.Fatalf("an ICMP rule opened %+v", fw.Rules)
	}
}
