package procfs

import (
	"net/netip"
	"os"
	"testing"
)

func TestParseNetTCP(t *testing.T) {
	text := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000   998        0 0 1 0000000000000000 20 4 30 10 -1
   2: 00000000:0FA0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 100 0 0 10 0
   3: 0100007F:0019 00000000:0000 0A 0000
   4: ZZZZ:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9 1
`
	socks, bad := ParseNetTCP([]byte(text), "/proc/net/tcp")
	if len(socks) != 2 || bad != 2 {
		t.Fatalf("socks %+v bad %d", socks, bad)
	}
	if socks[0].Addr != netip.MustParseAddr("127.0.0.1") || socks[0].Port != 8080 || socks[0].UID != 998 || socks[0].Inode != 4242 {
		t.Errorf("%+v", socks[0])
	}
	if socks[1].Addr != netip.MustParseAddr("0.0.0.0") || socks[1].Port != 4000 {
		t.Errorf("%+v", socks[1])
	}
	v6 := "  sl  local_address                         remote_address                        st\n" +
		"   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0\n" +
		"   1: 0000000000000000FFFF00000100007F:2328 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 78 1 0000000000000000 100 0 0 10 0\n"
	socks, bad = ParseNetTCP([]byte(v6), "/proc/net/tcp6")
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

func FuzzParseNetTCP(f *testing.F) {
	if b, err := os.ReadFile("/proc/net/tcp"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		socks, _ := ParseNetTCP(b, "/proc/net/tcp")
		for _, s := range socks {
			if s.Port < 0 || s.Port > 65535 || !s.Addr.IsValid() {
				t.Fatalf("%+v", s)
			}
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("Name:\tjava\nPPid:\t1\nUid:\t998\t998\t998\t998\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Process
		parseStatus(b, &p)
	})
}
