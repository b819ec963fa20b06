package hostos

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/cmdexec"
	"github.com/rampart-sec/rampart/internal/collect/hostos/firewall"
	"github.com/rampart-sec/rampart/internal/facts"
)

// Firewall files, by backend, in the order they are tried.
var (
	nftFiles      = []string{"/etc/nftables.conf", "/etc/sysconfig/nftables.conf"}
	iptablesFiles = []string{"/etc/iptables/rules.v4", "/etc/sysconfig/iptables"}
	ip6Files      = []string{"/etc/iptables/rules.v6", "/etc/sysconfig/ip6tables"}
	// A firewall file is loaded at boot only when its service is enabled.
	nftUnits      = []string{"/etc/systemd/system/sysinit.target.wants/nftables.service", "/etc/systemd/system/multi-user.target.wants/nftables.service"}
	iptablesUnits = []string{"/etc/systemd/system/multi-user.target.wants/netfilter-persistent.service", "/etc/systemd/system/basic.target.wants/iptables.service", "/etc/systemd/system/multi-user.target.wants/iptables.service"}
)

// firewall reads the loaded rule set on the live host (nft, then
// iptables-save), else the boot-time files.
func (s *scan) firewall() {
	var notes []string
	if out, ok, err := s.exec("nft", "-j", "list", "ruleset"); ok {
		if err == nil {
			rs, perr := firewall.ParseNftJSON(out, "nft -j list ruleset")
			if perr == nil {
				fw := rs.Reduce("nftables", "nft -j list ruleset")
				if fw.Enabled {
					s.h.Firewall = fw
					return
				}
				notes = append(notes, "nft: no filter chain loaded")
			} else {
				notes = append(notes, perr.Error())
			}
		} else {
			notes = append(notes, cmdNote(err))
		}
		if out, _, err := s.exec("iptables-save"); err == nil {
			rs := firewall.ParseIptablesSave(string(out), "iptables-save", "ip", nil)
			if out6, _, err := s.exec("ip6tables-save"); err == nil {
				firewall.ParseIptablesSave(string(out6), "ip6tables-save", "ip6", rs)
			}
			fw := rs.Reduce("iptables", "iptables-save")
			if fw.Enabled && (fw.InputPolicy != "accept" || len(fw.Rules) > 0) {
				s.h.Firewall = fw
				return
			}
			notes = append(notes, "iptables-save: no rules")
		} else {
			notes = append(notes, cmdNote(err))
		}
		if len(notes) == 2 && !strings.Contains(strings.Join(notes, ""), "not installed") {
			// Both tools ran and found nothing loaded: the host has no firewall
			// now, whatever files say for the next boot.
			s.h.Firewall = facts.Firewall{Backend: "none", Source: strings.Join(notes, "; "), Rules: []facts.FirewallRule{}}
			return
		}
	}
	s.firewallFiles(notes)
}

func cmdNote(err error) string {
	if errors.Is(err, cmdexec.ErrNotFound) {
		name, _, _ := strings.Cut(err.Error(), ":")
		return strings.TrimPrefix(name, "run ") + ": not installed"
	}
	return err.Error()
}

func (s *scan) firewallFiles(notes []string) {
	read := func(p string) ([]byte, error) { return s.r.ReadFile(p, 4<<20) }
	for _, f := range nftFiles {
		b, err := read(f)
		if err != nil {
			continue
		}
		rs := firewall.ParseNftConf(string(b), f, read, s.r.Glob)
		fw := rs.Reduce("nftables", f)
		fw.Source = withNotes(f, notes)
		if !anyExists(s, nftUnits) {
			fw.Source += " (nftables.service is not enabled, so this file is not loaded at boot)"
			fw.Enabled = false
		}
		s.h.Firewall = fw
		return
	}
	for i, f := range iptablesFiles {
		b, err := read(f)
		if err != nil {
			continue
		}
		rs := firewall.ParseIptablesSave(string(b), f, "ip", nil)
		if b6, err := read(ip6Files[i]); err == nil {
			firewall.ParseIptablesSave(string(b6), ip6Files[i], "ip6", rs)
		}
		fw := rs.Reduce("iptables", f)
		fw.Source = withNotes(f, notes)
		if !anyExists(s, iptablesUnits) {
			fw.Source += " (no enabled service loads this file at boot)"
			fw.Enabled = false
		}
		s.h.Firewall = fw
		return
	}
	src := "no loaded rule set read and no " + strings.Join(append(append([]string{}, nftFiles...), iptablesFiles...), ", ")
	if len(notes) > 0 {
		src = strings.Join(notes, "; ") + "; " + src
	} else if !s.env.Can(collect.LiveSystem) {
		src = "offline image: " + src
	} else {
		src = "commands not allowed: " + src
	}
	s.h.Firewall = facts.Firewall{Backend: "none", Source: src, Rules: []facts.FirewallRule{}}
}

func withNotes(src string, notes []string) string {
	if len(notes) == 0 {
		return src
	}
	return fmt.Sprintf("%s (%s)", src, strings.Join(notes, "; "))
}

func anyExists(s *scan, paths []string) bool {
	for _, p := range paths {
		if s.r.Exists(p) {
			return true
		}
	}
	return false
}
