package hostos

import (
	"net"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/hostos/procfs"
	"github.com/rampart-sec/rampart/internal/collect/hostos/sshdconf"
	"github.com/rampart-sec/rampart/internal/facts"
)

const sshdConfig = "/etc/ssh/sshd_config"

// sshd reads the system-wide sshd configuration (`sshd -T` on the live
// host, else the files) and the sshd instances that run.
func (s *scan) sshd(procs []procfs.Process) {
	s.systemSSHD()
	s.h.SSHDInstances = s.sshdInstances(procs)
}

func (s *scan) systemSSHD() {
	files, ferr := sshdconf.ReadFiles(s.r, sshdConfig)
	if ferr != nil && !isNotExist(ferr) {
		s.fail("sshd", ferr)
		return
	}
	if files == nil {
		s.h.SSHD.Source = sshdConfig + " not found"
		return // Present stays false: no sshd configured
	}
	if out, ok, err := s.exec("sshd", "-T"); ok {
		if err == nil {
			s.h.SSHD = sshdconf.Facts(sshdconf.ParseDashT(out), "sshd -T", files)
			return
		}
		s.h.SSHD = sshdconf.Facts(files, sshdConfig+" (sshd -T failed: "+cmdNote(err)+")", nil)
		return
	}
	s.h.SSHD = sshdconf.Facts(files, sshdConfig, nil)
}

// sshdInstances are the sshd servers that run: every sshd listener
// process (not the per-connection children), judged with the
// configuration it was started with (-f, else /etc/ssh/sshd_config; -p and
// -o over it) and, where the sockets' owners can be read, the addresses it
// really listens on. The system-wide file alone says nothing about a
// server started with another one, or about none running. An offline
// image runs nothing: its configured sshd stands for the one that would.
func (s *scan) sshdInstances(procs []procfs.Process) []facts.SSHD {
	out := []facts.SSHD{}
	if st, ok := s.f.Lookup("host.processes"); !s.proc || (ok && st.State == facts.Absent) {
		if s.h.SSHD.Present {
			inst := s.h.SSHD
			inst.ConfigFile = sshdConfig
			inst.Source += " (an offline image: the sshd it would start)"
			out = append(out, inst)
		}
		return out
	}
	if st, ok := s.f.Lookup("host.processes"); ok && st.State == facts.Failed {
		return []facts.SSHD{{Present: true, Source: "processes", Error: "which sshd runs cannot be told: the processes could not be read: " + st.Reason}}
	}
	socks := map[int][]facts.Listener{}
	var orphan []string
	for _, l := range s.h.Listeners {
		if l.Process == "sshd" || l.Role == "ssh" {
			socks[l.PID] = append(socks[l.PID], l)
		}
	}
	sshd := map[int]bool{}
	for _, p := range procs {
		if p.Comm == "sshd" {
			sshd[p.PID] = true
		}
	}
	for _, p := range procs {
		if p.Comm != "sshd" || sshd[p.PPID] || !listenerTitle(p.Args) {
			continue // a connection's process, not a server
		}
		out = append(out, s.instance(p, socks[p.PID]))
		delete(socks, p.PID)
	}
	for pid, ls := range socks {
		for _, l := range ls {
			orphan = append(orphan, net.JoinHostPort(l.Address, strconv.Itoa(l.Port))+" (pid "+strconv.Itoa(pid)+")")
		}
	}
	if len(orphan) > 0 {
		sort.Strings(orphan)
		out = append(out, facts.SSHD{Present: true, Source: "listening sockets", Listening: orphan,
			Error: "sshd sockets whose process could not be read: " + strings.Join(orphan, ", ")})
	}
	return out
}

