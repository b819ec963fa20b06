package portscan

import (
	"context"
	"testing"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/netnstest"
)

// BenchmarkConnectScan connects to all 65,535 ports of a private
// namespace's loopback (four of them open), through the Dialer (each
// connect handed to a thread inside the namespace, which costs a little
// more than the plain dialer) and with the raw engine (its sockets opened
// in the namespace, connected and polled here, as with the plain dialer
// the CLI uses; scripts/bench/ports.sh times that one against nmap).
func BenchmarkConnectScan(b *testing.B) {
	ns := netnstest.New(b)
	for _, a := range []string{"127.0.0.1:22", "127.0.0.1:9443", "127.0.0.1:9999", "127.0.0.1:65535"} {
		serve(b, ns.Listen(b, "tcp", a), closeHandler)
	}
	d := ns.Dialer(b, 128)
	for _, engine := range []string{"dialer", "raw"} {
		b.Run(engine, func(b *testing.B) {
			cs := &connectScanner{dialer: dialOnly{d}, workers: 128, minTimeout: 250 * time.Millisecond, maxTimeout: 1500 * time.Millisecond}
			if engine == "raw" {
				cs.raw = rawEngine(d)
			}
			ports := seq(1, 65535)
			b.ResetTimer()
			for range b.N {
				res, err := cs.scan(context.Background(), "127.0.0.1", ports)
				if err != nil || len(res.open) != 4 {
					b.Fatalf("%+v %v", res.open, err)
				}
			}
			b.ReportMetric(float64(len(ports))*float64(b.N)/b.Elapsed().Seconds(), "ports/s")
		})
	}
}

// dialOnly hides every method of a Dialer but DialContext.
type dialOnly struct{ collect.Dialer }

// BenchmarkClassify classifies a typical mix of server answers.
func BenchmarkClassify(b *testing.B) {
	answers := [][]byte{
		[]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
		mysqlGreeting("8.0.36"),
		[]byte("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n"),
		{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28},
	}
	b.ReportAllocs()
	for range b.N {
		for _, a := range answers {
			classify(probeTLS, a)
		}
	}
}
