package portscan

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/rampart-sec/rampart/internal/collect"
	"github.com/rampart-sec/rampart/internal/netfail"
)

// identifier names the service on open ports of one address. Every
// connection goes through the probe's network (the Env's dialer and the
// per-host budget, keyed by the address); each read has a deadline, and no
// answer is read past maxBanner bytes.
type identifier struct {
	net          *collect.Net
	ip           string
	serverName   string // SNI for TLS when the target was named by host name
	hostHeader   string // Host header value for HTTP (without the port)
	userAgent    string
	bannerWait   time.Duration
	probeTimeout time.Duration
}

// defaultOrder is the order probes are tried in when the port gives no
// hint: TLS first (a plain HTTP server answers a ClientHello with a 400,
// which identifies it too, while an HTTPS server answers a plain request
// with an HTTP error page), then the rest.
var defaultOrder = []string{probeTLS, probeHTTP, probeJRMI, probeLDAP, probePostgres, probeHazelcast, probeAMQP}

// probeOrder puts the hinted probe first.
func probeOrder(hint string) []string {
	if hint == probeNone {
		return defaultOrder
	}
	out := []string{hint}
	for _, p := range defaultOrder {
		if p != hint {
			out = append(out, p)
		}
	}
	return out
}

// outcome of one probe connection.
type outcome int

const (
	outMatched outcome = iota // identified
	outSpoke                  // the server spoke first, in a protocol we do not know: stop
	outWrapped                // the server closed at once without a word: stop
	outNoMatch                // this probe got no answer it knows: try the next
	outTLSHint                // an HTTP answer says the port speaks TLS
)

// identify names the service on port. It tries the probes in turn, each
// on a fresh connection, and stops at the first that knows the answer.
func (d *identifier) identify(ctx context.Context, port int) identity {
	hint := hintedProbe(port)
	order := slices.Clone(probeOrder(hint))
	var banner string
	for i := 0; i < len(order); i++ {
		if ctx.Err() != nil {
			break
		}
		id, raw, out := d.attempt(ctx, port, order[i], i == 0 && hint == probeNone)
		switch out {
		case outMatched:
			if id.service == svcHTTP && order[i] != probeHTTP {
				// An HTTP error page in answer to another protocol: ask
				// properly, for the real Server header.
				if id2, _, out2 := d.attempt(ctx, port, probeHTTP, false); out2 == outMatched && id2.service == svcHTTP {
					return id2
				}
			}
			return id
		case outSpoke, outWrapped:
			return identity{service: svcUnknown, banner: cleanBanner(string(raw))}
		case outTLSHint:
			if j := slices.Index(order, probeTLS); j > i {
				order = append(order[:j], order[j+1:]...)
				order = slices.Insert(order, i+1, probeTLS)
			}
		}
		if banner == "" && len(raw) > 0 {
			banner = cleanBanner(string(raw))
		}
	}
	return identity{service: svcUnknown, banner: banner}
}

// attempt opens one connection, optionally waits for the server to speak
// first, then sends probe and classifies the answer.
func (d *identifier) attempt(ctx context.Context, port int, probe string, waitBanner bool) (identity, []byte, outcome) {
	label := fmt.Sprintf("identify port %d: %s", port, probe)
	if waitBanner {
		label += " after a banner wait"
	}
	conn, err := d.net.Dial(ctx, collect.DialSpec{Host: d.ip, Addr: net.JoinHostPort(d.ip, strconv.Itoa(port)),
		ConnectTimeout: d.probeTimeout, Label: label})
	if err != nil {
		return identity{}, nil, outNoMatch
	}
	defer conn.Close()

	if waitBanner {
		conn.SetTimeout(d.bannerWait)
		id, raw, v, err := readAnswer(conn, probeNone, nil)
		switch {
		case v == matched:
			return id, raw, outMatched
		case len(raw) > 0:
			return identity{}, raw, outSpoke
		case err != nil && !netfail.IsTimeout(err):
			return identity{}, nil, outWrapped
		}
	}
	if probe == probeTLS {
		return d.probeTLS(conn, port)
	}
	conn.SetTimeout(d.probeTimeout)
	if _, err := conn.Write(d.request(probe, port)); err != nil {
		return identity{}, nil, outNoMatch
	}
	id, raw, v, _ := readAnswer(conn, probe, nil)
	if v == matched {
		if id.service == svcHTTP && plainToTLSPort(raw) {
			return identity{}, raw, outTLSHint
		}
		return id, raw, outMatched
	}
	return identity{}, raw, outNoMatch
}

