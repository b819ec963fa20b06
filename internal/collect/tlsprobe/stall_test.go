package tlsprobe

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/tlswire"
)

// firstSuite is the first suite h offers that is neither a signalling
// value nor a TLS 1.3 suite, and the version to answer it with (0, 0 when
// there is none).
func firstSuite(h parsedHello) (tlswire.Version, uint16) {
	for _, s := range h.suites {
		if s != tlswire.SuiteRenegotiationSCSV && s != tlswire.SuiteFallbackSCSV && s>>8 != 0x13 {
			return min(tlswire.Version(h.version), tlswire.VersionTLS12), s
		}
	}
	return 0, 0
}

// startFlight is a ServerHello for version v choosing suite, with an empty
// renegotiation_info, and the first bytes of a Certificate message that
// never ends.
func startFlight(v tlswire.Version, suite uint16) []byte {
	body := binary.BigEndian.AppendUint16(nil, uint16(v))
	body = append(body, make([]byte, 32)...)
	body = append(body, 0) // no session ID
	body = binary.BigEndian.AppendUint16(body, suite)
	body = append(body, 0)                         // no compression
	body = append(body, 0, 5, 0xff, 0x01, 0, 1, 0) // renegotiation_info
	msg := append([]byte{tlswire.HSServerHello, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	out := tlswire.AppendRecords(nil, tlswire.TypeHandshake, v, msg)
	// Certificate, announcing 1000 bytes in a record of 1004.
	return append(out, tlswire.TypeHandshake, byte(v>>8), byte(v), 0x03, 0xec, tlswire.HSCertificate, 0, 0x03, 0xe8)
}

// TestServerHelloThenStall: a server that answers every hello with a
// ServerHello and then hangs, or trickles the rest of its flight a byte at
// a time, ends the probe in an error that names the stall, after one
// handshake timeout, instead of holding the scan (each of hundreds of
// hellos waiting out the timeout) until the scan's own deadline.
func TestServerHelloThenStall(t *testing.T) {
	for name, after := range map[string]func(net.Conn){
		"hangs": func(c net.Conn) { _, _ = io.Copy(io.Discard, c) },
		"trickles": func(c net.Conn) {
			tick := time.NewTicker(100 * time.Millisecond) // a slow peer, not a wait
			defer tick.Stop()
			for {
				if _, err := c.Write([]byte{0}); err != nil {
					return
				}
				<-tick.C
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			port := rawServer(t, func(c net.Conn) {
				_, h, ok := readClientHello(c)
				v, suite := firstSuite(h)
				if !ok || suite == 0 {
					return
				}
				if _, err := c.Write(startFlight(v, suite)); err != nil {
					return
				}
				after(c)
			})
			// The scan's own deadline is far off; the probe must end long
			// before it, on the handshake timeout.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			c := New(Options{HandshakeTimeout: time.Second, ConnectTimeout: time.Second})
			f, err := c.Collect(ctx, endpoint("127.0.0.1", port, ""), &collect.Env{})
			if err == nil {
				t.Fatalf("no error; facts %+v", f)
			}
			if !errors.Is(err, errStalled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
				t.Fatalf("error %q: want the stall, not the scan's deadline", err)
			}
			// Whichever handshake stalled first (an enumeration hello or the
			// renegotiation test's full handshake) names the ServerHello.
			if !strings.Contains(err.Error(), "ServerHello") || !strings.Contains(err.Error(), "1s handshake timeout") {
				t.Errorf("error %q does not say what stalled", err)
			}
		})
	}
}
