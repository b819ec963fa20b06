// Command benchserver is the listener farm of the benchmark scripts: one
// process that opens many TLS, HTTP or bare TCP listeners on the loopback
// addresses and ports it is told, prints "ready N" once every listener is
// open, and serves until killed. It is meant to run inside a network
// namespace the script created, where nothing else listens.
//
//	benchserver -addrs 127.0.10.1-127.0.10.250 -https 9443,8243 -http 9763,8280
//	benchserver -addrs 127.0.0.1 -raw 22,80,443,9443
//	benchserver -addrs 127.0.0.1 -ssh 22 -tls 7443 -silent 5672,61616
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	addrs := flag.String("addrs", "127.0.0.1", "loopback addresses: a list, or a range first-last")
	httpsPorts := flag.String("https", "", "ports serving HTTPS")
	httpPorts := flag.String("http", "", "ports serving HTTP")
	rawPorts := flag.String("raw", "", "ports that accept and close (a bare TCP service)")
	sshPorts := flag.String("ssh", "", "ports that greet with an SSH banner and then read")
	tlsPorts := flag.String("tls", "", "ports serving TLS that say nothing once the handshake is done")
	silentPorts := flag.String("silent", "", "ports that accept and never speak (a tarpit, an idle broker)")
	flag.Parse()

	ips, err := parseAddrs(*addrs)
	if err != nil {
		log.Fatal(err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			log.Fatalf("refusing non-loopback address %s", ip)
		}
	}
	cert, err := selfSigned()
	if err != nil {
		log.Fatal(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "benchserver")
		w.Header().Set("Cache-Control", "no-store")
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(discard{}, "", 0)}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}

	// Every connection accepted, for the scripts to say how many a run
	// cost the servers: printed as "connections N" on SIGUSR1.
	accepted := &atomic.Int64{}
	n := 0
	for _, ip := range ips {
		for _, spec := range []struct {
			ports string
			kind  string
		}{{*httpsPorts, "https"}, {*httpPorts, "http"}, {*rawPorts, "raw"}, {*sshPorts, "ssh"}, {*tlsPorts, "tls"}, {*silentPorts, "silent"}} {
			ports, err := parsePorts(spec.ports)
			if err != nil {
				log.Fatal(err)
			}
			for _, p := range ports {
				raw, err := net.Listen("tcp", net.JoinHostPort(ip.String(), strconv.Itoa(p)))
				if err != nil {
					log.Fatal(err)
				}
				l := countingListener{Listener: raw, n: accepted}
				n++
				switch spec.kind {
				case "https":
					go func() { _ = srv.Serve(tls.NewListener(l, tlsCfg)) }()
				case "http":
					go func() { _ = srv.Serve(l) }()
				case "raw":
					go acceptClose(l)
				case "ssh":
					go acceptServe(l, func(c net.Conn) { _, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6 benchserver\r\n")); drain(c) })
				case "tls":
					go acceptServe(tls.NewListener(l, tlsCfg), func(c net.Conn) {
						if tc, ok := c.(*tls.Conn); ok && tc.Handshake() == nil {
							drain(c)
						}
					})
				case "silent":
					go acceptServe(l, drain)
				}
			}
		}
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	fmt.Printf("ready %d\n", n)
	_ = os.Stdout.Sync()
	for range usr1 {
		fmt.Printf("connections %d\n", accepted.Load())
		_ = os.Stdout.Sync()
	}
}

// countingListener counts the connections it accepts in n.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func acceptClose(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		_ = c.Close()
	}
}

// acceptServe serves each connection of l with serve, then closes it.
func acceptServe(l net.Listener, serve func(net.Conn)) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			serve(c)
		}()
	}
}

// drain reads until the peer closes (or a minute passes), saying nothing.
func drain(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	_, _ = io.Copy(io.Discard, c)
}

func parseAddrs(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := netip.ParseAddr(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = netip.ParseAddr(hi); err != nil {
				return nil, err
			}
		}
		for x := a; x.Compare(b) <= 0; x = x.Next() {
			out = append(out, x)
		}
	}
	return out, nil
}

func parsePorts(s string) ([]int, error) {
	var out []int
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, err
			}
		}
		for p := a; p <= b; p++ {
			out = append(out, p)
		}
	}
	return out, nil
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "benchserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
