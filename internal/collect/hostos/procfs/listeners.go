package procfs

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
)

// maxNetFile bounds /proc/net/tcp{,6} (about 150 bytes a socket).
const maxNetFile = 64 << 20

// Socket is one listening TCP socket from /proc/net/tcp or tcp6.
type Socket struct {
	Addr  netip.Addr
	Port  int
	UID   int
	Inode uint64
	// File is the /proc file it was read from.
	File string
	// PID and Comm are the owning process, when found (0 otherwise).
	PID  int
	Comm string
}

// tcpListen is the st value of a listening socket.
const tcpListen = 0x0A

// ParseNetTCP parses the text of /proc/net/tcp or /proc/net/tcp6 and
// returns the listening sockets. Malformed or truncated lines are skipped
// and counted.
func ParseNetTCP(b []byte, file string) (socks []Socket, bad int) {
	lines := bytes.Split(b, []byte{'\n'})
	for i, line := range lines {
		if i == 0 && bytes.Contains(line, []byte("local_address")) {
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		s, listen, err := parseTCPLine(line)
		if err != nil {
			bad++
			continue
		}
		if listen {
			s.File = file
			socks = append(socks, s)
		}
	}
	return socks, bad
}

// parseTCPLine reads "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...".
func parseTCPLine(line []byte) (Socket, bool, error) {
	f := strings.Fields(string(line))
	if len(f) < 10 {
		return Socket{}, false, errors.New("short line")
	}
	st, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil {
		return Socket{}, false, fmt.Errorf("state %q", f[3])
	}
	addr, port, err := parseHexAddr(f[1])
	if err != nil {
		return Socket{}, false, err
	}
	uid, err := strconv.Atoi(f[7])
	if err != nil {
		return Socket{}, false, fmt.Errorf("uid %q", f[7])
	}
	inode, err := strconv.ParseUint(f[9], 10, 64)
	if err != nil {
		return Socket{}, false, fmt.Errorf("inode %q", f[9])
	}
	return Socket{Addr: addr, Port: port, UID: uid, Inode: inode}, st == tcpListen, nil
}

// parseHexAddr reads "0100007F:1F90": the address as the kernel's 32-bit
// words in host byte order (little-endian here), the port big-endian.
func parseHexAddr(s string) (netip.Addr, int, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.Addr{}, 0, fmt.Errorf("address %q", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("port %q", p)
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.Addr{}, 0, fmt.Errorf("address %q", a)
	}
	for i := 0; i < len(raw); i += 4 {
		w := binary.LittleEndian.Uint32(raw[i:])
		binary.BigEndian.PutUint32(raw[i:], w)
	}
	ip, _ := netip.AddrFromSlice(raw)
	return ip, int(port), nil
}

// Listeners reads the listening sockets of /proc/net/tcp and tcp6 and
// finds their owners through /proc/PID/fd. The files show the network
// namespace of the reading process.
func Listeners(r *rootfs.Root, procs []Process) ([]Socket, error) {
	var all []Socket
	var errs []string
	read := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := r.ReadFile(f, maxNetFile)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		read++
		s, _ := ParseNetTCP(b, f)
		all = append(all, s...)
	}
	if read == 0 {
		return nil, fmt.Errorf("no listening-socket table: %s", strings.Join(errs, "; "))
	}
	owners := SocketOwners(r, procs, all)
	comm := map[int]string{}
	for _, p := range procs {
		comm[p.PID] = p.Comm
	}
	for i := range all {
		if pid, ok := owners[all[i].Inode]; ok {
			all[i].PID = pid
			all[i].Comm = comm[pid]
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Port != all[j].Port {
			return all[i].Port < all[j].Port
		}
		return all[i].Addr.Less(all[j].Addr)
	})
	return all, nil
}

// SocketOwners maps the inodes of socks to the lowest pid holding them,
// reading the links in /proc/PID/fd ("socket:[12345]").
func SocketOwners(r *rootfs.Root, procs []Process, socks []Socket) map[uint64]int {
	want := map[uint64]bool{}
	for _, s := range socks {
		if s.Inode != 0 {
			want[s.Inode] = true
		}
	}
	out := map[uint64]int{}
	if len(want) == 0 {
		return out
	}
	for _, p := range procs {
		if len(out) == len(want) {
			break
		}
		dir := "/proc/" + strconv.Itoa(p.PID) + "/fd"
		ents, err := r.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			l, err := r.ReadLink(dir + "/" + e.Name())
			if err != nil || !strings.HasPrefix(l, "socket:[") {
				continue
			}
			ino, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]"), 10, 64)
			if err != nil || !want[ino] {
				continue
			}
			if _, seen := out[ino]; !seen {
				out[ino] = p.PID
			}
		}
	}
	return out
}

// MemTotalMB reads MemTotal from /proc/meminfo.
func MemTotalMB(r *rootfs.Root) (int64, error) {
	b, err := r.ReadFile("/proc/meminfo", 1<<20)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb / 1024, nil
				}
			}
		}
	}
	return 0, errors.New("/proc/meminfo: no MemTotal line")
}
