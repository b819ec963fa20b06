package procfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rampart-sec/rampart/internal/collect/hostos/rootfs"
)

// netTCPSample and netTCP6Sample are /proc/net/tcp and tcp6 as Linux
// writes them, with a connection, a truncated line and a bad address.
const netTCPSample = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000   998        0 0 1 0000000000000000 20 4 30 10 -1
   2: 00000000:0FA0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 100 0 0 10 0
   3: 0100007F:0019 00000000:0000 0A 0000
   4: ZZZZ:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9 1
`

const netTCP6Sample = "  sl  local_address                         remote_address                        st\n" +
	"   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0\n" +
	"   1: 0000000000000000FFFF00000100007F:2328 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 78 1 0000000000000000 100 0 0 10 0\n"

func TestParseNetTCP(t *testing.T) {
	socks, bad := ParseNetTCP([]byte(netTCPSample), "/proc/net/tcp")
	if len(socks) != 2 || bad != 2 {
		t.Fatalf("socks %+v bad %d", socks, bad)
	}
	if socks[0].Addr != netip.MustParseAddr("127.0.0.1") || socks[0].Port != 8080 || socks[0].UID != 998 || socks[0].Inode != 4242 {
		t.Errorf("%+v", socks[0])
	}
	if socks[1].Addr != netip.MustParseAddr("0.0.0.0") || socks[1].Port != 4000 {
		t.Errorf("%+v", socks[1])
	}
	socks, bad = ParseNetTCP([]byte(netTCP6Sample), "/proc/net/tcp6")
	if len(socks) != 2 || bad != 0 || socks[0].Addr != netip.MustParseAddr("::1") || socks[0].Port != 22 {
		t.Fatalf("v6 %+v bad %d", socks, bad)
	}
	if !socks[1].Addr.Unmap().IsLoopback() || socks[1].Port != 9000 {
		t.Errorf("v4-mapped %+v", socks[1])
	}
}

func TestParseCmdlineAndPasswd(t *testing.T) {
	if got := ParseCmdline([]byte("java\x00-Xmx1g\x00\x00")); len(got) != 2 || got[1] != "-Xmx1g" {
		t.Errorf("%q", got)
	}
	if got := ParseCmdline(nil); got != nil {
		t.Errorf("%q", got)
	}
	u := ParsePasswd([]byte("root:x:0:0:root:/root:/bin/bash\nbad line\nwso2:x:998:998::/opt/wso2:/usr/sbin/nologin\nx:x:notanumber:0::/:/bin/sh\n"))
	if len(u) != 2 || u[998].Shell != "/usr/sbin/nologin" {
		t.Errorf("%+v", u)
	}
}

// formatTCPLine writes s as a line of /proc/net/tcp or tcp6 in LISTEN
// state: the address as the kernel's 32-bit words in little-endian order,
// the port big-endian.
func formatTCPLine(s Socket) string {
	raw := s.Addr.AsSlice()
	for i := 0; i < len(raw); i += 4 {
		w := binary.BigEndian.Uint32(raw[i:])
		binary.LittleEndian.PutUint32(raw[i:], w)
	}
	return fmt.Sprintf("   0: %X:%04X %s:0000 0A 00000000:00000000 00:00000000 00000000 %5d        0 %d 1 0000000000000000 100 0 0 10 0\n",
		raw, s.Port, strings.Repeat("0", 2*len(raw)), s.UID, s.Inode)
}

// FuzzParseNetTCP: every socket read is a valid address and port, lines
// read and lines counted as bad never exceed the lines given, and a socket
// written back as a /proc/net/tcp line reads as the same socket.
func FuzzParseNetTCP(f *testing.F) {
	f.Add([]byte(netTCPSample))
	f.Add([]byte(netTCP6Sample))
	f.Fuzz(func(t *testing.T, b []byte) {
		socks, bad := ParseNetTCP(b, "/proc/net/tcp")
		lines := 0
		for _, l := range bytes.Split(b, []byte{'\n'}) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
			}
		}
		if len(socks)+bad > lines {
			t.Fatalf("%d sockets and %d bad lines out of %d lines", len(socks), bad, lines)
		}
		for _, s := range socks {
			if s.Port < 0 || s.Port > 65535 || !s.Addr.IsValid() || s.File != "/proc/net/tcp" {
				t.Fatalf("%+v", s)
			}
			line := formatTCPLine(s)
			again, bad := ParseNetTCP([]byte(line), s.File)
			if bad != 0 || len(again) != 1 || again[0] != s {
				t.Fatalf("%+v written as %q reads as %+v (%d bad)", s, line, again, bad)
			}
		}
	})
}

// FuzzParseStatus: the fields read are the ones the text holds: the name
// is a Name: line's value, the uid and parent pid are numbers written in
// it, and nothing else of the process changes.
func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("Name:\tjava\nUmask:\t0022\nState:\tS (sleeping)\nPPid:\t1\nUid:\t998\t998\t998\t998\nGid:\t998\t998\t998\t998\n"))
	f.Add([]byte("Name:\tkworker/0:1H-kblockd\nPPid:\t2\nUid:\t0\t0\t0\t0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := Process{PID: 42, UID: -1, Args: []string{"x"}, Exe: "/x"}
		parseStatus(b, &p)
		if p.PID != 42 || len(p.Args) != 1 || p.Exe != "/x" {
			t.Fatalf("fields parseStatus does not read changed: %+v", p)
		}
		if p.Comm != "" && !bytes.Contains(b, []byte(p.Comm)) {
			t.Fatalf("name %q is not in the text", p.Comm)
		}
		if p.UID != -1 && !bytes.Contains(b, []byte(strconv.Itoa(p.UID))) {
			t.Fatalf("uid %d is not in the text", p.UID)
		}
		if p.PPID != 0 && !bytes.Contains(b, []byte(strconv.Itoa(p.PPID))) {
			t.Fatalf("ppid %d is not in the text", p.PPID)
		}
	})
}

// errFS answers every Open with err.
type errFS struct{ err error }

func (e errFS) Open(string) (fs.File, error) { return nil, e.err }

// A missing /etc/passwd is an empty table however the file system says
// "not there" (errors.Is, not the text of the message: an overlay's
// wrapped fs.ErrNotExist reads "file does not exist"); any other error
// stays an error, whatever its text.
func TestPasswdMissingIsEmpty(t *testing.T) {
	for _, c := range []struct {
		name    string
		err     error
		missing bool
	}{
		{"ENOENT", &fs.PathError{Op: "open", Path: "etc/passwd", Err: syscall.ENOENT}, true},
		{"wrapped ErrNotExist", fmt.Errorf("layer 2 of 3: %w", fs.ErrNotExist), true},
		{"permission denied", &fs.PathError{Op: "open", Path: "etc/passwd", Err: syscall.EACCES}, false},
		{"I/O error that mentions a missing file", &fs.PathError{Op: "open", Path: "etc/passwd", Err: errors.New("input/output error (no such file handle on the server)")}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			u, err := Passwd(rootfs.New(errFS{c.err}, "/image"))
			if c.missing && (err != nil || u == nil || len(u) != 0) {
				t.Fatalf("users %v, error %v; want an empty table", u, err)
			}
			if !c.missing && err == nil {
				t.Fatalf("users %v and no error; want the error", u)
			}
		})
	}
}
