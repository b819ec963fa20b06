package sshprobe

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/netfail"
	"github.com/rampart-sec/rampart/internal/testenv"
	"github.com/rampart-sec/rampart/internal/testenv/transcript"

	"github.com/rampart-sec/rampart/internal/collect"
)

// badServer listens on a loopback port and runs serve for each connection
// (see testenv.Serve).
func badServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	return testenv.Serve(t, 20*time.Second, serve)
}

// rawPacket frames payload as a clear-text SSH packet.
func rawPacket(payload []byte) []byte {
	pad := 8 - (5+len(payload))%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	b = append(b, byte(pad))
	b = append(b, payload...)
	return append(b, make([]byte, pad)...)
}

func serverKexInit(kex, hostKey []string) []byte {
	k := &kexInit{Kex: kex, HostKey: hostKey,
		CiphersCS: []string{"aes128-ctr"}, CiphersSC: []string{"aes128-ctr"},
		MACsCS: []string{"hmac-sha2-256"}, MACsSC: []string{"hmac-sha2-256"},
		CompCS: []string{"none"}, CompSC: []string{"none"}, LangCS: []string{}, LangSC: []string{}}
	return k.marshal()
}

// drain reads and discards what the client sends.
func drain(c net.Conn) { io.Copy(io.Discard, c) }

// TestBadServers: every misbehaving server ends in a clear error in
// bounded time, never a hang or a panic.
func TestBadServers(t *testing.T) {
	goodKI := serverKexInit([]string{"curve25519-sha256"}, []string{"ssh-ed25519"})
	cases := []struct {
		name  string
		serve func(net.Conn)
		want  string // substring of the error, or of AuthError/HostKeysError
		cause netfail.Reason
	}{
		{"garbage", func(c net.Conn) {
			b := make([]byte, 4096)
			rand.Read(b)
			b[0] = 0x16
			c.Write(b)
			drain(c)
		}, "not an SSH server", netfail.ProtocolMismatch},
		{"silent", func(c net.Conn) { drain(c) }, "timeout", netfail.Timeout},
		{"endless line", func(c net.Conn) {
			c.Write([]byte("SSH-2.0-" + strings.Repeat("A", 10000)))
			drain(c)
		}, "longer than 255", netfail.TooLarge},
		{"endless pre-lines", func(c net.Conn) {
			for i := 0; i < 100; i++ {
				c.Write([]byte("hello " + strconv.Itoa(i) + "\r\n"))
			}
			drain(c)
		}, "no identification string", netfail.ProtocolMismatch},
		{"ssh1 only", func(c net.Conn) {
			c.Write([]byte("SSH-1.5-OldServer\r\n"))
			drain(c)
		}, "protocol 1.5", netfail.ProtocolMismatch},
		{"never sends KEXINIT", func(c net.Conn) {
			c.Write([]byte("SSH-2.0-Stuck\r\n"))
			drain(c)
		}, "KEXINIT", netfail.Timeout},
		{"huge packet length", func(c net.Conn) {
			c.Write([]byte("SSH-2.0-Huge\r\n"))
			c.Write([]byte{0x7f, 0xff, 0xff, 0xff, 4})
			drain(c)
		}, "packet length", netfail.TooLarge},
		{"truncated KEXINIT", func(c net.Conn) {
			c.Write([]byte("SSH-2.0-Trunc\r\n"))
			c.Write(rawPacket(goodKI[:40]))
			drain(c)
		}, "malformed KEXINIT", netfail.ProtocolMismatch},
		{"ignore flood", func(c net.Conn) {
			c.Write([]byte("SSH-2.0-Chatty\r\n"))
			for i := 0; i < 200; i++ {
				if _, err := c.Write(rawPacket([]byte{msgIgnore, 0, 0, 0, 0})); err != nil {
					return
				}
			}
			drain(c)
		}, "IGNORE", netfail.ProtocolMismatch},
		{"disconnects", func(c net.Conn) {
			c.Write([]byte("SSH-2.0-Bye\r\n"))
			d := appendU32([]byte{msgDisconnect}, 2)
			d = appendString(d, []byte("go away\x1b[2J"))
			d = appendString(d, nil)
			c.Write(rawPacket(d))
		}, "go away?[2J", netfail.ClosedEarly},
		{"never finishes key exchange", func(c net.Conn) {
			c.Write([]byte("SSH-2.0-HalfWay\r\n"))
			c.Write(rawPacket(goodKI))
			drain(c)
		}, "KEX_ECDH_REPLY", netfail.Timeout},
		{"garbage reply", func(c net.Conn) {
			c.Write([]byte("SSH-2.0-Bad\r\n"))
			c.Write(rawPacket(goodKI))
			buf := make([]byte, 4096)
			c.Read(buf)
			c.Write(rawPacket([]byte{msgKexDHReply, 0xff, 0xff, 0xff, 0xff, 1, 2, 3}))
			drain(c)
		}, "malformed KEX_ECDH_REPLY", netfail.ProtocolMismatch},
		{"fixed group, f = 1", func(c net.Conn) {
			c.Write([]byte("SSH-2.0-WeakF\r\n"))
			c.Write(rawPacket(serverKexInit([]string{"diffie-hellman-group14-sha256"}, []string{"ssh-ed25519"})))
			buf := make([]byte, 4096)
			c.Read(buf)
			r := appendString([]byte{msgKexDHReply}, []byte("\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20"+strings.Repeat("k", 32)))
			r = appendMpint(r, big.NewInt(1))
			r = appendString(r, []byte("sig"))
			c.Write(rawPacket(r))
			drain(c)
		}, "DH value out of range", netfail.ProtocolMismatch},
		{"fixed group, truncated reply", func(c net.Conn) {
			c.Write([]byte("SSH-2.0-Short\r\n"))
			c.Write(rawPacket(serverKexInit([]string{"diffie-hellman-group16-sha512"}, []string{"ssh-ed25519"})))
			buf := make([]byte, 4096)
			c.Read(buf)
			c.Write(rawPacket([]byte{msgKexDHReply, 0, 0, 0, 2, 'k', 's', 0, 0}))
			drain(c)
		}, "malformed KEXDH_REPLY", netfail.ProtocolMismatch},
	}
	c := New(Options{Timeout: 2 * time.Second, SniffTimeout: time.Second})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each server is recorded too: its replay runs the probe
			// through the same conversation at once, timeouts included.
			transcript.Run(t, transcript.Case{
				Name: "bad-" + strings.NewReplacer(" = ", "-", ", ", "-", " ", "-").Replace(tc.name),
				Live: func(t *testing.T) transcript.Target { return transcript.Target{Addr: badServer(t, tc.serve)} },
				Check: func(t *testing.T, env *collect.Env, tg transcript.Target) {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					f, err := c.Collect(ctx, endpoint(t, "ssh://"+tg.Addr), env)
					var msg, cause string
					switch {
					case err != nil:
						msg, cause = err.Error(), collect.Failure(err).Cause
					case f != nil && f.SSH != nil:
						msg, cause = f.SSH.AuthError+" | "+f.SSH.HostKeysError, cmp.Or(f.SSH.AuthCause, f.SSH.HostKeysCause)
					}
					if !strings.Contains(msg, tc.want) {
						t.Fatalf("got %q, want it to mention %q", msg, tc.want)
					}
					if cause != string(tc.cause) {
						t.Errorf("failure cause %q, want %q (%s)", cause, tc.cause, msg)
					}
					if ctx.Err() != nil {
						t.Fatal("not bounded by the collector's timeouts")
					}
				},
			}, *update)
		})
	}
}

