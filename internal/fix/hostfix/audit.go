package hostfix

import (
	"path"
	"sort"
	"strings"

	"github.com/rampart-sec/rampart/internal/fix"
)

// AuditRules is where the audit rules go (augenrules reads rules.d).
const AuditRules = "/etc/audit/rules.d/50-rampart.rules"

// audit writes audit rules for logins, privilege use and changes to /etc
// and the product homes (LOG-004); installing and starting auditd is the
// operator's command to run.
func (p *planner) audit() error {
	const rule = "LOG-004"
	if !p.fails(rule) {
		return nil
	}
	var b strings.Builder
	b.WriteString("## Written by rampart fix (LOG-004): logins, identity and privilege changes,\n## commands run as root, and changes to the SSH and product configuration.\n")
	for _, l := range []string{
		"-w /var/log/faillog -p wa -k logins",
		"-w /var/log/lastlog -p wa -k logins",
		"-w /etc/passwd -p wa -k identity",
		"-w /etc/group -p wa -k identity",
		"-w /etc/shadow -p wa -k identity",
		"-w /etc/sudoers -p wa -k privilege",
		"-w /etc/sudoers.d/ -p wa -k privilege",
		"-w /etc/ssh/sshd_config -p wa -k sshd",
		"-w /etc/ssh/sshd_config.d/ -p wa -k sshd",
		"-a always,exit -F arch=b64 -S execve -F euid=0 -F auid>=1000 -F auid!=unset -k root-commands",
	} {
		b.WriteString(l + "\n")
	}
	homes := append([]string{}, p.h.ProductHomes...)
	sort.Strings(homes)
	for _, h := range homes {
		conf := path.Join(h, "repository/conf")
		if strings.Contains(h, "micro-integrator") || strings.Contains(h, "wso2mi") {
			conf = path.Join(h, "conf")
		}
		b.WriteString("-w " + conf + "/ -p wa -k wso2-config\n")
	}
	if err := p.ws.Write(rel(AuditRules), []byte(b.String()), 0o640, false, rule, "audit rules"); err != nil {
		return err
	}
	install := "apt-get install auditd && systemctl enable --now auditd && augenrules --load"
	if p.h.Packages.Manager == "rpm" {
		install = "dnf install audit && systemctl enable --now auditd && augenrules --load"
	}
	res := p.set(rule, fix.Manual, "audit rules written to "+AuditRules,
		"forward the logs to a central collector as well (rsyslog over TLS, systemd-journal-upload)")
	res.Say("they take effect once auditd is installed and running: rampart runs nothing on the host, so run the command below")
	res.Commands = []string{install}
	res.Packages = &fix.PackageChange{Manager: managerOf(p.h.Packages.Manager), Upgrade: []string{auditPackage(p.h.Packages.Manager)}}
	return nil
}

func auditPackage(manager string) string {
	if manager == "rpm" {
		return "audit"
	}
	return "auditd"
}

func managerOf(m string) string {
	if m == "" {
		return "dpkg"
	}
	return m
}

// unneeded are the packages OS-002 flags.
var unneeded = []string{"gcc", "g++", "clang", "tcc", "gdb", "telnetd", "inetutils-telnetd", "telnetd-ssl", "rsh-server", "rsh-redone-server", "vsftpd",
	"proftpd-basic", "pure-ftpd", "tftpd", "tftpd-hpa", "atftpd", "xinetd", "openbsd-inetd", "nis", "ypserv", "talkd", "fingerd",
	"avahi-daemon", "cups-daemon", "samba", "snmpd", "nfs-kernel-server", "rpcbind", "xserver-xorg-core", "gcc-c++", "telnet-server",
	"tftp-server", "ypbind"}

// packages gives the commands that remove unneeded packages (OS-002) and
// apply pending security updates (OS-005); fix runs neither.
func (p *planner) packages() error {
	mgr := managerOf(p.h.Packages.Manager)
	if p.fails("OS-002") {
		var rm []string
		for _, n := range unneeded {
			if _, ok := p.h.Packages.Installed[n]; ok {
				rm = append(rm, n)
			}
		}
		if len(rm) > 0 {
			cmd := "apt-get purge " + strings.Join(rm, " ")
			if mgr == "rpm" {
				cmd = "dnf remove " + strings.Join(rm, " ")
			}
			res := p.set("OS-002", fix.Manual, "remove "+strings.Join(rm, ", ")+" (rampart runs no package manager: run the command below once nothing needs them)")
			res.Commands = []string{cmd}
			res.Packages = &fix.PackageChange{Manager: mgr, Remove: rm}
		}
	}
	if p.fails("OS-005") {
		up := append([]string{}, p.h.Updates.PendingSecurity...)
		sort.Strings(up)
		cmd := "apt-get update && apt-get install --only-upgrade " + strings.Join(up, " ")
		if mgr == "rpm" {
			cmd = "dnf upgrade --security"
		}
		res := p.set("OS-005", fix.Manual, "apply the pending security updates of "+strings.Join(up, ", ")+" (rampart runs no package manager: run the command below, after testing the updates in staging)")
		res.Commands = []string{cmd}
		res.Packages = &fix.PackageChange{Manager: mgr, Upgrade: up}
	}
	return nil
}
