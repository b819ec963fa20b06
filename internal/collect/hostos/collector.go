// Package hostos is the "hostos" collector: it audits the operating system
// a product runs on by reading files through a root directory ("/" for
// this machine, or a mounted image given with --root): processes and
// their JVM flags, listening sockets with their owners, the firewall rule
// set, the effective sshd configuration, installed packages and pending
// security updates, audit logging, backups and the permissions of secret
// files. Commands (from an allow-list, through collect.Executor) are run
// only on the live root and only where no file gives the answer; the facts'
// source fields say which was used.
package hostos

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/collect/hostos/procfs"
	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
	"github.com/rampart-sec/rampart/internal/facts"
	"github.com/rampart-sec/rampart/internal/target"
)

// Collector is the host OS collector.
type Collector struct{}

// New returns a host OS collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (c *Collector) Name() string { return "hostos" }

// Provides implements collect.Collector.
func (c *Collector) Provides() []string { return []string{facts.NSHost} }

// Needs implements collect.Collector: the root's files; on the live system
// its running state (/proc) and, with an executor, allow-listed commands
// where no file gives the answer.
func (c *Collector) Needs() collect.Needs {
	return collect.Needs{Requires: collect.Files, Uses: collect.LiveSystem | collect.Commands}
}

// Applies implements collect.Collector: host targets.
func (c *Collector) Applies(t target.Target) bool { return t.Kind == target.Host }

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, t target.Target, env *collect.Env) (*facts.Facts, error) {
	dir := t.Dir
	if dir == "" {
		dir = "/"
	}
	var fsys fs.FS
	if env != nil && env.FS != nil {
		fsys = env.FS
	} else {
		root, err := os.OpenRoot(dir)
		if err != nil {
			return nil, fmt.Errorf("host root %s: %w", dir, err)
		}
		defer root.Close()
		fsys = root.FS()
	}
	r := rootfs.New(fsys, dir)
	if _, err := r.ReadDir("/etc"); err != nil {
		return nil, fmt.Errorf("host root %s has no readable /etc: %w", dir, err)
	}
	s := &scan{ctx: ctx, r: r, t: t, env: env, f: &facts.Facts{}}
	s.run()
	return s.f, nil
}

// scan is one collection run.
type scan struct {
	ctx context.Context
	r   *rootfs.Root
	t   target.Target
	env *collect.Env
	f   *facts.Facts
	h   *facts.Host
	// proc is true when the root has a live /proc to read: this machine's
	// own, or a test root that carries one. A mounted image's is empty.
	proc bool
}

// exec runs an allow-listed command on the live root; ok is false when
// commands may not run here (the runner grants them only on the live
// system with an executor: not on an offline image).
func (s *scan) exec(name string, args ...string) (out []byte, ok bool, err error) {
	if !s.env.Can(collect.Commands) {
		return nil, false, nil
	}
	out, err = s.env.Exec.Run(s.ctx, name, args...)
	return out, true, err
}

func (s *scan) fail(sub string, err error) { s.f.Fail("host."+sub, err) }

func (s *scan) absent(sub, reason string) {
	s.f.SetStatus("host."+sub, facts.Status{State: facts.Absent, Reason: reason})
}

func (s *scan) run() {
	s.h = &facts.Host{
		Root: s.r.Dir, Processes: []facts.Process{}, Listeners: []facts.Listener{}, Backups: []facts.Backup{},
		SecretFiles: []facts.FileMode{}, ProductHomes: []string{},
		Firewall:      facts.Firewall{Rules: []facts.FirewallRule{}},
		SSHD:          facts.SSHD{Settings: map[string]facts.Setting{}, Ports: []int{}, ListenAddresses: []string{}, Matches: []facts.SSHDMatch{}},
		SSHDInstances: []facts.SSHD{},
		Packages:      facts.Packages{Installed: map[string]string{}},
		Updates:       facts.Updates{PendingSecurity: []string{}},
		Audit:         facts.Audit{RemoteLogTargets: []string{}},
	}
	s.f.Host = s.h
	s.proc = s.env.Can(collect.LiveSystem) || s.r.Exists("/proc/1/status") || s.r.Exists("/proc/net/tcp")
	s.osInfo()
	users, err := procfs.Passwd(s.r)
	if err != nil {
		users = map[int]procfs.User{}
	}
	procs := s.processes(users)
	s.listeners(procs, users)
	s.firewall()
	s.sshd(procs)
	inst := s.packages()
	s.updates(inst)
	s.audit(procs, inst)
	s.backups()
	s.secretFiles()
}

func (s *scan) osInfo() {
	if b, err := s.r.ReadFile("/etc/os-release", 64<<10); err == nil {
		s.h.OS = parseOSRelease(string(b))
	} else if b, err := s.r.ReadFile("/usr/lib/os-release", 64<<10); err == nil {
		s.h.OS = parseOSRelease(string(b))
	}
	if s.proc {
		if b, err := s.r.ReadFile("/proc/sys/kernel/osrelease", 4096); err == nil {
			s.h.OS.Kernel = strings.TrimSpace(string(b))
		}
		if b, err := s.r.ReadFile("/proc/sys/kernel/hostname", 4096); err == nil {
			s.h.Hostname = strings.TrimSpace(string(b))
		}
		if mb, err := procfs.MemTotalMB(s.r); err == nil {
			s.h.MemoryMB = mb
		}
	}
	if s.h.Hostname == "" {
		if b, err := s.r.ReadFile("/etc/hostname", 4096); err == nil {
			s.h.Hostname = strings.TrimSpace(string(b))
		}
	}
}

// parseOSRelease reads KEY=value lines (values may be quoted).
func parseOSRelease(s string) facts.OSInfo {
	var o facts.OSInfo
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			o.ID = v
		case "VERSION_ID":
			o.VersionID = v
		case "PRETTY_NAME":
			o.PrettyName = v
		}
	}
	return o
}

// processes reads /proc on the live root; an image has no processes.
func (s *scan) processes(users map[int]procfs.User) []procfs.Process {
	if !s.proc {
		s.absent("processes", "an offline image ("+s.r.Dir+") has no running processes")
		return nil
	}
	procs, err := procfs.Processes(s.r)
	if err != nil {
		s.fail("processes", err)
		return nil
	}
	s.h.Processes = productProcesses(s.r, procs, users)
	for _, p := range s.h.Processes {
		s.addHome(p.ProductHome)
	}
	return procs
}

func (s *scan) listeners(procs []procfs.Process, users map[int]procfs.User) {
	if !s.proc {
		s.absent("listeners", "an offline image ("+s.r.Dir+") has no live sockets")
		return
	}
	socks, err := procfs.Listeners(s.r, procs)
	if err != nil {
		s.fail("listeners", err)
		return
	}
	s.h.Listeners = listenerFacts(socks, users, s.h.Processes)
}

func (s *scan) addHome(h string) {
	if h != "" && !slices.Contains(s.h.ProductHomes, h) {
		s.h.ProductHomes = append(s.h.ProductHomes, h)
		slices.Sort(s.h.ProductHomes)
	}
}

// errNotFound tells a missing file from an unreadable one.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
