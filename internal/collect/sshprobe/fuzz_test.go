package sshprobe

import (
	"bufio"
	"bytes"
	"net"
	"testing"
	"time"
)

// The seed corpora in testdata/fuzz/ hold real messages captured from the
// eval servers (OpenSSH 9.2p1, weak and hardened) and from x/crypto/ssh.

func FuzzParseKexInit(f *testing.F) {
	f.Add(serverKexInit([]string{"curve25519-sha256"}, []string{"ssh-ed25519"}))
	f.Fuzz(func(t *testing.T, p []byte) {
		k, err := parseKexInit(p)
		if err != nil {
			return
		}
		// What parses must survive a round trip.
		k2, err := parseKexInit(k.marshal())
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if len(k2.Kex) != len(k.Kex) || len(k2.HostKey) != len(k.HostKey) {
			t.Fatal("round trip changed the lists")
		}
		for _, l := range [][]string{k.Kex, k.HostKey, k.CiphersCS, k.MACsSC} {
			if len(l) > maxNames {
				t.Fatalf("%d names", len(l))
			}
		}
	})
}

func FuzzReadIdent(f *testing.F) {
	f.Add([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n"))
	f.Add([]byte("hello\r\nSSH-1.99-Cisco-1.25\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := readIdent(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		if len(id.Line) > maxIdentLine || len(id.PreLines) > maxIdentLines {
			t.Fatalf("unbounded: %d, %d", len(id.Line), len(id.PreLines))
		}
	})
}

func FuzzParseHostKey(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + string(make([]byte, 32))))
	f.Fuzz(func(t *testing.T, blob []byte) {
		_, bits, err := parseHostKey(blob)
		if err == nil && bits < 0 {
			t.Fatal("negative size")
		}
	})
}

// FuzzReadPacket feeds arbitrary bytes to the clear-text packet reader.
func FuzzReadPacket(f *testing.F) {
	f.Add(rawPacket([]byte{msgIgnore, 0, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, c := net.Pipe()
		defer a.Close()
		go func() { c.Write(b); c.Close() }()
		a.SetDeadline(time.Now().Add(time.Second))
		tr := newTransport(a, bufio.NewReader(a), nil)
		for i := 0; i < 4; i++ {
			p, err := tr.readPacket()
			if err != nil {
				return
			}
			if len(p) == 0 || len(p) > maxPacket {
				t.Fatalf("payload of %d bytes", len(p))
			}
		}
	})
}
