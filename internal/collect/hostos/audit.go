package hostos

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/hostos/pkgdb"
	"github.com/rampart-sec/rampart/internal/collect/hostos/procfs"
	"github.com/rampart-sec/rampart/internal/facts"
)

// audit reads how user activity is logged: auditd and its rules, and log
// forwarding by rsyslog, syslog-ng, systemd-journal-upload and
// audisp-remote.
func (s *scan) audit(procs []procfs.Process, inst *pkgdb.Installed) {
	a := facts.Audit{RemoteLogTargets: []string{}, Origin: facts.Origin{File: "/etc/audit"}}
	running := func(comm string) bool {
		return slices.ContainsFunc(procs, func(p procfs.Process) bool { return p.Comm == comm })
	}
	live := s.proc && procs != nil
	if inst != nil {
		_, a.AuditdInstalled = inst.Versions["auditd"]
		if _, ok := inst.Versions["audit"]; ok {
			a.AuditdInstalled = true
		}
	}
	a.AuditdInstalled = a.AuditdInstalled || s.r.Exists("/sbin/auditd") || s.r.Exists("/usr/sbin/auditd")
	a.AuditdRunning = live && running("auditd")
	if !s.proc {
		// An offline image runs nothing: auditd counts when enabled at boot.
		a.AuditdRunning = a.AuditdInstalled && (s.r.Exists("/etc/systemd/system/multi-user.target.wants/auditd.service") ||
			s.r.Exists("/etc/runlevels/default/auditd"))
		a.Origin.Note = "offline image: auditd_running means enabled at boot"
	}
	a.AuditRules = s.countAuditRules()

	// A forwarding configuration counts when its daemon runs (or, for an
	// offline image, when it is configured).
	add := func(daemon string, targets []string) {
		if live && !running(daemon) {
			return
		}
		for _, t := range targets {
			if !slices.Contains(a.RemoteLogTargets, t) {
				a.RemoteLogTargets = append(a.RemoteLogTargets, t)
			}
		}
	}
	add("rsyslogd", s.rsyslogTargets())
	add("syslog-ng", s.syslogNGTargets())
	add("systemd-journal", s.journalUploadTargets())
	if a.AuditdRunning || !live {
		add("auditd", s.audispTargets())
	}
	s.h.Audit = a
}

func (s *scan) confFiles(main string, globs ...string) []string {
	files := []string{}
	if s.r.Exists(main) {
		files = append(files, main)
	}
	for _, g := range globs {
		m, _ := s.r.Glob(g)
		files = append(files, m...)
	}
	return files
}

func (s *scan) countAuditRules() int {
	files := s.confFiles("/etc/audit/audit.rules")
	if len(files) == 0 {
		files = s.confFiles("", "/etc/audit/rules.d/*.rules")
	}
	n := 0
	for _, f := range files {
		b, err := s.r.ReadFile(f, 4<<20)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "-a") || strings.HasPrefix(line, "-w") {
				n++
			}
		}
	}
	return n
}

// rsyslogPatterns read forwarding rules from rsyslog's configuration:
// compiled by the scan that reads it, not by every run of rampart.
type rsyslogPatterns struct {
	legacy, omfwd, target, port, protocol *regexp.Regexp
}

func newRsyslogPatterns() rsyslogPatterns {
	attr := func(name string) *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b` + name + `\s*=\s*"([^"]*)"`)
	}
	return rsyslogPatterns{
		// *.* @@host:port, @(o)host, @[v6]:port
		legacy: regexp.MustCompile(`^\S+\s+(@@?)(\([^)]*\))?(\[[^\]]+\]|[^\s:;]+)(?::(\d+))?`),
		// action(type="omfwd" target="host" port="514" protocol="tcp")
		omfwd:    regexp.MustCompile(`(?i)type\s*=\s*"omfwd"`),
		target:   attr("target"),
		port:     attr("port"),
		protocol: attr("protocol"),
	}
}

func (s *scan) rsyslogTargets() []string {
	var out []string
	re := newRsyslogPatterns()
	for _, f := range s.confFiles("/etc/rsyslog.conf", "/etc/rsyslog.d/*.conf") {
		b, err := s.r.ReadFile(f, 4<<20)
		if err != nil {
			continue
		}
		for i, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			where := fmt.Sprintf("%s:%d", f, i+1)
			if m := re.legacy.FindStringSubmatch(line); m != nil {
				proto := "udp"
				if m[1] == "@@" {
					proto = "tcp"
				}
				host := strings.Trim(m[3], "[]")
				port := m[4]
				if port == "" {
					port = "514"
				}
				out = append(out, fmt.Sprintf("rsyslog %s %s:%s (%s)", proto, host, port, where))
				continue
			}
			if re.omfwd.MatchString(line) {
				if t := re.target.FindStringSubmatch(line); t != nil {
					port, proto := "514", "udp"
					if p := re.port.FindStringSubmatch(line); p != nil {
						port = p[1]
					}
					if p := re.protocol.FindStringSubmatch(line); p != nil {
						proto = strings.ToLower(p[1])
					}
					out = append(out, fmt.Sprintf("rsyslog %s %s:%s (%s)", proto, t[1], port, where))
				}
			}
		}
	}
	return out
}

func (s *scan) syslogNGTargets() []string {
	var out []string
	syslogNGDest := regexp.MustCompile(`\b(network|tcp|udp|tcp6|udp6|syslog)\s*\(\s*"([^"]+)"`)
	for _, f := range s.confFiles("/etc/syslog-ng/syslog-ng.conf", "/etc/syslog-ng/conf.d/*.conf") {
		b, err := s.r.ReadFile(f, 4<<20)
		if err != nil {
			continue
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") || !strings.Contains(line, "destination") && !syslogNGDest.MatchString(line) {
				continue
			}
			for _, m := range syslogNGDest.FindAllStringSubmatch(line, -1) {
				if m[2] == "/dev/log" || strings.HasPrefix(m[2], "/") {
					continue
				}
				out = append(out, fmt.Sprintf("syslog-ng %s %s (%s:%d)", m[1], m[2], f, i+1))
			}
		}
	}
	return out
}

func (s *scan) journalUploadTargets() []string {
	const f = "/etc/systemd/journal-upload.conf"
	if !s.r.Exists("/etc/systemd/system/multi-user.target.wants/systemd-journal-upload.service") {
		return nil
	}
	b, err := s.r.ReadFile(f, 1<<20)
	if err != nil {
		return nil
	}
	for i, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "URL="); ok && v != "" {
			return []string{fmt.Sprintf("journal-upload %s (%s:%d)", v, f, i+1)}
		}
	}
	return nil
}

func (s *scan) audispTargets() []string {
	active := false
	for _, p := range []string{"/etc/audit/plugins.d/au-remote.conf", "/etc/audisp/plugins.d/au-remote.conf"} {
		if b, err := s.r.ReadFile(p, 64<<10); err == nil && regexp.MustCompile(`(?m)^\s*active\s*=\s*yes`).Match(b) {
			active = true
		}
	}
	if !active {
		return nil
	}
	for _, f := range []string{"/etc/audit/audisp-remote.conf", "/etc/audisp/audisp-remote.conf"} {
		b, err := s.r.ReadFile(f, 64<<10)
		if err != nil {
			continue
		}
		for i, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.TrimSpace(k) == "remote_server" && strings.TrimSpace(v) != "" {
				return []string{fmt.Sprintf("audisp-remote %s (%s:%d)", strings.TrimSpace(v), path.Clean(f), i+1)}
			}
		}
	}
	return nil
}