// listenerTitle tells an sshd server from its per-connection processes
// by the title sshd gives each: "sshd: /usr/sbin/sshd -D [listener] ...",
// against "sshd: user [priv]", "sshd: user@pts/0", "sshd: [accepted]",
// "[sshd] <defunct>". A command line not rewritten (argv) is a server.
func listenerTitle(args []string) bool {
	if len(args) == 0 {
		return false
	}
	t := strings.Join(args, " ")
	if strings.Contains(t, "[listener]") {
		return true
	}
	for _, session := range []string{"[priv]", "[net]", "[accepted]", "[preauth]", "@", "<defunct>"} {
		if strings.Contains(t, session) {
			return false
		}
	}
	return !strings.HasPrefix(t, "sshd: ") || strings.HasPrefix(t, "sshd: /")
}

// instance reads one running sshd's configuration; socks are the
// listening sockets it owns (none when their owners cannot be read: the
// configuration's ports and addresses stand in, and the source says so).
func (s *scan) instance(p procfs.Process, socks []facts.Listener) facts.SSHD {
	pid := p.PID
	file, cmdline := sshdArgs(p.Args)
	var listening, addrs []string
	var ports []int
	for _, l := range socks {
		listening = append(listening, net.JoinHostPort(l.Address, strconv.Itoa(l.Port)))
		if !slices.Contains(addrs, l.Address) {
			addrs = append(addrs, l.Address)
		}
		if !slices.Contains(ports, l.Port) {
			ports = append(ports, l.Port)
		}
	}
	sort.Strings(listening)
	sort.Ints(ports)
	var inst facts.SSHD
	switch {
	case file == sshdConfig && len(cmdline) == 0 && s.h.SSHD.Present:
		inst = s.h.SSHD // the system-wide configuration, as sshd -T printed it
	default:
		c, err := sshdconf.ReadFilesWith(s.r, file, cmdline)
		if err != nil {
			inst = facts.SSHD{Present: true, Error: "its configuration " + file + " could not be read: " + err.Error()}
			break
		}
		src := file
		if len(cmdline) > 0 {
			src += " with the command line's " + strings.Join(cmdline, "; ")
		}
		inst = sshdconf.Facts(c, src, nil)
	}
	inst.Present = true
	inst.PID = pid
	inst.ConfigFile = file
	inst.Listening = listening
	if len(socks) > 0 {
		// What it listens on, not what a file says it would.
		inst.Ports = ports
		inst.ListenAddresses = addrs
		inst.Source = strings.TrimSpace(inst.Source + " (pid " + strconv.Itoa(pid) + ")")
	} else {
		inst.Source = strings.TrimSpace(inst.Source + " (pid " + strconv.Itoa(pid) + "; its sockets could not be told, so its configured ports and addresses)")
	}
	return inst
}

// sshdArgs reads an sshd command line: the configuration file (-f) and
// the settings given on it (-p port, -o option). A listening sshd rewrites
// its process title to one string ("sshd: /usr/sbin/sshd -f /etc/x
// [listener] 0 of 10-100 startups"), which is split again on spaces.
func sshdArgs(args []string) (string, []string) {
	if len(args) == 1 && strings.Contains(args[0], " ") {
		title := strings.TrimPrefix(args[0], "sshd: ")
		if i := strings.Index(title, " ["); i >= 0 {
			title = title[:i]
		}
		args = strings.Fields(title)
	}
	file := sshdConfig
	var cmdline []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		val := func() string {
			if len(a) > 2 {
				return a[2:]
			}
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case strings.HasPrefix(a, "-f"):
			if v := val(); v != "" {
				file = v
			}
		case strings.HasPrefix(a, "-p"):
			if v := val(); v != "" {
				cmdline = append(cmdline, "Port "+v)
			}
		case strings.HasPrefix(a, "-o"):
			if v := val(); v != "" {
				cmdline = append(cmdline, v)
			}
		case strings.HasPrefix(a, "-c"), strings.HasPrefix(a, "-h"), strings.HasPrefix(a, "-E"), strings.HasPrefix(a, "-g"),
			strings.HasPrefix(a, "-k"), strings.HasPrefix(a, "-u"), strings.HasPrefix(a, "-C"):
			val() // options with an argument that do not concern the rules
		}
	}
	if !strings.HasPrefix(file, "/") {
		file = path.Join("/", file)
	}
	return file, cmdline
}
