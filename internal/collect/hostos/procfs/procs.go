// Package procfs reads processes and listening TCP sockets from a Linux
// /proc, through a rootfs.Root. Every parser tolerates truncated files.
package procfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
)

// Limits on what is read of one process.
const (
	maxCmdline = 256 << 10
	maxStatus  = 64 << 10
)

// Process is one entry of /proc.
type Process struct {
	PID, PPID int
	// UID is the real user id (-1 when /proc/PID/status could not be read).
	UID  int
	Comm string
	// Args is the command line; empty for kernel threads.
	Args []string
	// Exe is the target of /proc/PID/exe ("" when it cannot be read).
	Exe string
}

// Processes lists every process under /proc, sorted by pid. A process that
// ends while being read is skipped. It fails only when /proc itself cannot
// be listed.
func Processes(r *rootfs.Root) ([]Process, error) {
	ents, err := r.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("listing /proc: %w", err)
	}
	var out []Process
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		p, ok := readProcess(r, pid)
		if ok {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

func readProcess(r *rootfs.Root, pid int) (Process, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	p := Process{PID: pid, UID: -1}
	st, err := r.ReadFile(dir+"/status", maxStatus)
	if err != nil {
		return p, false
	}
	parseStatus(st, &p)
	if cl, err := r.ReadFile(dir+"/cmdline", maxCmdline); err == nil {
		p.Args = ParseCmdline(cl)
	}
	if exe, err := r.ReadLink(dir + "/exe"); err == nil {
		p.Exe = strings.TrimSuffix(exe, " (deleted)")
	}
	return p, true
}

// parseStatus reads Name, PPid and Uid from /proc/PID/status.
func parseStatus(b []byte, p *Process) {
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		k, v, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch string(k) {
		case "Name":
			p.Comm = string(v)
		case "PPid":
			p.PPID, _ = strconv.Atoi(string(v))
		case "Uid":
			if f := bytes.Fields(v); len(f) > 0 {
				if uid, err := strconv.Atoi(string(f[0])); err == nil {
					p.UID = uid
				}
			}
		}
	}
}

// ParseCmdline splits /proc/PID/cmdline (NUL-separated arguments). A
// process that rewrote its title into one space-separated string is
// returned as that one argument.
func ParseCmdline(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

// Users reads /etc/passwd: uid to name, shell and home.
type User struct {
	Name, Home, Shell string
	UID               int
}

// Passwd parses /etc/passwd (a missing file is an empty table).
func Passwd(r *rootfs.Root) (map[int]User, error) {
	b, err := r.ReadFile("/etc/passwd", 8<<20)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return map[int]User{}, nil
		}
		return nil, err
	}
	return ParsePasswd(b), nil
}

// ParsePasswd parses passwd lines; malformed lines are skipped.
func ParsePasswd(b []byte) map[int]User {
	out := map[int]User{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 7 || strings.HasPrefix(line, "#") {
			continue
		}
		uid, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		if _, dup := out[uid]; dup {
			continue
		}
		out[uid] = User{Name: f[0], UID: uid, Home: f[5], Shell: f[6]}
	}
	return out
}