// TestUnknownSchemeNotSSH: with no scheme, a server that does not speak
// SSH first (or says something else) is not applicable, not an error.
func TestUnknownSchemeNotSSH(t *testing.T) {
	c := New(Options{Timeout: 2 * time.Second, SniffTimeout: 300 * time.Millisecond})
	for name, serve := range map[string]func(net.Conn){
		"silent": func(c net.Conn) { drain(c) },
		"http":   func(c net.Conn) { c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")); drain(c) },
		"binary": func(c net.Conn) { c.Write([]byte{0x16, 0x03, 0x01, 0, 0}); drain(c) },
	} {
		t.Run(name, func(t *testing.T) {
			addr := badServer(t, serve)
			f, err := c.Collect(context.Background(), endpoint(t, addr), &collect.Env{})
			if err != nil || f != nil {
				t.Fatalf("got %v, %v; want nil, nil", f, err)
			}
		})
	}
}

// TestContextCancelStopsProbe: cancelling the context ends a probe of a
// server that never answers.
func TestContextCancelStopsProbe(t *testing.T) {
	// The probe is cancelled once it is under way: the server has its
	// identification line, then never answers.
	identified := make(chan struct{}, 1)
	addr := badServer(t, func(c net.Conn) {
		c.Write([]byte("SSH-2.0-Slow\r\n"))
		if line, err := bufio.NewReader(c).ReadString('\n'); err == nil && strings.HasPrefix(line, "SSH-2.0-") {
			select {
			case identified <- struct{}{}:
			default:
			}
		}
		drain(c)
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-identified; cancel() }()
	_, err := New(Options{Timeout: time.Minute}).Collect(ctx, endpoint(t, "ssh://"+addr), &collect.Env{})
	if err == nil {
		t.Fatal("want an error")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}