// request is what a probe sends.
func (d *identifier) request(probe string, port int) []byte {
	switch probe {
	case probeHTTP:
		host := net.JoinHostPort(d.hostHeader, strconv.Itoa(port))
		return []byte("GET / HTTP/1.0\r\nHost: " + host + "\r\nUser-Agent: " + d.userAgent + "\r\nAccept: */*\r\nConnection: close\r\n\r\n")
	case probeJRMI:
		return jrmiRequest
	case probeLDAP:
		return ldapRootDSESearch()
	case probePostgres:
		return postgresSSLRequest
	case probeHazelcast:
		return hazelcastMemberHeader
	case probeAMQP:
		return amqpHeader
	}
	return nil
}

// probeTLS runs a TLS handshake (any version, any suite, no certificate
// checks: it only asks whether the port speaks TLS) and then HTTP, or LDAP
// on the LDAPS ports, inside it. A failed handshake whose server answered
// with a TLS record is still TLS; one that answered in another protocol
// (an SSH banner, an HTTP 400) is classified by that answer.
func (d *identifier) probeTLS(conn *collect.Conn, port int) (identity, []byte, outcome) {
	conn.SetTimeout(d.probeTimeout)
	rc := &recordingConn{Conn: conn}
	tc := tls.Client(rc, collect.InspectingTLS(d.serverName))
	if err := tc.Handshake(); err != nil {
		id, raw, v, _ := readAnswer(conn, probeTLS, rc.buf)
		if v == matched {
			return id, raw, outMatched
		}
		return identity{}, raw, outNoMatch
	}
	inner := probeHTTP
	if port == 636 || port == 10636 {
		inner = probeLDAP
	}
	version := tls.VersionName(tc.ConnectionState().Version)
	conn.SetTimeout(d.probeTimeout)
	if _, err := tc.Write(d.request(inner, port)); err == nil {
		id, _, v, _ := readAnswer(tc, inner, nil)
		if v == matched {
			switch id.service {
			case svcHTTP:
				return identity{service: svcHTTPS, banner: id.banner}, nil, outMatched
			case svcLDAP:
				return identity{service: svcLDAPS, banner: version}, nil, outMatched
			}
		}
	}
	return identity{service: svcTLS, banner: version}, nil, outMatched
}

// readAnswer reads until the bytes classify (or cannot), the deadline
// set on conn passes, the peer closes, or maxBanner bytes came.
func readAnswer(conn io.Reader, probe string, buf []byte) (identity, []byte, verdict, error) {
	tmp := make([]byte, 2048)
	for {
		if len(buf) > 0 {
			if id, v := classify(probe, buf); v != needMore || len(buf) >= maxBanner {
				return id, buf, v, nil
			}
		}
		n, err := conn.Read(tmp)
		buf = append(buf, tmp[:min(n, maxBanner-len(buf))]...)
		if err != nil {
			id, v := classify(probe, buf)
			if v == needMore {
				v = noMatch
			}
			return id, buf, v, err
		}
	}
}

// recordingConn keeps the first bytes the server sent, so a failed TLS
// handshake can still say what the server spoke.
type recordingConn struct {
	net.Conn
	buf []byte
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	if room := maxBanner - len(r.buf); room > 0 && n > 0 {
		r.buf = append(r.buf, p[:min(n, room)]...)
	}
	return n, err
}
