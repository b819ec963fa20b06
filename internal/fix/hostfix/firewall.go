package hostfix

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/fix"
)

// NftConf is the file nftables loads at boot.
const NftConf = "/etc/nftables.conf"

// nftUnits enable nftables at boot (what systemctl enable creates).
var nftUnits = []string{"/etc/systemd/system/sysinit.target.wants/nftables.service", "/etc/systemd/system/multi-user.target.wants/nftables.service"}

var firewallRules = []string{"OS-003", "OS-004", "OS-007", "SSH-005", "NET-003", "NET-004"}

// firewall writes a default-deny nftables ruleset (input and output) from
// what the inventory declares: the expected ports, SSH and JMX from the
// management networks only, the clustering ports from the cluster members
// only, a webhook port from its allowed sources only.
func (p *planner) firewall() error {
	var rules []string
	for _, r := range firewallRules {
		if p.fails(r) {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return nil
	}
	tag := strings.Join(rules, ",")
	t := p.in.Facts.Target
	sshPorts := p.h.SSHD.Ports
	if len(sshPorts) == 0 && p.h.SSHD.Present {
		sshPorts = []int{22}
	}
	mgmt, bad := splitFamilies(p.opt.ManagementNets)
	if len(bad) > 0 {
		return fmt.Errorf("--management-net: %s is not an address or CIDR", strings.Join(bad, ", "))
	}
	cluster, bad := splitFamilies(t.ClusterMembers)
	if len(bad) > 0 {
		return fmt.Errorf("cluster_members: %s is not an address or CIDR", strings.Join(bad, ", "))
	}
	allowed, bad := splitFamilies(t.AllowedSources)
	if len(bad) > 0 {
		return fmt.Errorf("allowed_sources: %s is not an address or CIDR", strings.Join(bad, ", "))
	}
	// The services: the declared ports, else what listens now.
	ports := map[int]bool{}
	var notes []string
	if len(t.ExpectedPorts) > 0 {
		for _, port := range t.ExpectedPorts {
			ports[port] = true
		}
	} else {
		var seen []string
		for _, l := range p.h.Listeners {
			if !l.Loopback && !ports[l.Port] {
				ports[l.Port] = true
				seen = append(seen, strconv.Itoa(l.Port))
			}
		}
		notes = append(notes, "no expected_ports declared: the ruleset allows what listens now ("+strings.Join(seen, ", ")+"); to narrow it, declare expected_ports "+p.inInventory())
	}
	jmx := map[int]bool{}
	clusterPorts := map[int]bool{}
	for _, l := range p.h.Listeners {
		switch l.Role {
		case "jmx":
			jmx[l.Port] = true
		case "clustering":
			clusterPorts[l.Port] = true
		}
	}
	// WSO2's JMX RMI and Hazelcast ports, when they listen, are opened
	// only to the management network and the cluster members.
	for _, port := range []int{9999, 11111} {
		if ports[port] {
			jmx[port] = true
		}
	}
	for _, port := range []int{4000, 4001} {
		if ports[port] {
			clusterPorts[port] = true
		}
	}
	for _, sp := range sshPorts {
		delete(ports, sp)
	}
	for port := range jmx {
		delete(ports, port)
	}
	for port := range clusterPorts {
		delete(ports, port)
	}
	webhook := t.HasProfile("webhook-relay") && len(t.AllowedSources) > 0
	if len(jmx) > 0 && mgmt.empty() {
		notes = append(notes, "JMX ("+strings.Trim(fmt.Sprint(keys(jmx)), "[]")+") stays closed until the management network is named (--management-net CIDR)")
	}
	if len(clusterPorts) > 0 && cluster.empty() {
		notes = append(notes, "clustering ("+strings.Trim(fmt.Sprint(keys(clusterPorts)), "[]")+") stays closed until cluster_members are declared "+p.inInventory())
	}

	var b strings.Builder
	b.WriteString("#!/usr/sbin/nft -f\n")
	b.WriteString("# Written by rampart fix (" + strings.Join(rules, ", ") + ") for " + p.in.Target + ":\n")
	b.WriteString("# default-deny inbound and outbound; only what the inventory declares is allowed.\n")
	b.WriteString("flush ruleset\n\ntable inet filter {\n")
	writeSet(&b, "mgmt4", "ipv4_addr", mgmt.v4)
	writeSet(&b, "mgmt6", "ipv6_addr", mgmt.v6)
	writeSet(&b, "cluster4", "ipv4_addr", cluster.v4)
	writeSet(&b, "cluster6", "ipv6_addr", cluster.v6)
	writeSet(&b, "allowed4", "ipv4_addr", allowed.v4)
	writeSet(&b, "allowed6", "ipv6_addr", allowed.v6)
	b.WriteString("\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n")
	b.WriteString("\t\tct state established,related accept\n\t\tct state invalid drop\n\t\tiif \"lo\" accept\n")
	b.WriteString("\t\tmeta l4proto icmp accept\n\t\tmeta l4proto ipv6-icmp accept\n")
	sshOpen := false
	if len(sshPorts) > 0 {
		if mgmt.empty() {
			sshOpen = true
			b.WriteString("\t\ttcp dport " + portSet(sshPorts) + " accept\n")
		} else {
			writeFrom(&b, mgmt, "mgmt", portSet(sshPorts))
		}
	}
	if len(jmx) > 0 && !mgmt.empty() {
		writeFrom(&b, mgmt, "mgmt", portSet(keys(jmx)))
	}
	if len(clusterPorts) > 0 && !cluster.empty() {
		writeFrom(&b, cluster, "cluster", portSet(keys(clusterPorts)))
	}
	if len(ports) > 0 {
		if webhook {
			writeFrom(&b, allowed, "allowed", portSet(keys(ports)))
		} else {
			b.WriteString("\t\ttcp dport " + portSet(keys(ports)) + " accept\n")
		}
	}
	b.WriteString("\t}\n\n")
	b.WriteString("\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t}\n\n")
	b.WriteString("\tchain output {\n\t\ttype filter hook output priority filter; policy drop;\n")
	b.WriteString("\t\tct state established,related accept\n\t\toif \"lo\" accept\n")
	b.WriteString("\t\tmeta l4proto icmp accept\n\t\tmeta l4proto ipv6-icmp accept\n")
	b.WriteString("\t\tudp dport 53 accept\n\t\ttcp dport 53 accept\n\t\tudp dport 123 accept\n")
	b.WriteString("\t\ttcp dport { 80, 443 } accept\n")
	if !cluster.empty() {
		if cluster.v4 != nil {
			b.WriteString("\t\tip daddr @cluster4 tcp dport { 4000, 4001 } accept\n")
		}
		if cluster.v6 != nil {
			b.WriteString("\t\tip6 daddr @cluster6 tcp dport { 4000, 4001 } accept\n")
		}
	}
	b.WriteString("\t\t# Add the databases, user stores and back ends this node calls, e.g.\n\t\t# ip daddr 10.0.2.10 tcp dport 5432 accept\n")
	b.WriteString("\t}\n}\n")
	content := []byte(b.String())
	if err := p.check("nft -c -f", p.opt.Validator.Nft, content); err != nil {
		for _, r := range rules {
			p.set(r, fix.Failed, "the nftables ruleset does not pass nft -c: "+err.Error())
		}
		return nil
	}
	if err := p.ws.Write(rel(NftConf), content, 0o755, false, tag, "nftables ruleset"); err != nil {
		return err
	}
	enabled := false
	for _, u := range nftUnits {
		enabled = enabled || p.ws.Exists(rel(u)) || p.linkExists(u)
	}
	status := fix.Fixed
	load := "nft -c -f /etc/nftables.conf && systemctl enable --now nftables"
	summary := "default-deny nftables ruleset in " + NftConf
	if !enabled {
		status = fix.Manual
		summary += " (checked, not loaded: nftables.service is not enabled, so it takes effect when you load it)"
	}
	todo := append([]string{"review the output allow-list (databases, directories, back ends) before loading, or those connections stop"}, notes...)
	for _, r := range rules {
		st, extra, input := status, "", ""
		switch r {
		case "SSH-005":
			if sshOpen {
				st, extra, input = fix.NeedsInput, "SSH stays open to every source until the management network is named", "--management-net CIDR"
			}
		case "OS-004":
			if cluster.empty() && len(clusterPorts) > 0 {
				st, extra, input = fix.NeedsInput, "the clustering ports stay closed until cluster_members are declared", "cluster_members "+p.inInventory()
			}
		case "NET-004":
			if !webhook {
				st, extra, input = fix.NeedsInput, "the webhook port stays closed until its senders' addresses are declared", "allowed_sources "+p.inInventory()
			}
		}
		res := p.set(r, st, summary, todo...)
		res.Say(extra)
		res.Commands = appendOnce(res.Commands, load)
		if input != "" {
			res.Inputs = appendOnce(res.Inputs, input)
		}
	}
	return nil
}

func (p *planner) linkExists(u string) bool { return p.ws.Resolves(rel(u)) }

type families struct{ v4, v6 []string }

func (f families) empty() bool { return len(f.v4) == 0 && len(f.v6) == 0 }

func splitFamilies(list []string) (families, []string) {
	var f families
	var bad []string
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if pfx, err := netip.ParsePrefix(s); err == nil {
			if pfx.Addr().Is4() {
				f.v4 = append(f.v4, pfx.Masked().String())
			} else {
				f.v6 = append(f.v6, pfx.Masked().String())
			}
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			if a.Is4() {
				f.v4 = append(f.v4, a.String())
			} else {
				f.v6 = append(f.v6, a.String())
			}
			continue
		}
		bad = append(bad, s)
	}
	return f, bad
}

func writeSet(b *strings.Builder, name, typ string, elems []string) {
	if len(elems) == 0 {
		return
	}
	fmt.Fprintf(b, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\telements = { %s }\n\t}\n\n", name, typ, strings.Join(elems, ", "))
}

func writeFrom(b *strings.Builder, f families, set, ports string) {
	if len(f.v4) > 0 {
		fmt.Fprintf(b, "\t\tip saddr @%s4 tcp dport %s accept\n", set, ports)
	}
	if len(f.v6) > 0 {
		fmt.Fprintf(b, "\t\tip6 saddr @%s6 tcp dport %s accept\n", set, ports)
	}
}

func keys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func portSet(ports []int) string {
	ps := append([]int{}, ports...)
	sort.Ints(ps)
	if len(ps) == 1 {
		return strconv.Itoa(ps[0])
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = strconv.Itoa(p)
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}
