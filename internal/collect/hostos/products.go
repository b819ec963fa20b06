package hostos

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/hostos/procfs"
	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
	"github.com/rampart-sec/rampart/internal/facts"
)

// carbonHome returns -Dcarbon.home of a java command line ("" if none).
func carbonHome(args []string) string {
	if len(args) == 0 || !isJava(args[0]) {
		return ""
	}
	for _, a := range jvmArgs(args) {
		if v, ok := strings.CutPrefix(a, "-Dcarbon.home="); ok {
			return path.Clean(strings.Trim(v, `"'`))
		}
	}
	return ""
}

func isJava(arg0 string) bool {
	b := path.Base(arg0)
	return b == "java" || b == "javaw"
}

// productProcesses finds the WSO2 product processes among procs.
func productProcesses(r *rootfs.Root, procs []procfs.Process, users map[int]procfs.User) []facts.Process {
	byPID := map[int]procfs.Process{}
	children := map[int][]int{}
	for _, p := range procs {
		byPID[p.PID] = p
		children[p.PPID] = append(children[p.PPID], p.PID)
	}
	out := []facts.Process{}
	for _, p := range procs {
		home := carbonHome(p.Args)
		if home == "" {
			continue
		}
		src := "/proc/" + strconv.Itoa(p.PID) + "/cmdline"
		name, profile := identifyProduct(r, home)
		fp := facts.Process{
			PID: p.PID, Name: name, UID: p.UID,
			ProductHome: home, Profile: profile,
			JVM:    parseJVM(p.Args, src),
			Origin: facts.Origin{File: src},
		}
		if u, ok := users[p.UID]; ok {
			fp.User, fp.UserShell, fp.UserHome = u.Name, u.Shell, u.Home
		} else {
			fp.User = strconv.Itoa(p.UID)
		}
		fp.SharedUser = sharesUser(p, procs, byPID, children)
		fp.JDKVersion = jdkVersion(r, p)
		fp.JDKMajor = javaMajor(fp.JDKVersion)
		out = append(out, fp)
	}
	return out
}

// sharesUser reports whether a process outside p's own tree (its
// ancestors, such as the start script, and its descendants) runs as p's
// user. Kernel threads are not counted.
func sharesUser(p procfs.Process, procs []procfs.Process, byPID map[int]procfs.Process, children map[int][]int) bool {
	tree := map[int]bool{p.PID: true}
	for a, n := p.PPID, 0; a > 1 && n < 64; n++ {
		tree[a] = true
		a = byPID[a].PPID
	}
	stack := []int{p.PID}
	for len(stack) > 0 && len(tree) < 100000 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, k := range children[c] {
			if !tree[k] {
				tree[k] = true
				stack = append(stack, k)
			}
		}
	}
	for _, o := range procs {
		if o.UID == p.UID && !tree[o.PID] && len(o.Args) > 0 {
			return true
		}
	}
	return false
}

// identifyProduct names the product installed at home from its files.
func identifyProduct(r *rootfs.Root, home string) (name, profile string) {
	if b, err := r.ReadFile(path.Join(home, "bin/version.txt"), 4096); err == nil {
		name = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	}
	low := strings.ToLower(name)
	switch {
	case strings.Contains(low, "identity server"):
		profile = "wso2-is"
	case strings.Contains(low, "api manager"):
		profile = "wso2-apim"
	case strings.Contains(low, "micro integrator"):
		profile = "wso2-mi"
	case r.Exists(path.Join(home, "bin/api-manager.sh")):
		profile = "wso2-apim"
	case r.Exists(path.Join(home, "bin/micro-integrator.sh")):
		profile = "wso2-mi"
	case r.Exists(path.Join(home, "repository/conf/identity")):
		profile = "wso2-is"
	}
	if name == "" {
		name = path.Base(home)
	}
	return name, profile
}

// jdkVersion reads JAVA_VERSION from the release file of the runtime the
// process runs: next to bin/java (JDK 9+ and JDK 8), or one level up for a
// JDK 8 jre/bin/java.
func jdkVersion(r *rootfs.Root, p procfs.Process) string {
	exe := p.Exe
	if exe == "" && len(p.Args) > 0 && strings.HasPrefix(p.Args[0], "/") {
		exe = p.Args[0]
	}
	if exe == "" {
		return ""
	}
	if res, err := r.Resolve(exe); err == nil {
		exe = res
	}
	home := path.Dir(path.Dir(exe))
	for _, dir := range []string{home, path.Dir(home)} {
		b, err := r.ReadFile(path.Join(dir, "release"), 64<<10)
		if err != nil {
			continue
		}
		if v := releaseValue(string(b), "JAVA_VERSION"); v != "" {
			return v
		}
	}
	return ""
}

// releaseValue reads KEY="value" from a JDK release file.
func releaseValue(s, key string) string {
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+"="); ok {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// listenerFacts turns sockets into facts, naming owners and JMX ports.
func listenerFacts(socks []procfs.Socket, users map[int]procfs.User, products []facts.Process) []facts.Listener {
	jmx := map[int][]int{} // pid -> JMX ports from its flags
	for _, p := range products {
		for _, k := range []string{"com.sun.management.jmxremote.port", "com.sun.management.jmxremote.rmi.port"} {
			if s, ok := p.JVM.Properties[k]; ok {
				if n, err := strconv.Atoi(s.Value); err == nil {
					jmx[p.PID] = append(jmx[p.PID], n)
				}
			}
		}
		// WSO2's own JMX connector ([monitoring.jmx]): RMI registry 9999, server 11111.
		jmx[p.PID] = append(jmx[p.PID], 9999, 11111)
	}
	out := make([]facts.Listener, 0, len(socks))
	for _, s := range socks {
		a := s.Addr.Unmap()
		l := facts.Listener{
			Address:       s.Addr.String(),
			Port:          s.Port,
			AllInterfaces: s.Addr.IsUnspecified(),
			Loopback:      a.IsLoopback(),
			PID:           s.PID,
			Process:       s.Comm,
			Origin:        facts.Origin{File: s.File, Note: "socket inode " + strconv.FormatUint(s.Inode, 10)},
		}
		if u, ok := users[s.UID]; ok {
			l.User = u.Name
		} else {
			l.User = strconv.Itoa(s.UID)
		}
		switch {
		case s.PID != 0 && slices.Contains(jmx[s.PID], s.Port):
			l.Role = "jmx"
		case s.Comm == "sshd":
			l.Role = "ssh"
		case s.Port == 4000 || s.Port == 4001:
			if _, product := jmx[s.PID]; product {
				l.Role = "clustering"
			}
		}
		out = append(out, l)
	}
	return out
}
